"""The local Kubernetes sandbox: tools built from Go modules and a supervised control plane."""
