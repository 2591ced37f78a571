"""Desired vs live: normalisation, ignoreDifferences, server-side dry-run prediction, comparison."""
