"""Full screens: app list, app view, history, help."""
