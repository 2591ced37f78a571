"""Applications and AppProjects: the model, validation and loading from files.

``application`` (the value types), ``parse`` (a manifest into them, validated as Argo CD
does; ``source_spec`` checks the sources, ``spec_fields`` the typed field reads both
share), ``loading`` (files and directories), ``ignore_rules`` (ignoreDifferences rules),
``projects`` (AppProjects).
"""
