from .controllers import Controller
class StatefulSetController(Controller):
    name = "statefulset"
    def sync(self, key): pass
