class Faults:
    def __init__(self, srv): self.srv = srv
    async def before(self, req, verb, path): pass
