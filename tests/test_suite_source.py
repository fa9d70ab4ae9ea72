"""Fast tier: the generated suite's files are whole files, with no Jinja in them.

Where the answers change a test, the template holds one variant per answer (``*-2.x.py``,
``credentials-none.py``...) and the post-gen hook keeps the chosen one, as it does for
``src/``: every test file then reads, and lints, as the team will get it. The one use of Jinja
left is the package's name in import lines, which is how every test imports the package.
"""

from __future__ import annotations

import re

from _support import TEMPLATE_DIR

SUITE = TEMPLATE_DIR / "{{cookiecutter.project_slug}}" / "tests"
JINJA = re.compile(r"\{\{|\{%|\{#")
# ``from <package>.x import ...`` or ``import <package> as name``, the name as the only Jinja.
PACKAGE_IMPORT = re.compile(
    r"from \{\{ cookiecutter\.package_name \}\}(\.\w+)* import [^{]+"
    r"|import \{\{ cookiecutter\.package_name \}\} as \w+"
)


def test_the_suite_holds_no_jinja_but_the_package_name_in_imports() -> None:
    """Every ``{{``, ``{%`` and ``{#`` in a test file or its path is an import of the package."""
    files = sorted(
        path for path in SUITE.rglob("*") if path.is_file() and "__pycache__" not in path.parts
    )
    assert len(files) > 30, f"the suite is not where this test looks: {SUITE}"
    hits = [
        f"{path.relative_to(SUITE)}:{number}: {line.strip()}"
        for path in files
        for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1)
        if JINJA.search(line) and not PACKAGE_IMPORT.fullmatch(line.rstrip())
    ]
    hits += [
        f"path {path.relative_to(SUITE)}"
        for path in files
        if JINJA.search(str(path.relative_to(SUITE)))
    ]
    assert hits == [], "Jinja in the generated suite:\n" + "\n".join(hits)
