"""Regenerate the bake's dependency locks, one per SDK line, after its pyproject.toml changes.

    .venv/bin/python tests/locks.py                         # after a requirement changed
    .venv/bin/python tests/locks.py --upgrade-package mcp   # one dependency to its newest
    .venv/bin/python tests/locks.py --upgrade               # every dependency to its newest

The template holds ``uv-2.x.lock`` and ``uv-1.x.lock`` beside the bake's ``pyproject.toml``; the
post-gen hook makes the chosen line's one the bake's ``uv.lock``. Each is uv's own lock of a bake
of its line, made a template again: bake the line with ``auth=oauth`` (the one answer that adds a
requirement: ``pyjwt[crypto]``, which both lines' ``mcp`` requires as well, so every auth answer
locks the same packages), run ``uv lock`` there with the arguments given here, then put the Jinja
back: the project's name becomes the slug answer and its two ``pyjwt`` lines are kept for
``auth=oauth`` only. Starting from the current lock, ``uv lock`` keeps every pin it can, so a new
requirement changes only what it brings in.

``tests/test_locks.py`` holds every baked combination to its ``pyproject.toml`` (``uv lock
--check``, offline) and the template's locks to what this script writes; the slow tier checks
that an image installs exactly the lock. The lock's ``mcp`` is the slow tier's newest
(``SDK_NEWEST`` in ``_support.py``): after an upgrade that moves it, update that pin too.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path

# Run as a script from tests/: the template's helpers are beside it.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from cookiecutter.main import cookiecutter

from _support import TEMPLATE_DIR, python_module, run

PROJECT_TEMPLATE = TEMPLATE_DIR / "{{cookiecutter.project_slug}}"
LINES = ("2.x", "1.x")
# The bake the locks are made in: the default names, and the answer with every requirement.
SLUG = "my-mcp-server"
ANSWERS = {"auth": "oauth", "init_git": "no"}
SEPARATOR = "\n[[package]]\n"
OAUTH_ONLY = re.compile(r'^    \{ name = "pyjwt", extras? = \["crypto"\].*\n', re.MULTILINE)
JINJA = re.compile(r"\{\{|\{%|\{#")


def template_lock(line: str) -> Path:
    """Return the template's lock of SDK ``line``."""
    return PROJECT_TEMPLATE / f"uv-{line}.lock"


def bake_line(line: str, workdir: Path) -> Path:
    """Bake SDK ``line`` with every requirement into ``workdir``; return the project."""
    config = workdir / "cookiecutter.yaml"
    config.write_text(
        f"cookiecutters_dir: {json.dumps(str(workdir / 'cc'))}\n"
        f"replay_dir: {json.dumps(str(workdir / 'replay'))}\n",
        encoding="utf-8",
    )
    project = cookiecutter(
        str(TEMPLATE_DIR),
        no_input=True,
        extra_context={"mcp_sdk": line, **ANSWERS},
        output_dir=str(workdir / "out"),
        config_file=str(config),
    )
    return Path(project)


def templated(lock: str) -> str:
    """Turn the lock of a default-names ``auth=oauth`` bake back into the template's lock."""
    if JINJA.search(lock):
        raise SystemExit("the lock holds text Jinja would read as its own; it cannot be templated")
    head, *packages = lock.split(SEPARATOR)
    (own,) = [i for i, package in enumerate(packages) if package.startswith(f'name = "{SLUG}"\n')]
    package = packages[own].replace(f'name = "{SLUG}"', 'name = "{{ cookiecutter.project_slug }}"')
    package, count = OAUTH_ONLY.subn(
        lambda line: f'{{% if cookiecutter.auth == "oauth" %}}\n{line[0]}{{% endif %}}\n', package
    )
    if count != 2:
        raise SystemExit(f"expected pyjwt in the project's dependencies and metadata, not {count}")
    packages[own] = package
    return SEPARATOR.join([head, *packages])


def lock_line(line: str, uv_args: list[str], workdir: Path) -> str:
    """Bake ``line``, run ``uv lock`` there with ``uv_args``; return the lock, templated."""
    project = bake_line(line, workdir)
    result = run(python_module("uv", "lock", "--quiet", *uv_args), cwd=project)
    if result.returncode != 0:
        raise SystemExit(f"{line}:\n{result.describe()}")
    return templated((project / "uv.lock").read_text("utf-8"))


def main() -> int:
    """Relock each SDK line and write the template's locks; say which changed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", nargs="+", choices=LINES, default=list(LINES))
    args, uv_args = parser.parse_known_args()  # the rest go to `uv lock` as they are
    for line in args.lines:
        with tempfile.TemporaryDirectory(prefix=f"lock-{line}-") as workdir:
            lock = lock_line(line, uv_args, Path(workdir))
        path = template_lock(line)
        changed = not path.is_file() or path.read_text("utf-8") != lock
        path.write_text(lock, encoding="utf-8")
        print(f"{path.relative_to(TEMPLATE_DIR)}: {'updated' if changed else 'unchanged'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
