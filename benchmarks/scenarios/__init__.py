"""The benchmark scenarios, one module per family."""
