"""Trim the baked project to the chosen options, then say what to do next.

Cookiecutter renders this file with Jinja and runs it inside the baked project
directory. Options that add files are expected to ship those files in the
template unconditionally and have this hook remove the ones not chosen: that
keeps every file visible and testable in the template, and it keeps Jinja out
of file names. Each option has one small ``remove_*()`` function, so ``main()``
reads as the decision table.

The hook is idempotent (removing a missing path is not an error), uses no
network and never prompts, so it behaves the same under ``--no-input`` and in
CI. Then it records the template and its commit in ``.cruft.json`` for later
template updates and, unless answered otherwise, makes the bake a git repository
with one first commit (pre-commit needs one); without git it says so and the
bake still succeeds. Like the pre-gen hook, answers arrive as JSON data and all
Jinja lives in ``rendered_answers()`` and ``rendered_context()``, so the
unrendered file is importable by unit tests.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

# Files only one SDK line runs: MCP 2026-07-28, which 2.x speaks and 1.x refuses, with its
# subscriptions/listen and its calls that ask the user in rounds (request state); 1.x's spans.
LINE_ONLY = {
    "2.x": [
        "src/{package}/runtime/protocol_headers.py",
        "src/{package}/runtime/subscriptions.py",
        "src/{package}/runtime/broker.py",
        "tests/runtime/test_protocol_2026.py",
        "tests/runtime/test_request_state.py",
        "tests/runtime/test_subscriptions.py",
        "tests/runtime/test_subscriptions_across_processes.py",
        "tests/support/asking.py",
        "tests/support/broker.py",
        "tests/support/listeners.py",
        "tests/test_asking.py",
    ],
    # The MCP server spans 2.x makes itself.
    "1.x": [
        "src/{package}/runtime/server_spans.py",
        "tests/runtime/test_protocol_2026_refused.py",
    ],
}


def choose_sdk_line(project: Path, package: str, line: str) -> None:
    """Keep the chosen line's SDK seams, files and dependency lock; drop the other line's.

    The seams are ``runtime/sdk.py``, the tests' ``support/sdk_client.py`` and the suite's tools
    only one line serves (``support/line_tools.py``). The lock is ``uv.lock``.
    """
    choose_variant(project / "src" / package / "runtime", "sdk", line)
    choose_variant(project / "tests" / "support", "sdk_client", line)
    choose_variant(project / "tests" / "support", "line_tools", line)
    others = [path for other, paths in LINE_ONLY.items() if other != line for path in paths]
    remove_paths(project, [path.format(package=package) for path in others])
    choose_variant(project, "uv", line, suffix=".lock")
    sort_lock(project / "uv.lock")


# What begins each package's table in uv.lock; a blank line ends the one before.
LOCK_PACKAGE = "\n[[package]]\n"


def sort_lock(lock: Path) -> None:
    """Put the lock's packages in uv's order, by name, the project's own among them.

    The template's lock was made for the default name, and lists the project where that name
    sorts; uv lists it where this bake's name sorts. Moved there, the lock reads as uv wrote it
    for this project, and uv's next rewrite of it (``uv lock --upgrade-package``, Dependabot's)
    moves nothing. Packages of one name (one per Python version range) keep their order.
    """
    if not lock.is_file():
        return
    head, *packages = lock.read_text("utf-8").split(LOCK_PACKAGE)
    packages.sort(key=lambda package: package.split('"', 2)[1])
    lock.write_text(LOCK_PACKAGE.join([head, *packages]), encoding="utf-8")


def choose_auth(project: Path, package: str, auth: str) -> None:
    """Keep the chosen authentication and its tests; drop the others.

    The seams are ``runtime/auth.py`` and the credentials every test presents,
    ``tests/support/credentials.py``, which every test uses whatever the answer (with none, it
    presents nothing).
    """
    choose_variant(project / "src" / package / "runtime", "auth", auth)
    choose_variant(project / "tests" / "support", "credentials", auth)
    others = [choice for choice in ("bearer", "oauth") if choice != auth]
    remove_paths(project, [f"tests/runtime/test_auth_{choice}.py" for choice in others])


def remove_container(project: Path) -> None:
    """Remove the container image's recipe (Dockerfile, build-context filter) and its page."""
    remove_paths(project, ["Dockerfile", ".dockerignore", "docs/container.md"])


