"""The template's own code (hooks and these tests) stays ruff-clean.

Run in CI so the template's tooling is held to the same standard as the
projects it bakes; configuration is the top-level pyproject.toml.
"""

from __future__ import annotations

import pytest

from _support import TEMPLATE_DIR, expect_success, python_module, run


@pytest.mark.parametrize(
    "command",
    [("check",), ("format", "--check")],
    ids=["ruff-check", "ruff-format"],
)
def test_template_code_is_ruff_clean(command: tuple[str, ...]) -> None:
    """Lint and format-check hooks/ and tests/ with the template's config."""
    result = run(python_module("ruff", *command, "--no-cache", "hooks", "tests"), cwd=TEMPLATE_DIR)
    expect_success(result)
