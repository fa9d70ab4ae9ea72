"""Fast tier: each bake's uv.lock agrees with its pyproject.toml, and is what tests/locks.py writes.

The lock is what the image and the bake's CI install (``uv sync --locked``), so a bake whose lock
disagrees with its requirements would not build. uv itself is the judge: ``uv lock --check``
fails when the requirements changed without a relock. Offline, so the check reads the lock and
``pyproject.toml`` alone, never an index that has moved on since. That the image then holds the
lock's versions, no more and no other, is the slow tier's (``test_container.py``).
"""

from __future__ import annotations

import itertools
import shutil
import tomllib
from pathlib import Path

import pytest

import locks
from _support import SDK_NEWEST, Bake, python_module, run

AUTHS = ("none", "bearer", "oauth")
# Slugs that sort before and after every locked package, and the default among them.
SLUGS = ("aaa-tools", "my-mcp-server", "zzz-tools")


def uv_lock_check(project: Path) -> tuple[int, str]:
    """Run ``uv lock --check --offline`` in the project: its exit code and output."""
    result = run(python_module("uv", "lock", "--check", "--offline"), cwd=project)
    return result.returncode, result.describe()


@pytest.mark.parametrize(
    ("sdk", "auth", "slug"),
    [
        (sdk, auth, SLUGS[i % len(SLUGS)])
        for i, (sdk, auth) in enumerate(itertools.product(locks.LINES, AUTHS))
    ],
)
def test_the_lock_agrees_with_the_requirements(
    bake: Bake, tmp_path: Path, sdk: str, auth: str, slug: str
) -> None:
    """Each SDK line and auth answer, under a name that sorts elsewhere: uv finds it current."""
    project = bake(tmp_path, mcp_sdk=sdk, auth=auth, project_slug=slug)
    assert sorted(path.name for path in project.glob("*.lock")) == ["uv.lock"]
    returncode, output = uv_lock_check(project)
    assert returncode == 0, output
    lock = tomllib.loads((project / "uv.lock").read_text("utf-8"))
    names = [package["name"] for package in lock["package"]]
    assert names == sorted(names), "not in uv's order: uv's next rewrite would move packages"
    (own,) = [package for package in lock["package"] if package["name"] == slug]
    direct = {dependency["name"] for dependency in own["dependencies"]}
    # pyjwt[crypto] is a requirement of auth=oauth's alone (mcp brings pyjwt either way).
    assert ("pyjwt" in direct) == (auth == "oauth"), direct


@pytest.mark.parametrize("sdk", locks.LINES)
def test_the_other_lines_lock_fails_the_check(bake: Bake, tmp_path: Path, sdk: str) -> None:
    """The check is no formality: a lock of other requirements, the other line's, fails it."""
    project = bake(tmp_path, mcp_sdk=sdk)
    other = next(line for line in locks.LINES if line != sdk)
    shutil.copyfile(bake(tmp_path / "other", mcp_sdk=other) / "uv.lock", project / "uv.lock")
    returncode, output = uv_lock_check(project)
    assert returncode != 0, output


@pytest.mark.parametrize("sdk", locks.LINES)
def test_the_template_locks_are_what_the_script_writes(tmp_path: Path, sdk: str) -> None:
    """tests/locks.py, offline, relocks each line to the template's lock unchanged.

    So the template's locks are uv's output made a template again, and the script that
    regenerates them after a requirement changes works.
    """
    written = locks.lock_line(sdk, ["--offline"], tmp_path)
    assert written == locks.template_lock(sdk).read_text("utf-8")


@pytest.mark.parametrize("sdk", locks.LINES)
def test_the_lock_has_the_slow_tiers_newest_mcp(bake: Bake, tmp_path: Path, sdk: str) -> None:
    """The slow tier's newest mcp (SDK_NEWEST) is the one the bake ships: the lock's."""
    project = bake(tmp_path, mcp_sdk=sdk)
    lock = tomllib.loads((project / "uv.lock").read_text("utf-8"))
    (mcp,) = [package["version"] for package in lock["package"] if package["name"] == "mcp"]
    assert mcp == SDK_NEWEST[sdk], "relocked to a new mcp: update SDK_NEWEST in _support.py"