def remove_kubernetes(project: Path) -> None:
    """Remove the Kubernetes manifests, their page and their test (deploy/nginx.conf stays)."""
    remove_paths(project, ["deploy/k8s", "docs/kubernetes.md", "tests/runtime/test_configmap.py"])


# cookiecutter's built-in template abbreviations, so that `cookiecutter gh:org/template` records
# a URL that cruft can clone.
ABBREVIATIONS = {
    "gh": "https://github.com/{0}.git",
    "gl": "https://gitlab.com/{0}.git",
    "bb": "https://bitbucket.org/{0}",
}


def record_template(project: Path, context: Mapping[str, Any]) -> str | None:
    """Write ``.cruft.json``: the template, its commit and the answers, for later updates.

    ``cruft check`` and ``cruft update`` read this file. Under ``cruft create`` (the context has
    ``_commit``) cruft writes it after this hook, so this does nothing. Returns None when the
    record is written or not needed, else a note saying why not.
    """
    if "_commit" in context:
        return None
    template, repo_dir = str(context.get("_template", "")), str(context.get("_repo_dir", ""))
    # cookiecutter passes a template given as a relative path on as it is, relative to where
    # it ran, which is not this hook's directory; the shell's PWD still says where that was.
    repo = Path(os.environ.get("PWD", ""), repo_dir) if repo_dir else Path()
    git = shutil.which("git")
    if not repo_dir or not (repo / "cookiecutter.json").is_file() or git is None:
        return "the template's directory or git was not found"
    head = subprocess.run(
        [git, "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=False
    )
    if head.returncode != 0:
        return "the template is not in a git repository"
    commit = head.stdout.strip()
    prefix, _, rest = template.partition(":")
    if prefix in ABBREVIATIONS:
        template = ABBREVIATIONS[prefix].format(rest)
    elif "://" not in template and not template.startswith("git@"):
        template = str(repo.resolve())
    answers = {key: value for key, value in context.items() if not key.startswith("_")}
    record = {
        "template": template,
        "commit": commit,
        "checkout": context.get("_checkout"),
        "context": {"cookiecutter": {**answers, "_template": template, "_commit": commit}},
        "directory": None,
    }
    text = json.dumps(record, ensure_ascii=False, indent=2)
    (project / ".cruft.json").write_text(text + "\n", encoding="utf-8")
    return None


def init_git_repository(project: Path, author_name: str, author_email: str) -> str | None:
    """Make project a git repository whose first commit holds the whole bake.

    The author answers are the commit's identity, passed with ``-c`` so that a machine without
    a git identity can bake too. Returns None when done, else a note saying why not: a bake
    never fails over git. A bake inside an existing work tree (a monorepo) is not nested.
    """
    git = shutil.which("git")
    if git is None:
        return "git not found"
    inside = subprocess.run(
        [git, "rev-parse", "--is-inside-work-tree"], cwd=project, capture_output=True, text=True
    )
    if inside.stdout.strip() == "true":
        return "the project is in a git work tree already (a parent's, or an earlier bake's)"
    identity = ["-c", f"user.name={author_name}", "-c", f"user.email={author_email}"]
    steps = {
        "init": ["-c", "init.defaultBranch=main", "init", "-q"],
        "add": ["add", "--all"],
        "commit": [
            *identity,
            *("-c", "commit.gpgsign=false", "commit", "-q", "--no-verify"),
            *("-m", "Bake the project from the MCP service template"),
        ],
    }
    for step, args in steps.items():
        result = subprocess.run([git, *args], cwd=project, capture_output=True, text=True)
        if result.returncode != 0:
            return f"git {step} failed: {result.stderr.strip()}"
    return None


def choose_variant(directory: Path, module: str, choice: str, suffix: str = ".py") -> None:
    """Make ``<module>-<choice>.py`` the module ``<module>.py`` and delete its other variants.

    The template holds whole-file variants where SDK lines or options differ, rather than
    Jinja conditionals inside one file, so that each baked module reads as written by hand.
    Files other than modules name their suffix (``uv-2.x.lock`` becomes ``uv.lock``).
    """
    chosen = directory / f"{module}-{choice}{suffix}"
    if chosen.is_file():
        chosen.replace(directory / f"{module}{suffix}")
    for other in directory.glob(f"{module}-*{suffix}"):
        other.unlink()


def remove_paths(project_dir: Path, relative_paths: Iterable[str]) -> None:
    """Delete files or directories under project_dir; missing ones are skipped."""
    for relative in relative_paths:
        path = project_dir / relative
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)


