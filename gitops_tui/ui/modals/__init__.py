"""Dialogs over a screen (sync, prune, confirm, command line)."""
