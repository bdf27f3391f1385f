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
        assert path.exists(), f"{part} is gone: update the rule's list"
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


def _root(node: ast.expr) -> str | None:
    """The name an expression like `Tag.objects.filter(...)` starts from."""
    while isinstance(node, ast.Call | ast.Attribute | ast.Subscript):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _written(path: Path, *, models: set[str] | None = None) -> list[str]:
    """`file:line .method()` for each call that writes rows (only rows of `models`, when given)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        method, receiver = node.func.attr, node.func.value
        if method in WRITES or (method in QUERYSET_WRITES and _on_queryset(receiver)):
            if models is None or _root(receiver) in models:
                found.append((node.lineno, f"{_shown(path)}:{node.lineno} .{method}()"))
    return [text for _, text in sorted(found)]


def _names_from(path: Path, module: str) -> set[str]:
    """The names `path` imports from `module` (or its submodules)."""
    return {
        alias.asname or alias.name
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[:2] == module.split(".")
        for alias in node.names
    }


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


@pytest.mark.parametrize("path", _modules("repos/storage"), ids=_shown)
def test_storage_knows_no_models(path: Path) -> None:
    """repos/storage moves bytes by digest: of Django only the settings, of the project only repos/oci."""
    outside = {
        name
        for name in _imported(path)
        if (name.split(".")[0] in {"django", "rest_framework", "celery"} and name != "django.conf")
        or (name.split(".")[0] in PROJECT_PACKAGES and not name.startswith(("repos.oci", "repos.storage")))
    }
    assert not outside, f"{_shown(path)} imports {sorted(outside)}"


@pytest.mark.parametrize("path", _modules("repos", "accounts"), ids=_shown)
def test_the_core_knows_nothing_of_the_apps_built_on_it(path: Path) -> None:
    """repos and accounts never import builds or insights: those hook in through repos.signals and
    repos.promotion.rules.promotion_rule_register, so the registry runs (and is tested) without them."""
    above = {name for name in _imported(path) if name.split(".")[0] in {"builds", "insights"}}
    assert not above, f"{_shown(path)} imports {sorted(above)}"


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


THIN = _modules(
    "repos/views",
    "repos/api",
    "repos/registry/views",
    "repos/promotion/views.py",
    "repos/promotion/api.py",
    "repos/tasks.py",
    "repos/promotion/tasks.py",
    "accounts/views",
    "accounts/api",
    "builds/views.py",
    "builds/api.py",
    "builds/tasks.py",
    "insights/views.py",
    "insights/api.py",
    "insights/api_smoke.py",
    "insights/tasks.py",
)


@pytest.mark.parametrize("path", THIN, ids=_shown)
def test_views_api_and_tasks_write_through_services(path: Path) -> None:
    """Pages, REST and /v2/ views and Celery tasks call services to change anything; they write no row themselves."""
    assert not _written(path), f"writes outside a service: {_written(path)}"


OTHER_APPS = _modules("builds", "insights")


@pytest.mark.parametrize("path", OTHER_APPS, ids=_shown)
def test_builds_and_insights_change_repos_only_through_its_services(path: Path) -> None:
    """builds and insights may read repos rows, but a tag, an image or a blob changes only through repos services."""
    repos_models = _names_from(path, "repos.models")
    assert not _written(path, models=repos_models), f"writes repos rows: {_written(path, models=repos_models)}"


def test_the_rules_see_what_they_forbid(tmp_path: Path) -> None:
    assert (
        len(_modules("repos/oci")) >= 5
        and len(_modules("repos/storage")) >= 5
        and len(SELECTORS) >= 10
        and len(THIN) >= 20
        and len(OTHER_APPS) >= 30
    )
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from django.db import models\n"
        "from repos.models import Tag\n"
        "seen = {}\n"
        "seen.update(a=1)\n"
        "Tag.objects.filter(pk=1).update(name='x')\n"
        "BuildJob.objects.create(name='x')\n"
        "tag.save()\n"
    )
    assert "django.db" in _imported(sample)
    assert [line.split(" ")[1] for line in _written(sample)] == [".update()", ".create()", ".save()"]
    tags_only = _written(sample, models=_names_from(sample, "repos.models"))
    assert [line.split(" ")[1] for line in tags_only] == [".update()"]