def next_steps(answers: Mapping[str, str]) -> str:
    """Return the commands that take a user from the bake to a running server.

    The slug needs no shell quoting: the pre-gen hook only lets through
    lowercase letters, digits and hyphens.
    """
    slug = answers["project_slug"]
    steps = f"Created {slug}/. Next steps:\n    cd {slug} && pip install -e '.[dev]' && {slug}"
    prefix = answers["package_name"].upper() + "_"
    if answers["auth"] == "bearer":
        steps += f"\n(set {prefix}AUTH_TOKENS first: the server refuses to start without a token)"
    elif answers["auth"] == "oauth":
        steps += (
            f"\n(set {prefix}AUTH_ISSUER, {prefix}AUTH_JWKS_URL and {prefix}AUTH_RESOURCE_URL"
            " first: see .env.example)"
        )
    return steps


def rendered_answers() -> dict[str, Any]:
    """Return the answers cookiecutter rendered into this file, decoded as data."""
    return {
        "project_slug": json.loads(r""" {{ cookiecutter.project_slug | tojson }} """),
        "package_name": json.loads(r""" {{ cookiecutter.package_name | tojson }} """),
        "mcp_sdk": json.loads(r""" {{ cookiecutter.mcp_sdk | tojson }} """),
        "auth": json.loads(r""" {{ cookiecutter.auth | tojson }} """),
        "container": json.loads(r""" {{ cookiecutter.container | tojson }} """),
        "kubernetes": json.loads(r""" {{ cookiecutter.kubernetes | tojson }} """),
        "init_git": json.loads(r""" {{ cookiecutter.init_git | tojson }} """),
        "author_name": json.loads(r""" {{ cookiecutter.author_name | tojson }} """),
        "author_email": json.loads(r""" {{ cookiecutter.author_email | tojson }} """),
    }


def rendered_context() -> dict[str, Any]:
    """Return cookiecutter's whole context: every answer and where the template came from."""
    return dict(json.loads(r""" {{ cookiecutter | tojson }} """))


def main() -> int:
    """Remove what the chosen options exclude, commit the rest, then print next steps."""
    answers = rendered_answers()
    project, package = Path.cwd(), answers["package_name"]
    choose_sdk_line(project, package, answers["mcp_sdk"])
    choose_auth(project, package, answers["auth"])
    if not answers["container"]:
        remove_container(project)
    if not answers["kubernetes"]:
        remove_kubernetes(project)
    note = record_template(project, rendered_context())
    if note is not None:
        print(f"note: {note}, so no .cruft.json was written (cruft link <template> makes one)")
    if answers["init_git"]:
        note = init_git_repository(project, answers["author_name"], answers["author_email"])
        if note is not None:
            print(f"note: {note}, so the bake was not committed")
    print(next_steps(answers))
    return 0


if __name__ == "__main__":
    sys.exit(main())
