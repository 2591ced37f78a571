"""The live side: Kubernetes clients, discovery, the watch-based cache, destinations, tracking."""
