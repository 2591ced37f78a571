"""Desired vs live: normalisation, ignoreDifferences, server-side dry-run prediction, comparison.

``resource_diff`` (one resource: ``diff_resource``, ``ResourceDiff`` and its text) runs
``normalize`` (server fields, JSON round trip, Secret ``stringData``, Role rules) ->
``ignore`` (ignoreDifferences, over ``json_paths``) -> ``masking`` (Secret values);
``compare`` compares a whole Application.
"""
