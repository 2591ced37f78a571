"""gitops-tui: a keyboard-driven terminal console for GitOps on Kubernetes."""

__version__ = "0.1.0"
