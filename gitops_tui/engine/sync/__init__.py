"""Changing the cluster: the plan, the sync run (waves, hooks, prune), ownership, history."""
