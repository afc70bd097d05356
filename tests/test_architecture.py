"""House rules that code review alone does not keep: no module of sel-time imports a private
(underscore) name from another feature. A feature is a top-level package or module of
``sel_time`` (``api``, ``feeds``, ``imports``, ``jobs``, ``planning``, ...); inside one, its
modules may share private helpers."""
from __future__ import annotations

import ast
from pathlib import Path

SEL_TIME = Path(__file__).resolve().parents[1] / "sel_time"


def _module_parts(path: Path) -> list[str]:
    parts = list(path.relative_to(SEL_TIME.parent).with_suffix("").parts)
    return parts[:-1] if parts[-1] == "__init__" else parts


def _imported_from(path: Path, node: ast.ImportFrom) -> list[str]:
    """The absolute module an ``ImportFrom`` names, as parts."""
    if not node.level:
        return (node.module or "").split(".")
    package = _module_parts(path) if path.name == "__init__.py" else _module_parts(path)[:-1]
    base = package[: len(package) - (node.level - 1)]
    return base + (node.module.split(".") if node.module else [])


def private_imports_across_features() -> list[str]:
    found = []
    for path in sorted(SEL_TIME.rglob("*.py")):
        here = _module_parts(path)
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.ImportFrom):
                continue
            target = _imported_from(path, node)
            if target[0] != "sel_time" or len(target) < 2 or len(here) < 2:
                continue
            if target[1] == here[1]:
                continue  # the same feature
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"{path.relative_to(SEL_TIME.parent)}:{node.lineno} imports "
                                 f"{alias.name} from {'.'.join(target)}")
    return found


def test_no_feature_imports_another_features_private_names() -> None:
    assert private_imports_across_features() == []


def test_the_check_sees_a_private_import(tmp_path: Path) -> None:
    """The walk would catch one: a relative import of a private name from another feature."""
    node = ast.parse("from ..api.openapi import _json").body[0]
    assert isinstance(node, ast.ImportFrom)
    assert _imported_from(SEL_TIME / "feeds" / "routes.py", node) == ["sel_time", "api", "openapi"]
    node = ast.parse("from .jobs import _holder").body[0]
    assert isinstance(node, ast.ImportFrom)
    assert _imported_from(SEL_TIME / "plans" / "planning.py", node) == ["sel_time", "plans", "jobs"]
