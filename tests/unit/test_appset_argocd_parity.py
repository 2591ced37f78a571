"""Differences found by comparing our generator with Argo CD's ApplicationSet controller
(tests/argocd/test_argocd_appsets.py), each fixed here with a test that fails without the fix."""

from __future__ import annotations

from appset_helpers import app_template, appset_doc, run

RESOURCES_FINALIZER = "resources-finalizer.argocd.argoproj.io"


def elements(*names: str) -> dict[str, object]:
    return {"list": {"elements": [{"name": n} for n in names]}}


def test_generated_apps_carry_the_resources_finalizer_unless_preserved() -> None:
    """Argo CD's controller adds the resources finalizer to every Application it generates
    (deleting the set, or the app, deletes the app's resources), unless the set says
    ``syncPolicy.preserveResourcesOnDeletion: true``."""
    [app] = run(appset_doc([elements("a")], app_template())).applications
    assert app.raw["metadata"]["finalizers"] == [RESOURCES_FINALIZER]
    preserved = appset_doc(
        [elements("a")], app_template(), syncPolicy={"preserveResourcesOnDeletion": True}
    )
    [kept] = run(preserved).applications
    assert "finalizers" not in kept.raw["metadata"]


def test_a_template_finalizer_is_kept_and_the_resources_one_not_doubled() -> None:
    own = app_template(finalizers=[f"{RESOURCES_FINALIZER}/background"])
    [app] = run(appset_doc([elements("a")], own)).applications
    assert app.raw["metadata"]["finalizers"] == [f"{RESOURCES_FINALIZER}/background"]
    other = app_template(finalizers=["example.com/keep"])
    [app] = run(appset_doc([elements("a")], other)).applications
    assert app.raw["metadata"]["finalizers"] == ["example.com/keep", RESOURCES_FINALIZER]
