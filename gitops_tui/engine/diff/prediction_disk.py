"""Predictions on disk, so a cold ``diff`` or ``sync`` needs no dry run of an unchanged object.

A prediction (the object a server-side apply dry run returns) is kept in the user
cache dir under a key that names everything it depends on:

- the cluster: API server URL, context name and a digest of its kubeconfig entries
  (address, credentials: a new identity is a new key);
- the server: its version (``/version``: built-in schemas and defaulting) and every
  mutating admission configuration (uid + resourceVersion of each
  MutatingWebhookConfiguration, and of MutatingAdmissionPolicy(Binding) where
  served): a changed webhook is a new key;
- the kind: for a kind in a group with a dot, the CustomResourceDefinition's uid +
  resourceVersion (its schema and defaults); a kind with no CRD is keyed by the
  server version alone (built-in, or aggregated: see residual risk below);
- the object: its key, the desired fingerprint and the live signature (as in memory:
  everything of the live object but status, resourceVersion, managedFields times).

Never on disk: any kind whose name contains ``Secret`` (core Secrets hold values; a
SealedSecret or ExternalSecret may) and Pods (in-tree admission plugins such as
LimitRanger mutate them from other objects). Those are dry-run every time.

Residual risk (documented in docs/benchmarks.md): an admission webhook whose
answer depends on something not in the key (the namespace's labels through a
``namespaceSelector``, an external service's state), an aggregated API server
upgraded behind the same Kubernetes version. ``--no-cache`` / ``predictionCache:
false`` turn the disk layer off. The whole-plan dry run before a sync never reads
this cache: it checks that the server accepts the plan now.

Storage: one JSON file per entry in a 0700 directory owned by the user, files 0600,
written atomically (temp file + rename); a hit touches the file (LRU by mtime);
beyond ``max_entries`` or ``max_bytes`` the least recently used go. An unreadable,
oversized or mismatching file is ignored (and removed), never fatal.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from gitops_tui.engine.cache.kubeclient import KubeApiError, KubeTarget, context_fingerprints
from gitops_tui.engine.model import Manifest, ResourceKey

log = logging.getLogger(__name__)

FORMAT = 1
MAX_ENTRY_BYTES = 1 << 20
IDENTITY_TTL_S = 300.0
"""How long a connection's server fingerprint (version, webhooks) is reused."""

_MUTATING_KINDS = (
    "MutatingWebhookConfiguration",
    "MutatingAdmissionPolicy",
    "MutatingAdmissionPolicyBinding",
)
_ADMISSION_GROUP = "admissionregistration.k8s.io"


class Connection(Protocol):
    """What the disk layer needs of a ``ClusterConnection``."""

    name: str
    target: KubeTarget
    server: str

    @property
    def client(self) -> Any: ...

    @property
    def discovery(self) -> Any: ...

    def live(self, key: ResourceKey) -> Manifest | None: ...


def never_on_disk(key: ResourceKey) -> bool:
    """Kinds whose predictions are never written: secret data, or admission from other objects."""
    return "secret" in key.kind.lower() or (key.group == "" and key.kind == "Pod")


@dataclass
class _Identity:
    value: str | None  # None: the disk layer is off for this connection
    at: float


def _digest(material: Any) -> str:
    return hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest()


def cluster_identity(conn: Connection) -> str | None:
    """The cluster, its server version and its mutating admission configuration, or None."""
    target = conn.target
    try:
        prints = context_fingerprints(target.kubeconfig)
    except OSError:
        prints = {}
    context = target.context or conn.name
    try:
        version = conn.client.request("GET", "/version")
        admission: list[Any] = []
        for kind in _MUTATING_KINDS:
            # a kind the server does not serve (an alpha policy API) is known to be
            # absent from discovery as fresh as this identity: no refresh per miss
            res = conn.discovery.resolve(_ADMISSION_GROUP, kind, max_age=IDENTITY_TTL_S)
            if res is None:
                admission.append([kind, None])
                continue
            listed = conn.client.request("GET", res.collection_path())
            items = (listed.get("items") or []) if isinstance(listed, dict) else []
            admission.append(
                [
                    kind,
                    sorted(
                        [
                            (m.get("uid"), m.get("resourceVersion"))
                            for i in items
                            if isinstance(i, dict)
                            for m in [i.get("metadata") or {}]
                        ],
                        key=str,
                    ),
                ]
            )
    except KubeApiError as exc:
        log.info("prediction cache off for %s: %s", conn.name, exc.message)
        return None
    if not isinstance(version, dict):
        return None
    server = {k: version.get(k) for k in ("gitVersion", "gitCommit", "buildDate", "platform")}
    return _digest([conn.server, context, prints.get(context, ""), server, admission])


