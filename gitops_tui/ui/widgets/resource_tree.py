"""The resource tree of one app: managed objects and their owned children, updated in place."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from gitops_tui.engine.api import AppSnapshot, ResourceNode
from gitops_tui.engine.model import ResourceKey
from gitops_tui.ui.safe import plain_text, safe_text
from gitops_tui.ui.symbols import HEALTH_STYLE, SYNC_STYLE, Glyphs

Path = tuple[ResourceKey, ...]
"""A node's identity: the keys from the first managed object down to it."""


def fit_name(name: str, width: int | None) -> str:
    """``name`` in ``width`` cells, cut in the middle: generated names (Pods, ReplicaSets)
    share their prefix and differ in their suffix, so the end is what must show."""
    if width is None or len(name) <= width:
        return name
    width = max(width, 8)
    head = max(3, width // 3)
    return name[:head] + "…" + name[len(name) - (width - head - 1) :]


def resource_label(
    node: ResourceNode,
    glyphs: Glyphs,
    *,
    marked: bool,
    app_namespace: str = "",
    width: int | None = None,
) -> Text:
    """``● ↻ ♥ Deployment web (prune)``: mark, sync glyph (managed only), health glyph, name.

    ``width``: the cells the label may use; a longer name is cut in its middle."""
    text = Text()
    text.append(f"{glyphs.mark} " if marked else "  ", style="bold magenta")
    if node.status is not None:
        text.append(glyphs.sync[node.status], style=SYNC_STYLE[node.status])
        text.append(" ")
    if node.health is not None:
        text.append(glyphs.health[node.health], style=HEALTH_STYLE[node.health])
        text.append(" ")
    key = node.key
    where = (
        key.name
        if not key.namespace or key.namespace == app_namespace
        else f"{key.namespace}/{key.name}"
    )
    text.append(key.kind, style="bold" if node.status is not None else "")
    suffix = Text()
    if node.requires_pruning:
        suffix.append(" (prune)", style="red")
    if node.hook:
        suffix.append(" (hook)", style="magenta")
    if not node.exists and not node.requires_pruning:
        suffix.append(" (missing)", style="yellow")
    room = None if width is None else width - text.cell_len - suffix.cell_len - 1
    text.append(f" {fit_name(where, room)}")
    text.append_text(suffix)
    return text


def app_label(app: AppSnapshot, glyphs: Glyphs) -> Text:
    text = Text()
    text.append(app.name, style="bold")
    text.append("  ")
    text.append(glyphs.sync[app.sync], style=SYNC_STYLE[app.sync])
    text.append(" ")
    text.append(glyphs.health[app.health], style=HEALTH_STYLE[app.health])
    return text


@dataclass(frozen=True)
class NodeData:
    """What a tree node holds: its path and the snapshot node (None for the app root)."""

    path: Path
    node: ResourceNode | None


class ResourceTree(Tree[NodeData]):
    """App -> managed resources -> children; ``space`` marks a managed resource."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Cursor down", show=False, id="tree.cursor-down"),
        Binding("k", "cursor_up", "Cursor up", show=False, id="tree.cursor-up"),
        Binding("g", "scroll_home", "Top", show=False, id="tree.top"),
        Binding("G", "scroll_end", "Bottom", show=False, id="tree.bottom"),
        Binding("h", "cursor_parent", "Go to parent", show=False, id="tree.parent"),
        Binding("space", "mark", "Mark for sync", show=False, id="tree.mark"),
        Binding("enter", "select_cursor", "Expand / collapse", show=False, id="tree.toggle"),
    ]

    @dataclass
    class MarkRequested(Message):
        """The user pressed space on ``node`` (the screen decides what marking means)."""

        node: ResourceNode | None

    def __init__(self, glyphs: Glyphs, *, id: str | None = None) -> None:
        super().__init__("", data=NodeData((), None), id=id)
        self.glyphs = glyphs
        self.guide_depth = 2
        self.root.expand()
        self._by_path: dict[Path, TreeNode[NodeData]] = {}
        self._marked: frozenset[ResourceKey] = frozenset()
        self._namespace = ""

    # -- reading ---------------------------------------------------------------------

    @property
    def cursor_data(self) -> NodeData | None:
        node = self.cursor_node
        return None if node is None else node.data

    def node_at(self, path: Path) -> TreeNode[NodeData] | None:
        return self.root if not path else self._by_path.get(path)

    def labels(self) -> list[str]:
        """Plain labels of the visible lines, top to bottom (tests)."""
        lines = []

        def walk(node: TreeNode[NodeData], depth: int) -> None:
            lines.append("  " * depth + str(getattr(node.label, "plain", node.label)))
            if node.is_expanded:
                for child in node.children:
                    walk(child, depth + 1)

        walk(self.root, 0)
        return lines

    # -- writing ---------------------------------------------------------------------

    def process_label(self, label: str | Text) -> Text:
        """Every label (app root, resources) passes here: never markup, controls escaped."""
        return super().process_label(
            plain_text(label) if isinstance(label, str) else safe_text(label)
        )

    def action_mark(self) -> None:
        data = self.cursor_data
        self.post_message(self.MarkRequested(None if data is None else data.node))

    def show_app(self, app: AppSnapshot, marked: Iterable[ResourceKey] = ()) -> None:
        """Make the tree show ``app.resources``; keeps cursor, expansion and scroll."""
        self._marked = frozenset(marked)
        self._namespace = app.destination.namespace
        cursor = self.cursor_data
        cursor_path = cursor.path if cursor is not None else ()
        with self.app.batch_update():
            label = app_label(app, self.glyphs)
            if label != self.root.label:
                self.root.set_label(label)
            self._sync_children(self.root, (), app.resources)
            self.last_line  # noqa: B018 - rebuild line numbers before moving the cursor
            target = self._nearest(cursor_path)
            if target is not None and target is not self.cursor_node:
                self.move_cursor(target)

    def set_marked(self, marked: Iterable[ResourceKey]) -> None:
        self._marked = frozenset(marked)
        for tree_node in self._by_path.values():
            self._relabel(tree_node)

    def _nearest(self, path: Path) -> TreeNode[NodeData] | None:
        while path:
            node = self._by_path.get(path)
            if node is not None:
                return node
            path = path[:-1]
        return self.root

    def _label(self, node: ResourceNode, depth: int) -> Text:
        # the label's room: the pane's width less the guides of its depth (and the scrollbar)
        width = self.size.width - self.guide_depth * depth - 2 if self.size.width else None
        return resource_label(
            node,
            self.glyphs,
            marked=node.key in self._marked,
            app_namespace=self._namespace,
            width=width,
        )

    def on_resize(self) -> None:
        for tree_node in list(self._by_path.values()):
            self._relabel(tree_node)

    def _relabel(self, tree_node: TreeNode[NodeData]) -> None:
        node = tree_node.data.node if tree_node.data is not None else None
        if node is None or tree_node.data is None:
            return
        label = self._label(node, len(tree_node.data.path))
        if label != tree_node.label:
            tree_node.set_label(label)

    def _sync_children(
        self, parent: TreeNode[NodeData], path: Path, nodes: Sequence[ResourceNode]
    ) -> None:
        existing = {
            child.data.path[-1]: child for child in parent.children if child.data is not None
        }
        wanted = [n.key for n in nodes]
        wanted_set = set(wanted)
        old_order = [k for k in existing if k in wanted_set]
        new_order = [k for k in wanted if k in existing]
        if old_order != new_order:  # reordered: rebuild this level (rare)
            for child in list(parent.children):
                self._forget(child)
                child.remove()
            existing = {}
        for key, child in list(existing.items()):
            if key not in wanted_set:
                self._forget(child)
                child.remove()
                del existing[key]
        for index, node in enumerate(nodes):
            child_path = (*path, node.key)
            tree_node = existing.get(node.key)
            data = NodeData(child_path, node)
            if tree_node is None:
                before = index if index < len(parent.children) else None
                tree_node = parent.add(
                    self._label(node, len(child_path)),
                    data=data,
                    before=before,
                    expand=True,
                    allow_expand=bool(node.children),
                )
                self._by_path[child_path] = tree_node
            else:
                if tree_node.data != data:
                    tree_node.data = data
                    tree_node.allow_expand = bool(node.children)
                self._relabel(tree_node)
            self._sync_children(tree_node, child_path, node.children)

    def _forget(self, tree_node: TreeNode[NodeData]) -> None:
        for child in tree_node.children:
            self._forget(child)
        if tree_node.data is not None:
            self._by_path.pop(tree_node.data.path, None)
