"""The dependency rules of ARCHITECTURE.md, checked on the source (every import, even conditional ones).

- `portal` imports no feature package;
- `ideas` imports neither `voting` nor `rewards`;
- `voting` does not import `rewards`;
- `rewards` reads other packages' models (`ideas.models`, `voting.models`) and hears of what happens
  there through their events (`ideas.events`, `voting.events`: the event classes are its listeners'
  keys), and imports nothing else of theirs (no services, queries, policies);
- only `portal/markup.py` imports bleach.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("portal", "ideas", "voting", "rewards")
FEATURES = ("ideas", "voting", "rewards")
MARKUP_MODULE = "portal.markup"

# package -> packages it may not import at all
FORBIDDEN = {
    "portal": {"ideas", "voting", "rewards"},
    "ideas": {"voting", "rewards"},
    "voting": {"rewards"},
    "rewards": set(),
}
# package -> the only modules of other feature packages it may import
# Besides models and events, rewards uses the extension points ideas offers for it: the insider-board
# hook (`ideas.policy.set_insider_access`), page slots (`ideas.extensions`), and the visibility check
# of one idea (`ideas.service.visible_idea`) before accepting a duplicate report on it.
ONLY_ALLOWED = {
    "rewards": {
        "ideas.models",
        "voting.models",
        "ideas.events",
        "voting.events",
        "ideas.extensions",
        "ideas.policy",
        "ideas.service",
    }
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(
    source: str, module: str, *, is_package: bool = False
) -> Iterator[tuple[int, str, str | None]]:
    """(line, absolute module, name imported from it or None) for every import in `source`."""
    tree = ast.parse(source)
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, None
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                if node.level > 1:
                    base_parts = base_parts[: -(node.level - 1)]
                base = ".".join(p for p in [*base_parts, node.module or ""] if p)
            else:
                base = node.module or ""
            for alias in node.names:
                yield node.lineno, base, None if alias.name == "*" else alias.name
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id)
            in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.lineno, node.args[0].value, None


def top(name: str) -> str:
    return name.split(".", 1)[0]


def violations(source: str, module: str, *, is_package: bool = False) -> list[str]:
    """What is wrong with the imports of `module`, whose source is `source`."""
    own = top(module)
    found = []
    for line, base, name in imported_modules(source, module, is_package=is_package):
        target = top(base)
        where = f"{module} line {line} imports {base + '.' + name if name else base}"
        if target == "bleach" and module != MARKUP_MODULE:
            found.append(f"{where}: only {MARKUP_MODULE} may use bleach")
        if target == own or target not in FEATURES:
            continue
        if target in FORBIDDEN.get(own, set()):
            found.append(f"{where}: {own} may not depend on {target}")
        allowed = ONLY_ALLOWED.get(own)
        # `from ideas.models import Idea` and `from ideas import models` both read ideas.models.
        if allowed is not None and base not in allowed and f"{base}.{name}" not in allowed:
            found.append(f"{where}: {own} may import only {', '.join(sorted(allowed))}")
    return found


def source_files() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def test_the_packages_are_found() -> None:
    files = {module_name(p) for p in source_files()}
    assert {"portal.app", "portal.settings", "portal.cli"} <= files
    assert {"ideas.feature", "voting.feature", "rewards.feature"} <= files


@pytest.mark.parametrize("path", source_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_dependency_rules(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    assert violations(source, module_name(path), is_package=path.name == "__init__.py") == []


# The checker itself: each rule must catch what it is meant to catch.


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("portal.app", "import ideas.routes"),
        ("portal.app", "from ideas import routes"),
        ("portal.app", "from rewards.service import tier_of"),
        ("portal.app", "import importlib\nimportlib.import_module('voting.models')"),
        ("portal.sub.thing", "from ...ideas import models"),
        (
            "portal.x",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ideas.models import Idea",
        ),
        ("ideas.service", "from voting.models import Vote"),
        ("ideas.service", "def f():\n    import rewards.service"),
        ("voting.service", "from rewards import service"),
        ("voting.service", "import rewards"),
        ("rewards.listeners", "from ideas.queries import list_ideas"),
        ("rewards.listeners", "from ideas import queries"),
        ("rewards.listeners", "from ideas import models, queries"),
        ("rewards.listeners", "from ideas import *"),
        ("rewards.listeners", "import ideas"),
        ("rewards.listeners", "from voting.queries import counts"),
        ("rewards.listeners", "from ideas.models.extra import X"),
        ("rewards.service", "from ideas.moderation import hide_idea"),
        ("rewards.service", "from voting.service import cast_vote"),
        ("ideas.markup", "import bleach"),
        ("portal.templating", "from bleach.sanitizer import Cleaner"),
    ],
)
def test_the_checker_catches(module: str, source: str) -> None:
    assert violations(source, module) != []


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("portal.app", "from portal import db\nfrom . import routes\nimport starlette"),
        (
            "ideas.service",
            "from portal import permissions\nfrom ideas.models import Idea\nfrom .events import X",
        ),
        ("voting.service", "from ideas.models import Idea\nfrom ideas import service"),
        ("rewards.listeners", "from ideas.models import Idea\nfrom voting.models import Vote"),
        ("rewards.listeners", "from ideas import models\nimport voting.models"),
        ("rewards.listeners", "from ideas.events import IdeaPosted\nfrom voting import events"),
        ("rewards.listeners", "from portal.events import listen\nfrom rewards.models import Ledger"),
        ("portal.markup", "import bleach\nfrom bleach.linkifier import Linker"),
    ],
)
def test_the_checker_allows(module: str, source: str) -> None:
    assert violations(source, module) == []
