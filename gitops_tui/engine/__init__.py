"""The headless GitOps core. Never imports textual (checked by import-linter and a test)."""
