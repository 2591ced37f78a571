"""Resource health as Argo CD assesses it: a dispatcher and one module per family of kinds."""
