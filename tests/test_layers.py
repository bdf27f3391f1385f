"""The import and write rules of docs/architecture.md that a reader cannot see break: checked on the source."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROJECT_PACKAGES = {"accounts", "bench", "builds", "config", "insights", "repos"}
# Model and queryset methods that write rows; `create` and `update` only on a queryset (dict.update writes no row).
WRITES = {"save", "delete", "bulk_create", "bulk_update", "get_or_create", "update_or_create"}
QUERYSET_WRITES = {"create", "update"}
QUERYSET_STEPS = {"objects", "filter", "exclude", "all", "select_for_update", "using"}


def _modules(*relative: str) -> list[Path]:
    """The Python files named, and those under the folders named (their tests aside)."""
    found: list[Path] = []
    for part in relative:
        path = ROOT / part
        found += [path] if path.is_file() else sorted(p for p in path.rglob("*.py") if "tests" not in p.parts)
    return found


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


def _imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def _on_queryset(node: ast.expr) -> bool:
    """Whether an expression like `Tag.objects.filter(...)` reaches a manager or a queryset step."""
    while isinstance(node, ast.Call | ast.Attribute):
        if isinstance(node, ast.Attribute):
            if node.attr in QUERYSET_STEPS:
                return True
            node = node.value
        else:
            node = node.func
    return False


def _written(path: Path) -> list[str]:
    """`file:line .method()` for each call that writes rows."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        method = node.func.attr
        if method in WRITES or (method in QUERYSET_WRITES and _on_queryset(node.func.value)):
            found.append((node.lineno, f"{_shown(path)}:{node.lineno} .{method}()"))
    return [text for _, text in sorted(found)]


@pytest.mark.parametrize("path", _modules("repos/oci"), ids=_shown)
def test_oci_is_pure(path: Path) -> None:
    """repos/oci parses bytes into typed objects: no Django, no DRF, nothing else of the project."""
    outside = {
        name
        for name in _imported(path)
        if name.split(".")[0] in {"django", "rest_framework", "celery"}
        or (name.split(".")[0] in PROJECT_PACKAGES and not name.startswith("repos.oci"))
    }
    assert not outside, f"{_shown(path)} imports {sorted(outside)}"


SELECTORS = _modules(
    "repos/selectors",
    "repos/promotion/selectors.py",
    "accounts/selectors.py",
    "builds/selectors.py",
    "insights/selectors.py",
)


@pytest.mark.parametrize("path", SELECTORS, ids=_shown)
def test_selectors_never_write(path: Path) -> None:
    """Selectors read; every write goes through a service (so a page or a GET never changes a row)."""
    assert not _written(path), f"a selector writes: {_written(path)}"


def test_the_rules_see_what_they_forbid(tmp_path: Path) -> None:
    assert len(_modules("repos/oci")) >= 5 and len(SELECTORS) >= 10
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from django.db import models\n"
        "seen = {}\n"
        "seen.update(a=1)\n"
        "Tag.objects.filter(pk=1).update(name='x')\n"
        "Tag.objects.create(name='x')\n"
        "tag.save()\n"
    )
    assert "django.db" in _imported(sample)
    assert [line.split(" ")[1] for line in _written(sample)] == [".update()", ".create()", ".save()"]
