"""The Textual console: screens, widgets and modals over the engine's snapshots.

Start it with ``gitops_tui.ui.app.run(engine)`` or ``GitOpsApp(engine).run()``.
"""
