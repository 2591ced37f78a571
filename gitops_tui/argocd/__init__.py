"""The console over an installed Argo CD: Argo CD's own verdicts, Argo CD does the work.

A second implementation of ``EngineAPI`` beside the local engine. It watches the
``Application`` and ``AppProject`` objects of one namespace through the Kubernetes
API and shows what Argo CD's controller wrote in them (``status.sync``,
``status.health``, conditions, ``operationState``, history, resources); actions
are written the way Argo CD's API server writes them (the ``operation`` field, the
refresh annotation, the Terminating phase). Nothing is ever applied to the
cluster by this package: Argo CD applies.

Modules: ``status`` (Application JSON -> snapshot types, pure), ``operations``
(the patches of sync / refresh / terminate / rollback and a preview from
``status.resources``, pure), ``tree`` (children of managed objects from the live
cluster, and health computed locally where Argo CD did not persist it),
``actions`` (sending those patches: conflicts, refusals, re-asserting a terminate),
``watch`` (list-then-watch with reconnects), ``backend`` (the ``EngineAPI``
implementation: watches, actions, read-only). ``gitops_tui.argocd_cli`` wires
``--argocd [NAMESPACE]`` into the command line (outside this package: the config
loader it uses is not headless).

Headless: no textual, no UI imports (import-linter holds this).
"""
