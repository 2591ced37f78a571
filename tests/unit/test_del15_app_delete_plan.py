"""Planning and carrying out the deletion of an app's resources (pure logic; the real
cluster test is tests/cluster/test_del15_delete_app_resources.py)."""

from __future__ import annotations

from typing import Any

from gitops_tui.engine.cache.kubeclient import KubeApiError
from gitops_tui.engine.cache.tracking import tracking_id
from gitops_tui.engine.model import Manifest, ResourceKey
from gitops_tui.engine.snapshot import ResultCode
from gitops_tui.engine.sync.app_delete import build_delete_plan, carry_out

APP = "shop"


def obj(
    kind: str,
    name: str,
    *,
    ns: str = "shop",
    group: str = "",
    app: str | None = APP,
    wave: int | None = None,
    options: str | None = None,
    uid: str | None = None,
    extra: dict[str, str] | None = None,
) -> Manifest:
    key = ResourceKey(group, kind, ns, name)
    annotations: dict[str, str] = dict(extra or {})
    if app is not None:
        annotations["argocd.argoproj.io/tracking-id"] = tracking_id(app, key, "shop")
    if wave is not None:
        annotations["argocd.argoproj.io/sync-wave"] = str(wave)
    if options is not None:
        annotations["argocd.argoproj.io/sync-options"] = options
    meta: dict[str, Any] = {"name": name, "annotations": annotations, "uid": uid or f"u-{name}"}
    if ns:
        meta["namespace"] = ns
    return {"apiVersion": f"{group}/v1" if group else "v1", "kind": kind, "metadata": meta}


def plan_of(live: list[Manifest], *, shared: str = "", created: str | None = None) -> Any:
    return build_delete_plan(
        APP,
        "in-cluster",
        live,
        tracking="annotation",
        wanted_elsewhere=lambda key: "other" if key.name == shared else None,
        created_namespace=created,
    )


def test_the_plan_deletes_owned_objects_highest_wave_first_and_keeps_the_rest_with_reasons() -> (
    None
):
    live = [
        obj("ConfigMap", "early", wave=-1),
        obj("Deployment", "web"),
        obj("Service", "web"),
        obj("ConfigMap", "late", wave=5),
        obj("ConfigMap", "keep-me", options="Delete=false"),
        obj("ConfigMap", "no-prune", options="Prune=false"),
        obj("ConfigMap", "theirs", app="other"),
        obj("ConfigMap", "shared"),
        obj("ConfigMap", "unmarked", app=None),
        obj("Secret", "helm-kept", extra={"helm.sh/resource-policy": "keep"}),
        obj("Namespace", "extra", ns=""),
        obj("CustomResourceDefinition", "x.example.com", ns="", group="apiextensions.k8s.io"),
        obj("Namespace", "shop", ns="", app=None),
        obj("Job", "other-hook", app="other", extra={"argocd.argoproj.io/hook": "PreSync"}),
        obj("Job", "my-hook", extra={"argocd.argoproj.io/hook": "PreSync"}),
    ]
    plan = plan_of(live, shared="shared", created="shop")
    order = [(d.wave, d.key.kind, d.key.name) for d in plan.deletions]
    assert order == [
        (5, "ConfigMap", "late"),
        # wave 0: the reverse of the sync's kind order (Job, Deployment, Service, ConfigMap)
        (0, "Job", "my-hook"),
        (0, "Deployment", "web"),
        (0, "Service", "web"),
        (0, "ConfigMap", "no-prune"),
        (-1, "ConfigMap", "early"),
    ]
    assert [w for w, _ in plan.waves()] == [5, 0, -1]
    assert plan.deletions[0].uid == "u-late"
    assert "Prune=false does not keep it" in plan.deletions[4].note
    kept = {k.key.name: k.reason for k in plan.kept}
    assert kept["keep-me"].startswith("Delete=false")
    assert kept["theirs"] == "not owned: tracked by app 'other'"
    assert kept["other-hook"] == "not owned: tracked by app 'other' (a hook of that app)"
    assert kept["shared"] == "shared: app 'other' also has it in Git"
    assert kept["unmarked"] == "not owned: it has no tracking mark of this app"
    assert kept["helm-kept"] == "helm.sh/resource-policy: keep"
    assert "never deleted" in kept["extra"]
    assert "never deleted" in kept["x.example.com"]
    assert "CreateNamespace=true" in kept["shop"]
    assert len(plan.deletions) + len(plan.kept) == len(live)


def test_a_copied_tracking_id_and_a_child_are_not_owned() -> None:
    copy = obj("ConfigMap", "copy")
    copy["metadata"]["annotations"]["argocd.argoproj.io/tracking-id"] = tracking_id(
        APP, ResourceKey("", "ConfigMap", "shop", "original")
    )
    child = obj("ReplicaSet", "web-1", group="apps")
    child["metadata"]["ownerReferences"] = [{"kind": "Deployment", "name": "web", "uid": "x"}]
    plan = plan_of([copy, child])
    assert plan.deletions == ()
    reasons = {k.key.name: k.reason for k in plan.kept}
    assert "a copy" in reasons["copy"]
    assert "has an owner" in reasons["web-1"]


class FakeOps:
    """The cluster as seen by carry_out: a dict; DELETE checks the uid precondition."""

    def __init__(self, live: list[Manifest]) -> None:
        self.objects = {ResourceKey.of(o): o for o in live}
        self.deleted: list[str] = []

    def get(self, key: ResourceKey) -> Manifest | None:
        return self.objects.get(key)

    def delete(self, key: ResourceKey, *, propagation: str = "Foreground", **kw: Any) -> bool:
        found = self.objects.get(key)
        if found is None:
            return False
        if kw.get("uid") and found["metadata"]["uid"] != kw["uid"]:
            raise KubeApiError(409, "Conflict", "Precondition failed: UID in precondition")
        assert propagation == "Background"
        self.deleted.append(key.name)
        del self.objects[key]
        return True


def test_carrying_out_deletes_only_the_planned_uids_in_wave_order() -> None:
    live = [obj("ConfigMap", "a", wave=2), obj("ConfigMap", "b"), obj("ConfigMap", "c")]
    plan = plan_of(live)
    ops = FakeOps(live)
    # after the plan: c re-created (a new uid), d appeared (not in the plan)
    ops.objects[ResourceKey("", "ConfigMap", "shop", "c")] = obj("ConfigMap", "c", uid="new")
    ops.objects[ResourceKey("", "ConfigMap", "shop", "d")] = obj("ConfigMap", "d")
    outcome = carry_out(
        ops, plan, cascade="background", tracking="annotation", wave_timeout_s=5, poll_s=0
    )
    assert ops.deleted == ["a", "b"]
    assert set(k.name for k in ops.objects) == {"c", "d"}
    by_name = {r.key.name: r for r in outcome.results}
    assert by_name["c"].status is ResultCode.PRUNE_SKIPPED
    assert "re-created since the plan" in by_name["c"].message
    assert by_name["a"].status is ResultCode.PRUNED
    assert outcome.deleted == 2 and outcome.failed == 0 and not outcome.stopped
