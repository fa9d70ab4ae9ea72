"""Trim the baked project to the chosen options, then say what to do next.

Cookiecutter renders this file with Jinja and runs it inside the baked project
directory. Options that add files are expected to ship those files in the
template unconditionally and have this hook remove the ones not chosen: that
keeps every file visible and testable in the template, and it keeps Jinja out
of file names. ``removals()`` is the decision table that maps answers to
paths: one row per option that adds files.

The hook is idempotent (removing a missing path is not an error), uses no
network and never prompts, so it behaves the same under ``--no-input`` and in
CI. Like the pre-gen hook, answers arrive as JSON data and all Jinja lives in
``rendered_answers()``, so the unrendered file is importable by unit tests.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path


def removals(answers: Mapping[str, str]) -> list[str]:
    """Return the project-relative paths that the chosen options exclude.

    One row per option that adds files, for example::

        if answers["docker"] == "no":
            paths += ["Dockerfile", ".dockerignore"]
    """
    package = f"src/{answers['package_name']}"
    paths: list[str] = []
    if answers["auth"] != "bearer":
        paths += [f"{package}/auth_bearer.py", "tests/test_auth_bearer.py"]
    if answers["auth"] != "oauth":
        paths += [f"{package}/auth_oauth.py", "tests/test_auth_oauth.py"]
    if answers["auth"] == "none":
        paths += ["tests/credentials.py"]
    return paths


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
    return f"Created {slug}/. Next steps:\n    cd {slug} && pip install -e '.[dev]' && {slug}"


def rendered_answers() -> dict[str, str]:
    """Return the answers cookiecutter rendered into this file, decoded as data."""
    return {
        "project_slug": json.loads(r""" {{ cookiecutter.project_slug | tojson }} """),
        "package_name": json.loads(r""" {{ cookiecutter.package_name | tojson }} """),
        "mcp_sdk": json.loads(r""" {{ cookiecutter.mcp_sdk | tojson }} """),
        "auth": json.loads(r""" {{ cookiecutter.auth | tojson }} """),
    }


def main() -> int:
    """Apply the decision table to the baked project and print next steps."""
    answers = rendered_answers()
    remove_paths(Path.cwd(), removals(answers))
    print(next_steps(answers))
    return 0


if __name__ == "__main__":
    sys.exit(main())
