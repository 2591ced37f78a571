"""The Engine facade and what drives it: scheduling, snapshots, operations, automation, watchers."""
