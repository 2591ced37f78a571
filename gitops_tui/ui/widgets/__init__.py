"""Reusable widgets: keyed tables, header, resource tree, diff and operation views."""
