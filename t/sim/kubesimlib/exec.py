class ExecServer:
    def __init__(self, srv): self.srv = srv
