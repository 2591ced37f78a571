"""The Textual console: screens, widgets and modals over the engine's snapshots."""
