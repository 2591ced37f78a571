"""The engine stays headless: importing it must never pull in textual."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import gitops_tui

PACKAGE = Path(gitops_tui.__file__).parent


def test_engine_modules_import_without_textual() -> None:
    # rglob: every sub-package of the engine (app/, source/, cache/, ...), not only the top
    modules = sorted(
        ".".join(("gitops_tui", *path.relative_to(PACKAGE).with_suffix("").parts))
        for sub in ("engine", "sandbox", "argocd")
        for path in (PACKAGE / sub).rglob("*.py")
    )
    assert len(modules) >= 40
    assert "gitops_tui.engine.sync.run" in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith(('textual.', 'gitops_tui.ui')))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip() == "", f"engine imported: {out.stdout}"


def test_no_shell_subprocesses_in_the_package() -> None:
    offenders = [
        f"{path}:{n}"
        for path in PACKAGE.rglob("*.py")
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if "shell=True" in line.replace(" ", "") or "os.system(" in line
    ]
    assert offenders == []


_SUBPROCESS_CALLS = frozenset({"run", "Popen", "call", "check_call", "check_output"})
_ALWAYS_A_SHELL = frozenset(
    {
        "subprocess.getoutput",
        "subprocess.getstatusoutput",
        "os.system",
        "os.popen",
        "asyncio.create_subprocess_shell",
    }
)


def _dotted(node: ast.AST) -> str:
    """``subprocess.run`` for ``subprocess.run``/``sp.run`` (the last two parts)."""
    if isinstance(node, ast.Attribute):
        base = node.value
        prefix = base.id if isinstance(base, ast.Name) else _dotted(base).rsplit(".", 1)[-1]
        return f"{prefix}.{node.attr}"
    return node.id if isinstance(node, ast.Name) else ""


def _is_text(node: ast.AST) -> bool:
    """A literal or computed string: a command line some shell-like split would need."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
        return _is_text(node.left) or _is_text(node.right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr == "format" and _is_text(node.func.value)
    return False


def shell_offenders(source: str, filename: str) -> list[str]:
    """Calls that start a process through a shell, or with a command given as one string."""
    offenders = []
    for node in ast.walk(ast.parse(source, filename)):
        if not isinstance(node, ast.Call):
            continue
        name = _dotted(node.func)
        where = f"{filename}:{node.lineno}"
        for keyword in node.keywords:
            if keyword.arg == "shell" and not (
                isinstance(keyword.value, ast.Constant) and keyword.value.value is False
            ):
                offenders.append(f"{where}: {name}(shell=...)")
        if name in _ALWAYS_A_SHELL:
            offenders.append(f"{where}: {name} runs a shell")
        elif name.split(".")[-1] in _SUBPROCESS_CALLS and name.startswith(("subprocess.", "sp.")):
            command = node.args[0] if node.args else None
            for keyword in node.keywords:
                if keyword.arg == "args":
                    command = keyword.value
            if command is not None and _is_text(command):
                offenders.append(f"{where}: {name} with a string command")
    return offenders


def test_no_subprocess_gets_a_string_command_or_a_shell() -> None:
    offenders = [
        offender
        for path in sorted(PACKAGE.rglob("*.py"))
        for offender in shell_offenders(path.read_text(), str(path.relative_to(PACKAGE)))
    ]
    assert offenders == []


def test_the_shell_scan_finds_what_it_looks_for() -> None:
    bad = (
        "import subprocess, os\n"
        "subprocess.run('git status')\n"
        "subprocess.Popen(f'helm template {x}')\n"
        "subprocess.check_output(args='ls ' + d)\n"
        "subprocess.run(['ls'], shell=flag)\n"
        "os.system('true')\n"
        "subprocess.getoutput(['x'])\n"
    )
    good = (
        "import subprocess\nsubprocess.run(['git', 'status'], shell=False)\nsubprocess.run(argv)\n"
    )
    assert len(shell_offenders(bad, "bad.py")) == 6
    assert shell_offenders(good, "good.py") == []


_POSIX_ONLY = frozenset({"fcntl", "termios"})


def posix_only_imports(source: str, filename: str) -> list[str]:
    """Imports of ``fcntl``/``termios`` that run when the module is imported.

    Those inside a function or method (imported on first use) are allowed; those
    at module level, even under ``if``/``try``, would break importing on Windows.
    """
    offenders: list[str] = []
    pending: list[ast.AST] = [ast.parse(source, filename)]
    while pending:
        node = pending.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                continue
            if isinstance(child, ast.Import):
                names = [alias.name.split(".")[0] for alias in child.names]
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                names = [child.module.split(".")[0]]
            else:
                pending.append(child)
                continue
            offenders += [f"{filename}:{child.lineno}: {n}" for n in names if n in _POSIX_ONLY]
    return offenders


def test_no_posix_only_import_at_module_level_in_the_package() -> None:
    paths = sorted(PACKAGE.rglob("*.py"))  # every sub-package, not only the top level
    assert any(path.parent.parent != PACKAGE.parent for path in paths)  # sub-packages seen
    offenders = [
        offender
        for path in paths
        for offender in posix_only_imports(path.read_text(), str(path.relative_to(PACKAGE)))
    ]
    assert offenders == []


def test_the_posix_import_scan_finds_what_it_looks_for() -> None:
    bad = (
        "import os, fcntl\n"
        "from termios import TIOCSWINSZ\n"
        "try:\n    import termios.x as t\nexcept ImportError:\n    pass\n"
        "class Pty:\n    import fcntl\n"
    )
    good = "import os\ndef resize():\n    import fcntl, termios\nclass T:\n    def m(self):\n        import termios\n"
    assert len(posix_only_imports(bad, "bad.py")) == 4
    assert posix_only_imports(good, "good.py") == []


def test_test_modules_have_unique_basenames() -> None:
    """pytest imports test files by basename (tests/ has no packages): two files with one
    name in different folders stop the whole run at collection."""
    tests = Path(__file__).resolve().parents[1]
    seen: dict[str, Path] = {}
    clashes = []
    for path in sorted(tests.rglob("*.py")):
        if path.name in seen and path.name not in ("conftest.py", "__init__.py"):
            clashes.append(f"{seen[path.name]} and {path}")
        seen.setdefault(path.name, path)
    assert clashes == []
