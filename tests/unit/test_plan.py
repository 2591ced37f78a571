"""Sync planning: phases, waves, kind order, dependency moves, prunes and hooks."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from gitops_tui.engine.model import ResourceKey
from gitops_tui.engine.sync.plan import (
    PHASE_ORDER,
    SyncPlan,
    SyncTask,
    TaskAction,
    build_plan,
    kind_rank,
)

API = {
    "Namespace": "v1",
    "ConfigMap": "v1",
    "Secret": "v1",
    "Service": "v1",
    "NetworkPolicy": "networking.k8s.io/v1",
    "Deployment": "apps/v1",
    "Job": "batch/v1",
    "Ingress": "networking.k8s.io/v1",
    "CustomResourceDefinition": "apiextensions.k8s.io/v1",
    "Widget": "example.com/v1",
}


def res(
    kind: str,
    name: str,
    namespace: str = "app",
    wave: int | str | None = None,
    api: str | None = None,
    **annotations: str,
) -> dict[str, Any]:
    """A manifest in ``namespace`` (ignored for cluster-scoped kinds), with an optional wave."""
    meta: dict[str, Any] = {"name": name}
    if namespace and kind not in ("Namespace", "CustomResourceDefinition"):
        meta["namespace"] = namespace
    notes = dict(annotations)
    if wave is not None:
        notes["argocd.argoproj.io/sync-wave"] = str(wave)
    if notes:
        meta["annotations"] = notes
    return {"apiVersion": api or API[kind], "kind": kind, "metadata": meta}


def annotate(obj: dict[str, Any], key: str, value: str) -> dict[str, Any]:
    obj["metadata"].setdefault("annotations", {})[key] = value
    return obj


def hook(obj: dict[str, Any], phases: str) -> dict[str, Any]:
    return annotate(obj, "argocd.argoproj.io/hook", phases)


def crd(group: str, kind: str, wave: int | None = None) -> dict[str, Any]:
    obj = res("CustomResourceDefinition", f"{kind.lower()}s.{group}", wave=wave)
    obj["spec"] = {"group": group, "names": {"kind": kind}}
    return obj


def key(obj: dict[str, Any]) -> ResourceKey:
    return ResourceKey.of(obj)


def plan(
    desired: list[dict[str, Any]],
    live: Sequence[dict[str, Any]] = (),
    prune: Sequence[dict[str, Any]] = (),
    modified: dict[ResourceKey, bool] | None = None,
    app_options: dict[str, str] | None = None,
    **kwargs: Any,
) -> SyncPlan:
    return build_plan(
        desired,
        {key(o): o for o in live},
        modified or {},
        list(prune),
        app_options=app_options or {},
        **kwargs,
    )


def names(tasks: Sequence[SyncTask]) -> list[str]:
    return [f"{t.key.kind}/{t.key.name}" for t in tasks]


def layout(p: SyncPlan) -> list[tuple[str, int, str]]:
    return [(t.phase, t.wave, f"{t.key.kind}/{t.key.name}") for t in p.tasks]


# -- actions -----------------------------------------------------------------------------


def test_create_update_unchanged() -> None:
    new, changed, same = (
        res("ConfigMap", "new"),
        res("ConfigMap", "changed"),
        res("ConfigMap", "same"),
    )
    p = plan(
        [new, changed, same], live=[changed, same], modified={key(changed): True, key(same): False}
    )
    actions = {t.key.name: t.action for t in p.tasks}
    assert actions == {
        "new": TaskAction.CREATE,
        "changed": TaskAction.UPDATE,
        "same": TaskAction.UNCHANGED,
    }
    assert not any(t.skipped for t in p.tasks)
    assert p.ok


def test_live_without_compare_result_counts_as_modified() -> None:
    cm = res("ConfigMap", "cm")
    assert plan([cm], live=[cm]).tasks[0].action is TaskAction.UPDATE


def test_apply_out_of_sync_only_flags_unchanged_as_skipped() -> None:
    changed, same = res("ConfigMap", "changed"), res("ConfigMap", "same")
    p = plan(
        [changed, same],
        live=[changed, same],
        modified={key(changed): True, key(same): False},
        app_options={"ApplyOutOfSyncOnly": "true"},
    )
    by_name = {t.key.name: t for t in p.tasks}
    assert by_name["same"].action is TaskAction.UNCHANGED and by_name["same"].skipped
    assert "ApplyOutOfSyncOnly" in by_name["same"].note
    assert not by_name["changed"].skipped


def test_task_carries_its_own_sync_options() -> None:
    cm = annotate(res("ConfigMap", "cm"), "argocd.argoproj.io/sync-options", "Validate=false")
    assert plan([cm]).tasks[0].options == {"Validate": "false"}


def test_summary_counts_every_action() -> None:
    a, b = res("ConfigMap", "a"), res("ConfigMap", "b")
    gone = res("ConfigMap", "gone")
    job = hook(res("Job", "migrate"), "PreSync")
    fail = hook(res("Job", "cleanup"), "SyncFail")
    p = plan([a, b, job, fail], live=[b], modified={key(b): False}, prune=[gone])
    assert p.summary() == {
        "Create": 1,
        "Update": 0,
        "Unchanged": 1,
        "Prune": 1,
        "PruneSkipped": 0,
        "Hook": 1,
    }


# -- ordering ----------------------------------------------------------------------------


def test_kind_order_of_a_mixed_set_unknown_last_then_name() -> None:
    desired = [
        res("Widget", "w"),
        res("Deployment", "web"),
        res("Ingress", "web"),
        res("Service", "web"),
        res("ConfigMap", "b"),
        res("ConfigMap", "a"),
        res("Secret", "s"),
        res("Namespace", "app"),
    ]
    assert names(plan(desired).tasks) == [
        "Namespace/app",
        "Secret/s",
        "ConfigMap/a",
        "ConfigMap/b",
        "Service/web",
        "Deployment/web",
        "Ingress/web",
        "Widget/w",
    ]


def test_kind_rank() -> None:
    assert kind_rank("Namespace") < kind_rank("CustomResourceDefinition") < kind_rank("Deployment")
    assert kind_rank("Deployment") < kind_rank("Widget") == kind_rank("Gadget")


def test_waves_order_before_kind_and_group_in_waves() -> None:
    desired = [
        res("ConfigMap", "late", wave=2),
        res("Deployment", "early", wave=-1),
        res("Service", "mid"),
        res("ConfigMap", "mid"),
    ]
    p = plan(desired)
    assert layout(p) == [
        ("Sync", -1, "Deployment/early"),
        ("Sync", 0, "ConfigMap/mid"),
        ("Sync", 0, "Service/mid"),
        ("Sync", 2, "ConfigMap/late"),
    ]
    assert [(wave_id, names(tasks)) for wave_id, tasks in p.waves()] == [
        (("Sync", -1), ["Deployment/early"]),
        (("Sync", 0), ["ConfigMap/mid", "Service/mid"]),
        (("Sync", 2), ["ConfigMap/late"]),
    ]


def test_helm_hook_weight_is_a_wave() -> None:
    cm = annotate(res("ConfigMap", "weighted"), "helm.sh/hook-weight", "-5")
    assert plan([res("ConfigMap", "a"), cm]).tasks[0].key.name == "weighted"


def test_order_key_puts_phase_then_wave_first() -> None:
    pre = hook(res("Job", "pre", wave=9), "PreSync")
    sync = res("ConfigMap", "cm", wave=-9)
    tasks = {t.key.name: t for t in plan([pre, sync]).tasks}
    assert tasks["pre"].order_key < tasks["cm"].order_key
    assert tasks["pre"].order_key[:2] == (PHASE_ORDER["PreSync"], 9)


# -- dependency moves --------------------------------------------------------------------


def test_namespace_moves_before_first_object_in_it() -> None:
    ns = res("Namespace", "team", wave=5)
    cm = res("ConfigMap", "cfg", namespace="team", wave=1)
    other = res("ConfigMap", "early", namespace="elsewhere", wave=0)
    assert layout(plan([ns, cm, other])) == [
        ("Sync", 0, "ConfigMap/early"),
        ("Sync", 1, "Namespace/team"),
        ("Sync", 1, "ConfigMap/cfg"),
    ]


def test_namespace_already_first_stays() -> None:
    ns = res("Namespace", "team", wave=-1)
    cm = res("ConfigMap", "cfg", namespace="team", wave=1)
    assert layout(plan([ns, cm])) == [("Sync", -1, "Namespace/team"), ("Sync", 1, "ConfigMap/cfg")]


def test_namespace_moves_into_presync_for_a_hook_in_it() -> None:
    ns = res("Namespace", "team")
    job = hook(res("Job", "migrate", namespace="team"), "PreSync")
    assert layout(plan([ns, job])) == [
        ("PreSync", 0, "Namespace/team"),
        ("PreSync", 0, "Job/migrate"),
    ]


def test_crd_moves_before_its_first_custom_resource() -> None:
    definition = crd("example.com", "Widget", wave=3)
    widget = res("Widget", "w", wave=0)
    cm = res("ConfigMap", "cm", wave=0)
    assert layout(plan([definition, widget, cm])) == [
        ("Sync", 0, "ConfigMap/cm"),
        ("Sync", 0, "CustomResourceDefinition/widgets.example.com"),
        ("Sync", 0, "Widget/w"),
    ]


def test_crd_moves_before_a_custom_resource_whose_kind_sorts_earlier() -> None:
    definition = crd("crd.projectcalico.org", "NetworkPolicy")
    policy = res("NetworkPolicy", "deny", api="crd.projectcalico.org/v1")
    assert [t.key.kind for t in plan([definition, policy]).tasks] == [
        "CustomResourceDefinition",
        "NetworkPolicy",
    ]


def test_crd_does_not_move_for_other_groups() -> None:
    definition = crd("example.com", "Widget")
    native_policy = res("NetworkPolicy", "deny")
    assert names(plan([definition, native_policy]).tasks) == [
        "NetworkPolicy/deny",
        "CustomResourceDefinition/widgets.example.com",
    ]


# -- prune -------------------------------------------------------------------------------


def test_prunes_come_first_in_their_wave_in_reversed_kind_order() -> None:
    keep = res("ConfigMap", "keep")
    old_ns, old_deploy, old_cm = (
        res("Namespace", "old"),
        res("Deployment", "old"),
        res("ConfigMap", "old"),
    )
    p = plan([keep], prune=[old_ns, old_cm, old_deploy])
    assert [(t.action, f"{t.key.kind}/{t.key.name}") for t in p.tasks] == [
        (TaskAction.PRUNE, "Deployment/old"),
        (TaskAction.PRUNE, "ConfigMap/old"),
        (TaskAction.PRUNE, "Namespace/old"),
        (TaskAction.CREATE, "ConfigMap/keep"),
    ]
    assert all(t.desired is None and t.live is not None for t in p.tasks if t.is_prune)


def test_prune_precedes_apply_of_the_same_kind_in_its_wave() -> None:
    new_ns, old_ns = res("Namespace", "aaa"), res("Namespace", "zzz")
    assert [t.action for t in plan([new_ns], prune=[old_ns]).tasks] == [
        TaskAction.PRUNE,
        TaskAction.CREATE,
    ]


def test_prune_waves_are_mirrored() -> None:
    low, mid, high = (
        res("ConfigMap", "low", wave=0),
        res("ConfigMap", "mid", wave=1),
        res("ConfigMap", "high", wave=5),
    )
    p = plan([], prune=[low, mid, high])
    assert layout(p) == [
        ("Sync", 0, "ConfigMap/high"),
        ("Sync", 1, "ConfigMap/mid"),
        ("Sync", 5, "ConfigMap/low"),
    ]


def test_prune_runs_with_the_apply_tasks_of_its_wave() -> None:
    apply_wave_1 = res("ConfigMap", "new", wave=1)
    old = res("Secret", "old", wave=1)
    assert [(w, names(ts)) for w, ts in plan([apply_wave_1], prune=[old]).waves()] == [
        (("Sync", 1), ["Secret/old", "ConfigMap/new"])
    ]


def test_prune_last_app_option_moves_prunes_after_last_wave() -> None:
    desired = [res("ConfigMap", "a", wave=0), res("ConfigMap", "b", wave=3)]
    old = res("ConfigMap", "old", wave=0)
    p = plan(desired, prune=[old], app_options={"PruneLast": "true"})
    assert layout(p)[-1] == ("Sync", 4, "ConfigMap/old")


def test_prune_last_with_only_negative_waves_is_wave_one() -> None:
    p = plan(
        [res("ConfigMap", "a", wave=-2)],
        prune=[res("ConfigMap", "old", wave=-3)],
        app_options={"PruneLast": "true"},
    )
    assert layout(p)[-1] == ("Sync", 1, "ConfigMap/old")


def test_prune_last_per_resource() -> None:
    last = annotate(res("ConfigMap", "last"), "argocd.argoproj.io/sync-options", "PruneLast=true")
    now = res("ConfigMap", "now")
    p = plan([res("ConfigMap", "a", wave=2)], prune=[last, now])
    assert layout(p) == [
        ("Sync", 0, "ConfigMap/now"),
        ("Sync", 2, "ConfigMap/a"),
        ("Sync", 3, "ConfigMap/last"),
    ]


def test_prune_false_is_prune_skipped() -> None:
    kept = annotate(
        res("PersistentVolumeClaim", "data", api="v1"),
        "argocd.argoproj.io/sync-options",
        "Prune=false",
    )
    task = plan([], prune=[kept]).tasks[0]
    assert task.action is TaskAction.PRUNE_SKIPPED
    assert task.note == "ignored (no prune)"


def test_without_prune_flag_every_prune_is_skipped() -> None:
    p = build_plan([], {}, {}, [res("ConfigMap", "old")], app_options={}, prune=False)
    assert p.tasks[0].action is TaskAction.PRUNE_SKIPPED
    assert p.tasks[0].note == "ignored (requires pruning)"


def test_live_hooks_and_skipped_objects_are_never_pruned() -> None:
    old_hook = hook(res("Job", "migrate"), "PreSync")
    skipped = hook(res("ConfigMap", "manual"), "Skip")
    assert plan([], prune=[old_hook, skipped]).tasks == ()


# -- hooks -------------------------------------------------------------------------------


def test_hooks_run_in_their_phases() -> None:
    pre = hook(res("Job", "migrate"), "PreSync")
    post = hook(res("Job", "smoke"), "PostSync")
    sync_hook = hook(res("Job", "during"), "Sync")
    cm = res("ConfigMap", "cm")
    p = plan([post, cm, sync_hook, pre])
    assert layout(p) == [
        ("PreSync", 0, "Job/migrate"),
        ("Sync", 0, "ConfigMap/cm"),
        ("Sync", 0, "Job/during"),
        ("PostSync", 0, "Job/smoke"),
    ]
    assert all(t.action is TaskAction.HOOK for t in p.tasks if t.key.kind == "Job")


def test_hook_with_several_phases_yields_one_task_per_phase() -> None:
    both = hook(res("Job", "notify"), "PostSync,PreSync")
    assert [t.phase for t in plan([both]).tasks] == ["PreSync", "PostSync"]


def test_hook_with_generate_name_sorts_by_it() -> None:
    gen = hook(res("Job", ""), "Sync")
    gen["metadata"]["generateName"] = "b-"
    named = hook(res("Job", "a"), "Sync")
    tasks = plan([gen, named]).tasks
    assert [t.sort_name for t in tasks] == ["a", "b-"]


def test_hook_gets_its_live_object() -> None:
    job = hook(res("Job", "migrate"), "PreSync")
    assert plan([job], live=[job]).tasks[0].live is job


def test_sync_fail_hooks_are_kept_apart() -> None:
    fail = hook(res("Job", "rollback"), "SyncFail")
    p = plan([fail, res("ConfigMap", "cm")])
    assert names(p.tasks) == ["ConfigMap/cm"]
    assert [(t.phase, t.action) for t in p.sync_fail_tasks] == [("SyncFail", TaskAction.HOOK)]


def test_skip_post_delete_and_unsupported_helm_hooks_are_dropped() -> None:
    skipped = hook(res("ConfigMap", "manual"), "Skip")
    post_delete = hook(res("Job", "cleanup"), "PostDelete")
    helm_test = annotate(res("Pod", "test", api="v1"), "helm.sh/hook", "test")
    p = plan([skipped, post_delete, helm_test])
    assert p.tasks == () and p.sync_fail_tasks == ()
    assert p.ok


def test_helm_hooks_become_phases() -> None:
    pre = annotate(res("Job", "pre"), "helm.sh/hook", "pre-install,pre-upgrade")
    crd_install = annotate(crd("example.com", "Widget"), "helm.sh/hook", "crd-install")
    p = plan([pre, crd_install])
    assert [(t.phase, t.action) for t in p.tasks] == [
        ("PreSync", TaskAction.HOOK),
        ("Sync", TaskAction.CREATE),
    ]


# -- selective sync ----------------------------------------------------------------------


def test_selective_sync_keeps_selected_objects_and_runs_no_hooks() -> None:
    a, b = res("ConfigMap", "a"), res("ConfigMap", "b")
    job = hook(res("Job", "migrate"), "PreSync")
    old, other_old = res("ConfigMap", "old"), res("ConfigMap", "other-old")
    p = plan([a, b, job], prune=[old, other_old], selected=frozenset({key(a), key(old), key(job)}))
    assert [(t.action, t.key.name) for t in p.tasks] == [
        (TaskAction.PRUNE, "old"),
        (TaskAction.CREATE, "a"),
    ]


# -- errors ------------------------------------------------------------------------------


def test_bad_wave_is_collected_not_raised() -> None:
    bad = res("ConfigMap", "bad", wave="soon")
    bad_prune = res("Secret", "old", wave="1.5")
    p = plan([bad, res("ConfigMap", "fine")], prune=[bad_prune])
    assert not p.ok
    assert len(p.errors) == 2
    assert "ConfigMap app/bad" in p.errors[0] and "'soon'" in p.errors[0]
    assert "Secret app/old" in p.errors[1]


def test_unknown_hook_type_is_an_error() -> None:
    typo = hook(res("Job", "migrate"), "Presync")
    p = plan([typo])
    assert p.errors and "Presync" in p.errors[0] and "Job app/migrate" in p.errors[0]


# -- properties --------------------------------------------------------------------------

KINDS = [
    "Namespace",
    "ConfigMap",
    "Service",
    "Deployment",
    "CustomResourceDefinition",
    "Widget",
    "Job",
]
NAMESPACES = ["", "ns-a", "ns-b"]
NAMESPACED = {"ConfigMap", "Service", "Deployment", "Widget", "Job"}


@st.composite
def objects(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Unique desired objects (some hooks) and prune candidates, waves in -2..2."""
    specs = draw(
        st.lists(
            st.tuples(
                st.sampled_from(KINDS),
                st.sampled_from(["ns-a", "ns-b", "c", "d"]),
                st.sampled_from(NAMESPACES),
                st.integers(-2, 2),
                st.sampled_from(
                    ["", "", "", "PreSync", "PostSync", "PreSync,PostSync", "SyncFail"]
                ),
                st.booleans(),
            ),
            max_size=25,
            unique_by=lambda s: (s[0], s[1], s[2] if s[0] in NAMESPACED else ""),
        )
    )
    desired, prune = [], []
    for kind, name, namespace, wave, phases, is_prune in specs:
        obj = res(kind, name, namespace=namespace, wave=wave)
        if kind == "CustomResourceDefinition":
            obj["spec"] = {"group": "example.com", "names": {"kind": "Widget"}}
        if is_prune:
            prune.append(obj)
        else:
            desired.append(hook(obj, phases) if phases else obj)
    return desired, prune


