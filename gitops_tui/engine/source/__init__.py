"""Desired state: Git mirrors, rendering (plain YAML, Kustomize, Helm), the manifest cache, tool lookup."""
