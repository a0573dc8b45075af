from .controllers import Controller
class DeploymentController(Controller):
    name = "deployment"
    def sync(self, key): pass
class ReplicaSetController(Controller):
    name = "replicaset"
    def sync(self, key): pass
