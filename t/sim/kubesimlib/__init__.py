"""kubesim: a Kubernetes API server emulator with controllers and a pod runtime, for tests."""
