"""Slow tier: the team workflow on real bakes (pre-commit, then template updates with cruft).

pre-commit runs in the bake's own venv (its [dev] extra, installed by uv) and builds its hook
environments from PyPI into a private PRE_COMMIT_HOME; no hook is cloned from a git host.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

import pytest

from _support import Bake, clean_env, expect_success, python_module, run, unavailable

pytestmark = pytest.mark.slow

PRE_COMMIT_HOOKS = [
    "ruff check",
    "ruff format",
    "mypy --strict",
    "trailing whitespace",
    "end of file",
    "check yaml",
    "check toml",
    "check for added large files",
    "check for merge conflict markers",
]


def _require_git() -> None:
    if shutil.which("git") is None:
        unavailable("git not found", "install git (apt-get install git)")


def _install_dev_venv(path: Path, home: Path) -> dict[str, str]:
    """Install the bake's [dev] extra into path/.venv; return the environment that uses it."""
    venv = path / ".venv"
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / ("python.exe" if os.name == "nt" else "python")
    env = clean_env(
        {
            "VIRTUAL_ENV": str(venv),
            "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
            "PRE_COMMIT_HOME": str(home),
        }
    )
    for command in (
        python_module("uv", "venv", "--python", sys.executable, str(venv)),
        python_module("uv", "pip", "install", "--python", str(python), "-e", ".[dev]"),
    ):
        expect_success(run(command, cwd=path, env=env))
    return env


def test_fresh_bake_passes_pre_commit_and_it_catches_a_bad_file(bake: Bake, tmp_path: Path) -> None:
    """`pre-commit run --all-files` passes every hook on a fresh bake, changing nothing."""
    _require_git()
    path = bake(tmp_path / "out")
    env = _install_dev_venv(path, tmp_path / "pre-commit-home")
    pre_commit = ["pre-commit", "run", "--all-files", "--show-diff-on-failure", "--color=never"]

    result = run(pre_commit, cwd=path, env=env)
    expect_success(result)
    for hook in PRE_COMMIT_HOOKS:
        # A hook with no files to check says "(no files to check)Skipped", not "Passed".
        assert re.search(rf"^{re.escape(hook)}\.+Passed$", result.output, re.M), result.describe()
    status = run(["git", "status", "--porcelain"], cwd=path)
    assert (status.returncode, status.output) == (0, ""), status.describe()

    # The same run fails on a tracked file with trailing whitespace, and fixes it.
    (path / "notes.txt").write_text("trailing   \n", encoding="utf-8")
    expect_success(run(["git", "add", "notes.txt"], cwd=path))
    result = run(pre_commit, cwd=path, env=env)
    assert result.returncode == 1, result.describe()
    assert re.search(r"^trailing whitespace\.+Failed$", result.output, re.M), result.describe()
    assert (path / "notes.txt").read_text("utf-8") == "trailing\n"
