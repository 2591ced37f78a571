"""Writing one object of a sync: server-side apply, replace, or client-side ``kubectl apply``.

``Applier.write`` is the one place an object is sent, for the dry run
(``dryRun=All`` / ``--dry-run=server``) and for real, the way its sync options say:

* ``Replace=true``: a PUT (create when missing);
* ``ServerSideApply=false``: ``kubectl apply -f -`` (client-side), found with
  ``find_tool``; its stderr is reduced to the reason (``messages.kubectl_error``);
* otherwise server-side apply (field manager ``gitops-tui``), forcing conflicts
  as the settings and ``Force=true`` say (``settings.force``);
* ``Validate=false``: field validation ``Ignore`` instead of ``Strict``.

``apply_one`` is the real apply of a task: it records the result, notes the uid of
a hook it created, fails an object that is being deleted, and waits (bounded) until
a CRD it applied is Established and served, so later tasks can use the new kind.
"""

from __future__ import annotations

import json
import logging
import subprocess
import threading
import time

from gitops_tui.engine.model import Manifest, ResourceKey
from gitops_tui.engine.snapshot import ResultCode
from gitops_tui.engine.source.tools import find_tool
from gitops_tui.engine.sync import settings as opts
from gitops_tui.engine.sync.kubeops import KubeOps
from gitops_tui.engine.sync.messages import kubectl_error
from gitops_tui.engine.sync.progress import Progress
from gitops_tui.engine.sync.settings import SyncSettings
from gitops_tui.engine.sync.work import TaskError, Work, crd_names, is_crd, pause, uid

log = logging.getLogger(__name__)

KUBECTL_TIMEOUT_S = 60.0
CRD_READY_TIMEOUT_S = 60.0


class Applier:
    def __init__(
        self, conn: KubeOps, settings: SyncSettings, progress: Progress, cancel: threading.Event
    ) -> None:
        self.conn = conn
        self.s = settings
        self.progress = progress
        self.cancel = cancel

    def write(self, work: Work, *, dry_run: bool) -> Manifest:
        """Apply ``work.obj`` the way its options say (server-side, replace, or kubectl)."""
        obj = work.obj
        assert obj is not None
        if opts.is_true(work, self.s, "Replace"):
            return self.conn.replace(obj, dry_run=dry_run)
        validate = not opts.is_false(work, self.s, "Validate")
        if opts.is_false(work, self.s, "ServerSideApply"):
            return self.kubectl_apply(work, dry_run=dry_run, validate=validate)
        return self.conn.apply(
            obj,
            dry_run=dry_run,
            force=opts.force(work, self.s),
            field_validation="Strict" if validate else "Ignore",
        )

    def apply_one(self, work: Work) -> str | None:
        self.progress.set_result(work, ResultCode.RUNNING, "applying")
        result = self.write(work, dry_run=False)
        if work.is_hook:
            work.created_uid = uid(result)
        verb = "created" if work.task.live is None else "configured"
        if opts.is_true(work, self.s, "Replace"):
            verb = "replaced" if work.task.live is not None else "created"
        if opts.is_false(work, self.s, "ServerSideApply"):
            verb += " (client-side apply)"
        if (result.get("metadata") or {}).get("deletionTimestamp"):
            # applied to an object that is being deleted (its namespace, or someone):
            # it is going away, so this sync cannot have succeeded
            return f"{verb}, but it is being deleted (it has a deletionTimestamp)"
        if is_crd(work.key) and work.obj is not None:
            self.await_crd(work.obj)
        if not work.is_hook:
            self.progress.set_result(work, ResultCode.SYNCED, verb)
        else:
            self.progress.set_result(work, ResultCode.RUNNING, f"{verb}, running")
        return None

    def kubectl_apply(self, work: Work, *, dry_run: bool, validate: bool) -> Manifest:
        """Client-side ``kubectl apply -f -`` (``ServerSideApply=false``)."""
        kubectl = find_tool("kubectl")
        if kubectl is None:
            raise TaskError(
                "ServerSideApply=false needs kubectl for a client-side apply, and it was not "
                "found (put it on PATH, or drop the option to use server-side apply)"
            )
        argv = [str(kubectl), "apply", "-f", "-", "-o", "json", "--request-timeout=30s"]
        target = self.conn.target
        if target.kubeconfig is not None:
            argv.append(f"--kubeconfig={target.kubeconfig}")
        if target.context:
            argv.append(f"--context={target.context}")
        argv.append("--validate=strict" if validate else "--validate=false")
        if dry_run:
            argv.append("--dry-run=server")
        try:
            proc = subprocess.run(
                argv,
                input=json.dumps(work.obj),
                capture_output=True,
                text=True,
                timeout=KUBECTL_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise TaskError(
                f"kubectl apply did not finish within {KUBECTL_TIMEOUT_S:g} s"
            ) from None
        except OSError as exc:
            raise TaskError(f"cannot run kubectl: {exc.strerror or exc}") from None
        if proc.returncode != 0:
            raise TaskError(kubectl_error(proc.stderr, work.key))
        try:
            result = json.loads(proc.stdout)
        except ValueError:
            result = {}
        if not isinstance(result, dict):
            result = {}
        if not dry_run and result:
            self.conn.cache.upsert(result)
        return result

    def await_crd(self, crd: Manifest) -> None:
        """Wait (bounded) until a CRD just applied is Established and served by discovery."""
        names = crd_names(crd)
        key = ResourceKey.of(crd)
        deadline = time.monotonic() + min(CRD_READY_TIMEOUT_S, self.s.wave_timeout_s)
        while time.monotonic() < deadline:
            live = self.conn.get(key) or {}
            conditions = (live.get("status") or {}).get("conditions") or []
            if any(
                c.get("type") == "Established" and c.get("status") == "True" for c in conditions
            ):
                break
            if pause(self.cancel):
                return
        if names is None:
            return
        while time.monotonic() < deadline:
            self.conn.discovery.refresh()
            if self.conn.discovery.lookup(names[0], names[1]) is not None:
                return
            if pause(self.cancel):
                return
        log.warning("CRD %s not served after %.0f s", key.name, CRD_READY_TIMEOUT_S)
