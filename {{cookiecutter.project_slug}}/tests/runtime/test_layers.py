"""The package's imports run one way: the team's modules on top, the template's beneath.

No module of ``runtime/`` imports one of the team's (``app.py``, ``tools.py``, ``settings.py``,
``shared.py``, ``__main__.py``), and within ``runtime/`` the serving layer sits on the request
path, which sits on the rest: so a team edits its own files without touching the machinery,
and takes the template's updates without conflicts in its own.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import {{ cookiecutter.package_name }} as package

pytestmark = pytest.mark.quick  # the quick loop (README, Development)

PACKAGE = Path(package.__file__).parent
RUNTIME = PACKAGE / "runtime"
# Each layer of the runtime, and the layers it may import from.
BELOW = {"serving": {"serving", "http", "core"}, "http": {"http", "core"}, "core": {"core"}}


def layer(module: tuple[str, ...]) -> str:
    """The runtime layer of a module given by its path in the runtime package."""
    return module[0] if module[0] in ("serving", "http") else "core"


def imported(path: Path) -> set[tuple[str, ...]]:
    """The modules of the package that ``path`` imports, as paths from the package's top."""
    here = path.relative_to(PACKAGE).with_suffix("").parts[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = here[: len(here) - node.level + 1]
            module = (*base, *(node.module.split(".") if node.module else ()))
            if node.module:
                found.add(module)
            else:  # from . import errors
                found.update((*module, alias.name) for alias in node.names)
    return found


RUNTIME_MODULES = sorted(RUNTIME.rglob("*.py"))


@pytest.mark.parametrize(
    "path", RUNTIME_MODULES, ids=[str(p.relative_to(RUNTIME)) for p in RUNTIME_MODULES]
)
def test_the_runtime_imports_nothing_of_the_team_s_and_each_layer_only_those_below(
    path: Path,
) -> None:
    module = path.relative_to(RUNTIME).with_suffix("").parts
    for target in imported(path):
        assert target[0] == "runtime", f"{path.name} imports the team's {'.'.join(target)}"
        allowed = BELOW[layer(module)]
        assert layer(target[1:]) in allowed, f"{'/'.join(module)} imports {'.'.join(target)}"


def test_the_check_sees_the_imports_it_checks() -> None:
    """It reads relative imports as the package resolves them (else it could pass vacuously)."""
    app_imports = imported(PACKAGE / "app.py")
    assert ("runtime", "serving", "service") in app_imports
    assert ("tools",) in app_imports
    assert ("runtime", "http", "app") in imported(RUNTIME / "serving" / "service.py")
    assert ("runtime", "errors") in imported(RUNTIME / "sdk.py")
