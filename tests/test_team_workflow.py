"""Slow tier: the team workflow on real bakes (pre-commit, then template updates with cruft).

pre-commit runs in the bake's own venv (its [dev] extra, installed by uv) and builds its hook
environments from PyPI into a private PRE_COMMIT_HOME; no hook is cloned from a git host.

The template update plays out a year in a team's life on a git copy of the template: a project
is created with ``cruft create``, the team edits its own files, the template changes a file of
its machinery (the CI workflow) and one the team edited too (the README), and ``cruft update``
must apply the first cleanly and report the second as a conflict, keeping the team's text.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

import pytest

from _support import (
    TEMPLATE_DIR,
    Bake,
    CommandResult,
    clean_env,
    expect_success,
    python_module,
    run,
    unavailable,
)

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


# The template proper: what cookiecutter reads. The template's own tests and tooling stay out.
TEMPLATE_PARTS = ("cookiecutter.json", "hooks", "{{cookiecutter.project_slug}}")
CACHES = shutil.ignore_patterns("__pycache__", "*.py[cod]", ".*_cache")
# A git identity for the commits the test makes as "the team" and "the template's maintainers".
IDENTITY = ("-c", "user.name=Template Tests", "-c", "user.email=template-tests@example.com")


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


def _git(cwd: Path, *args: str) -> CommandResult:
    """Run git with a fixed identity in cwd; fail the test if it fails."""
    result = run(["git", *IDENTITY, *args], cwd=cwd)
    expect_success(result)
    return result


def _template_repository(root: Path) -> Path:
    """Copy the template proper into a fresh git repository with one commit."""
    root.mkdir()
    for part in TEMPLATE_PARTS:
        source = TEMPLATE_DIR / part
        if source.is_dir():
            shutil.copytree(source, root / part, ignore=CACHES)
        else:
            shutil.copy2(source, root / part)
    _git(root, "init", "-q")
    _git(root, "add", "--all")
    _git(root, "commit", "-q", "-m", "The template as tested")
    return root


def _replace_line(path: Path, old: str, new: str) -> None:
    """Replace one whole line of a text file, which must be there exactly once."""
    lines = path.read_text("utf-8").split("\n")
    assert lines.count(old) == 1, f"{path.name}: {old!r} is not there exactly once"
    lines[lines.index(old)] = new
    path.write_text("\n".join(lines), encoding="utf-8")


def _cruft(cwd: Path, *args: str) -> CommandResult:
    """Run cruft from this test environment (requirements-dev.txt) in cwd."""
    return run(python_module("cruft", *args), cwd=cwd)


@pytest.mark.parametrize("baker", ["cookiecutter", "cruft-create"])
def test_cruft_update_applies_template_changes_and_reports_conflicts(
    baker: str, tmp_path: Path, cookiecutter_config: Path
) -> None:
    """A machinery change arrives cleanly; a change to a line the team edited is a conflict.

    Either way of baking records the template: plain cookiecutter through the post-gen hook
    (in the first commit), ``cruft create`` itself (committed next, as the README says).
    """
    _require_git()
    template = _template_repository(tmp_path / "template")
    first_commit = _git(template, "rev-parse", "HEAD").output.strip()
    # The private cookiecutter config keeps a developer's ~/.cookiecutterrc out of the answers.
    options = ["--no-input", "--config-file", str(cookiecutter_config), "--output-dir", "out"]
    if baker == "cookiecutter":
        expect_success(run(python_module("cookiecutter", *options, str(template)), cwd=tmp_path))
    else:
        expect_success(_cruft(tmp_path, "create", *options, str(template)))
    project = tmp_path / "out" / "my-mcp-server"

    recorded = json.loads((project / ".cruft.json").read_text("utf-8"))
    assert Path(recorded["template"]).resolve() == template.resolve()
    assert recorded["commit"] == first_commit
    assert recorded["context"]["cookiecutter"]["mcp_sdk"] == "2.x"
    if baker == "cruft-create":
        _git(project, "add", ".cruft.json")
        _git(project, "commit", "-q", "-m", "Record the template the project was baked from")
    clean = _git(project, "status", "--porcelain")
    assert clean.output == "", clean.describe()
    expect_success(_cruft(project, "check"))

    # The team's year: its own module, and its own words at the top of the README.
    description = "A stateless streamable-HTTP MCP server."
    team_line = "Forecasts for the Zürich office, served over MCP."
    (project / "src" / "my_mcp_server" / "forecasts.py").write_text(
        '"""Our forecasts."""\n', encoding="utf-8"
    )
    _replace_line(project / "README.md", description, team_line)
    _git(project, "add", "--all")
    _git(project, "commit", "-q", "-m", "Describe our service")

    # The template's year: a machinery change, a README change on the team's line, and a relock.
    baked_dir = template / "{{cookiecutter.project_slug}}"
    old_step, new_step = "      - uses: actions/checkout@v4", "      - uses: actions/checkout@v5"
    _replace_line(baked_dir / ".github" / "workflows" / "ci.yml", old_step, new_step)
    lock = (project / "uv.lock").read_bytes()
    (revision,) = [line for line in lock.decode().split("\n") if line.startswith("revision = ")]
    _replace_line(baked_dir / "uv-2.x.lock", revision, "revision = 999")
    template_line = "{{ cookiecutter.description }} Built on the MCP service template."
    _replace_line(baked_dir / "README.md", "{{ cookiecutter.description }}", template_line)
    _git(template, "commit", "-q", "-a", "-m", "A year of template changes")

    check = _cruft(project, "check")
    assert check.returncode == 1, check.describe()
    assert "out of date" in check.output, check.describe()

    # --skip-apply-ask (-y): apply without the interactive "apply diff?" prompt.
    update = _cruft(project, "update", "--skip-apply-ask")
    expect_success(update)
    # cruft exits 0 even with a conflict, so the report is in its output and in git's status.
    assert "Applied patch to '.github/workflows/ci.yml' cleanly" in update.output, update.describe()
    assert "Applied patch to 'README.md' with conflicts" in update.output, update.describe()
    status = _git(project, "status", "--porcelain").output.splitlines()
    assert "UU README.md" in status, status
    assert "M  .github/workflows/ci.yml" in status, status

    assert new_step in (project / ".github" / "workflows" / "ci.yml").read_text("utf-8").split("\n")
    # The lock is the team's ([tool.cruft] skip): left as it was, for `uv lock` to move.
    assert (project / "uv.lock").read_bytes() == lock
    assert not any("uv.lock" in line for line in status), status
    readme = (project / "README.md").read_text("utf-8")
    # Both sides of the conflict are in the file, between git's markers: nothing is lost.
    ours, theirs = readme.split("<<<<<<< ours\n", 1)[1].split("\n=======\n", 1)
    assert ours == team_line
    assert (
        theirs.split("\n>>>>>>> theirs\n", 1)[0]
        == f"{description} Built on the MCP service template."
    )
    assert (project / "src" / "my_mcp_server" / "forecasts.py").is_file()
    # The record moved on to the template's new commit; the bake's re-runs left no .git behind.
    updated = json.loads((project / ".cruft.json").read_text("utf-8"))
    assert updated["commit"] == _git(template, "rev-parse", "HEAD").output.strip() != first_commit
    assert not any(".git/" in line for line in status), status