def kind_identity(conn: Connection, group: str, kind: str) -> str | None:
    """The CRD's uid + resourceVersion for a custom kind; "" for a kind with no CRD; None: off."""
    if "." not in group:
        return ""  # core and the built-in groups without a dot (apps, batch, ...)
    res = conn.discovery.resolve(group, kind)
    if res is None:
        return None
    crd_key = ResourceKey(
        "apiextensions.k8s.io", "CustomResourceDefinition", "", f"{res.plural}.{group}"
    )
    try:
        crd = conn.live(crd_key)
    except KubeApiError:
        return None
    if crd is None:
        return ""  # built in (networking.k8s.io, ...) or aggregated: the server version keys it
    meta = crd.get("metadata") or {}
    return f"{meta.get('uid')}/{meta.get('resourceVersion')}"


class DiskPredictions:
    """The on-disk layer under ``PredictionCache`` (see the module docstring)."""

    def __init__(
        self,
        root: Path,
        *,
        max_entries: int = 20_000,
        max_bytes: int = 64 << 20,
        identity_ttl_s: float = IDENTITY_TTL_S,
    ) -> None:
        self.root = root
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._ttl = identity_ttl_s
        self._lock = threading.Lock()
        self._identities: dict[tuple[str, str], _Identity] = {}
        self._kinds: dict[tuple[str, str, str], _Identity] = {}
        self._computing: dict[tuple[int, tuple[str, ...]], threading.Lock] = {}
        self._writes = 0
        self.usable = self._prepare_root()
        self.hits = 0
        self.misses = 0

    # ------------------------------------------------------------------ directory

    def _prepare_root(self) -> bool:
        try:
            self.root.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileExistsError):
                self.root.mkdir(mode=0o700)
            info = self.root.lstat()
            if not self.root.is_dir() or self.root.is_symlink():
                log.warning("prediction cache off: %s is not a directory", self.root)
                return False
            if hasattr(os, "getuid") and info.st_uid != os.getuid():
                log.warning("prediction cache off: %s belongs to another user", self.root)
                return False
            if info.st_mode & 0o077:
                os.chmod(self.root, 0o700)
        except OSError as exc:
            log.warning("prediction cache off: %s: %s", self.root, exc)
            return False
        return True

    # ------------------------------------------------------------------ keys

    def _identity(self, conn: Connection) -> str | None:
        return self._once(
            self._identities, (conn.name, conn.server), lambda: cluster_identity(conn)
        )

    def _kind(self, conn: Connection, group: str, kind: str) -> str | None:
        return self._once(
            self._kinds, (conn.name, group, kind), lambda: kind_identity(conn, group, kind)
        )

    def _once(
        self,
        table: dict[Any, _Identity],
        ident: tuple[str, ...],
        compute: Callable[[], str | None],
    ) -> str | None:
        """``table[ident]`` while fresh, else computed by one thread while the others
        (the dry-run pool's, all asking at once on a cold start) wait for it."""

        def fresh() -> _Identity | None:
            with self._lock:
                found = table.get(ident)
            return found if found is not None and time.monotonic() - found.at <= self._ttl else None

        found = fresh()
        if found is None:
            with self._lock:
                gate = self._computing.setdefault((id(table), ident), threading.Lock())
            with gate:
                found = fresh()
                if found is None:
                    found = _Identity(compute(), time.monotonic())
                    with self._lock:
                        table[ident] = found
        return found.value

    def entry_key(
        self, conn: Connection, key: ResourceKey, desired_fp: str, live_sig: str
    ) -> str | None:
        """The full key (a string), or None when this object may not use the disk."""
        if not self.usable or never_on_disk(key):
            return None
        cluster = self._identity(conn)
        if cluster is None:
            return None
        kind = self._kind(conn, key.group, key.kind)
        if kind is None:
            return None
        return json.dumps(
            [FORMAT, cluster, kind, [key.group, key.kind, key.namespace, key.name]]
            + [desired_fp, live_sig]
        )

    def _path(self, entry: str) -> Path:
        return self.root / (hashlib.sha256(entry.encode()).hexdigest() + ".json")

    # ------------------------------------------------------------------ read / write

    def get(
        self, conn: Connection, key: ResourceKey, desired_fp: str, live_sig: str
    ) -> Manifest | None:
        entry = self.entry_key(conn, key, desired_fp, live_sig)
        if entry is None:
            return None
        found = self._read(entry, key)
        with self._lock:
            if found is None:
                self.misses += 1
            else:
                self.hits += 1
        return found

    def _read(self, entry: str, key: ResourceKey) -> Manifest | None:
        path = self._path(entry)
        try:
            with path.open("rb") as handle:
                data = handle.read(MAX_ENTRY_BYTES + 1)
        except OSError:
            return None
        try:
            doc = json.loads(data) if len(data) <= MAX_ENTRY_BYTES else None
        except ValueError:
            doc = None
        predicted = doc.get("predicted") if isinstance(doc, dict) else None
        if (
            not isinstance(doc, dict)
            or doc.get("key") != entry
            or not isinstance(predicted, dict)
            or predicted.get("kind") != key.kind
            or (predicted.get("metadata") or {}).get("name") != key.name
        ):
            log.debug("prediction cache: ignoring unusable entry %s", path.name)
            self._remove(path)
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # least recently *used* goes first
        return predicted

    def put(
        self,
        conn: Connection,
        key: ResourceKey,
        desired_fp: str,
        live_sig: str,
        predicted: Manifest,
    ) -> None:
        entry = self.entry_key(conn, key, desired_fp, live_sig)
        if entry is None:
            return
        try:
            data = json.dumps({"format": FORMAT, "key": entry, "predicted": predicted}).encode()
        except (TypeError, ValueError):
            return
        if len(data) > MAX_ENTRY_BYTES:
            return
        path = self._path(entry)
        try:
            fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".tmp-", suffix=".json")
            try:
                with os.fdopen(fd, "wb") as handle:  # mkstemp: 0600
                    handle.write(data)
                os.replace(tmp, path)
            except BaseException:
                self._remove(Path(tmp))
                raise
        except OSError as exc:
            log.debug("prediction cache: cannot write %s: %s", path.name, exc)
            return
        with self._lock:
            self._writes += 1
            evict = self._writes == 1 or self._writes % 256 == 0
        if evict:
            self.evict()

    def evict(self) -> None:
        """Remove the least recently used entries beyond the count and byte bounds."""
        entries: list[tuple[float, int, Path]] = []
        try:
            with os.scandir(self.root) as listing:
                for item in listing:
                    if not item.name.endswith(".json") or not item.is_file(follow_symlinks=False):
                        continue
                    try:
                        info = item.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    if item.name.startswith(".tmp-") and time.time() - info.st_mtime < 600:
                        continue  # another process is writing it
                    entries.append((info.st_mtime, info.st_size, Path(item.path)))
        except OSError:
            return
        total = sum(size for _, size, _ in entries)
        if len(entries) <= self.max_entries and total <= self.max_bytes:
            return
        # down to 80 %, so eviction is not paid again on the next write
        keep_entries, keep_bytes = self.max_entries * 4 // 5, self.max_bytes * 4 // 5
        entries.sort()
        count = len(entries)
        for _, size, path in entries:
            if count <= keep_entries and total <= keep_bytes:
                break
            self._remove(path)
            count -= 1
            total -= size

    @staticmethod
    def _remove(path: Path) -> None:
        with contextlib.suppress(OSError):
            path.unlink()
