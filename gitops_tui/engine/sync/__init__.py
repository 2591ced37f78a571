"""Changing the cluster: the plan, the sync run (waves, hooks, prune), ownership, history.

* ``plan.py``: what a sync would do, in order (``SyncPlan``, ``build_plan``);
* ``run.py``: the sync run state machine (``run_sync``, ``SyncSettings``): dry run
  gate, (phase, wave) groups, hooks, SyncFail, terminate; its parts:
  ``settings.py`` (options), ``work.py`` (a concrete task, stop signals, the poll),
  ``prepare.py``, ``progress.py`` (results), ``dry_run.py``, ``apply.py``,
  ``prune.py``, ``health_wait.py``, ``messages.py``;
* ``kubeops.py``: every cluster call a run makes, as a protocol (fakes in unit tests);
* ``hooks.py``, ``ownership.py``, ``takeover.py``: what a hook may replace, what a
  prune may delete, whose fields an apply takes;
* ``history.py``: the operation history.
"""