def expected_task_count(
    desired: list[dict[str, Any]], prune: list[dict[str, Any]]
) -> Counter[ResourceKey]:
    counts: Counter[ResourceKey] = Counter()
    for obj in desired:
        phases = (obj["metadata"].get("annotations") or {}).get("argocd.argoproj.io/hook")
        counts[key(obj)] += len(phases.split(",")) if phases else 1
    for obj in prune:
        counts[key(obj)] += 1
    return counts


@settings(max_examples=200, deadline=None)
@given(objects(), st.booleans())
def test_plan_is_a_permutation_in_phase_wave_order(
    case: tuple[list[dict[str, Any]], list[dict[str, Any]]], prune_last: bool
) -> None:
    desired, prune = case
    p = plan(desired, prune=prune, app_options={"PruneLast": str(prune_last).lower()})
    pruned_namespaces = {key(o).name for o in prune if key(o).kind == "Namespace"}
    if pruned_namespaces & {key(o).namespace for o in desired}:
        # pruning a namespace that holds wanted objects is refused (it would delete them)
        assert p.errors
        assert all("would be pruned, but this app still wants" in e for e in p.errors)
        return
    assert p.ok
    everything = p.tasks + p.sync_fail_tasks
    assert Counter(t.key for t in everything) == expected_task_count(desired, prune)

    positions = [(PHASE_ORDER[t.phase], t.wave) for t in p.tasks]
    assert positions == sorted(positions)

    applied = [t for t in p.tasks if not t.is_prune]
    for index, task in enumerate(applied):
        # Every object is applied after its Namespace and after the CRDs defining its kind.
        providers = [
            t
            for t in applied
            if (t.key.kind, t.key.name) == ("Namespace", task.key.namespace)
            or (task.key.kind == "Widget" and t.key.kind == "CustomResourceDefinition")
        ]
        assert all(applied.index(t) < index for t in providers), task.key

    for _, tasks in p.waves():
        prune_flags = [t.is_prune for t in tasks]
        assert prune_flags == sorted(prune_flags, reverse=True), "prunes lead their wave"


def test_pruning_a_namespace_that_holds_wanted_objects_is_a_plan_error() -> None:
    ns = res("Namespace", "team")
    inside = res("ConfigMap", "cfg", namespace="team")
    elsewhere = res("ConfigMap", "cfg", namespace="other")
    plan = build_plan([inside, elsewhere], {}, {}, [ns], app_options={})
    assert plan.errors == (
        "Namespace team would be pruned, but this app still wants 1 object(s) in it "
        "(ConfigMap team/cfg): deleting the namespace would delete them. Keep the Namespace "
        "in Git or move those objects out of it",
    )
    # also when only the prune is selected, and not when the prune is skipped
    selected = frozenset({ResourceKey("", "Namespace", "", "team")})
    assert build_plan([inside], {}, {}, [ns], app_options={}, selected=selected).errors
    assert build_plan([inside], {}, {}, [ns], app_options={}, prune=False).errors == ()
    assert build_plan([elsewhere], {}, {}, [ns], app_options={}).errors == ()
