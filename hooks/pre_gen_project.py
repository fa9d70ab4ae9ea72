"""Refuse answers that would bake a broken project, before any file is written.

Cookiecutter renders this file with Jinja and runs it with the interpreter that
runs cookiecutter, inside the freshly created (still empty) project directory.
If it exits non-zero, cookiecutter deletes that directory, so a bad answer
leaves nothing half-baked behind.

The answers reach Python only as data: each one is rendered as a JSON string
literal inside a raw triple-quoted string and decoded with ``json.loads``, so
quotes, backslashes or code-like text in an answer can never become code here.
The JSON is padded with a space on each side because a JSON string starts and
ends with a double quote, which would otherwise merge with the triple quotes.

All Jinja lives in ``rendered_answers()``. The unrendered file is still valid
Python, so the template's unit tests import it straight from ``hooks/`` and
exercise the pure ``validate()`` without going through cookiecutter.
"""

from __future__ import annotations

import json
import keyword
import re
import sys
from collections.abc import Mapping
from typing import Any

SLUG_RE = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
SLUG_MAX_LENGTH = 50
PACKAGE_RE = re.compile(r"^[a-z][a-z0-9_]*$")
MCP_SDK_CHOICES = ("2.x", "1.x")
AUTH_CHOICES = ("none", "bearer", "oauth")

# cookiecutter.json falls back to this project_slug when project_name has
# nothing to slugify (e.g. "!!!"). An empty slug would make cookiecutter try to
# bake straight into the output directory and stop with a misleading
# "directory already exists" before this hook ever ran. Keep it in sync with
# cookiecutter.json; it is deliberately not a valid slug.
EMPTY_SLUG_SENTINEL = "_empty-slug_"

# Top-level import names the generated project imports: its code, its tests and the Python
# examples of its docs (a template test reads them from every bake), plus mcp_types, the SDK's
# own. A package with one of these names would shadow the real one once installed.
SHADOWED_IMPORTS = frozenset(
    {
        "anyio",
        "cryptography",
        "dotenv",
        "h11",
        "httpx",
        "httpx2",
        "jwt",
        "mcp",
        "mcp_types",
        "opentelemetry",
        "prometheus_client",
        "psutil",
        "pydantic",
        "pydantic_core",
        "pydantic_settings",
        "pytest",
        "redis",
        "sse_starlette",
        "starlette",
        "test",
        "tests",
        "uvicorn",
    }
)

# Distribution names the generated project requires to build, run or develop (a template test
# reads them from every bake's pyproject.toml). A project distributed under one of these names
# would depend on itself and could not be installed.
DEPENDENCY_DISTRIBUTIONS = frozenset(
    {
        "anyio",
        "coverage",
        "cryptography",
        "hatchling",
        "httpx",
        "mcp",
        "mcp-types",
        "mypy",
        "opentelemetry-api",
        "opentelemetry-exporter-otlp-proto-http",
        "opentelemetry-sdk",
        "pre-commit",
        "prometheus-client",
        "psutil",
        "pydantic",
        "pydantic-settings",
        "pyjwt",
        "pytest",
        "pytest-cov",
        "pytest-xdist",
        "python-dotenv",
        "redis",
        "ruff",
        "starlette",
        "types-psutil",
        "uvicorn",
    }
)

# Free-text answers end up in TOML strings, Markdown and docstrings; a line
# break or control character there is never intended and breaks some of them.
SINGLE_LINE_ANSWERS = ("project_name", "description", "author_name", "author_email")

EXAMPLE_NAME = "Weather Tools"
EXAMPLE_SLUG = "weather-tools"
EXAMPLE_PACKAGE = "weather_tools"


def _normalize_distribution(name: str) -> str:
    """Compare distribution names the way installers do (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _slug_suggestion(value: str) -> str:
    """Offer the nearest valid slug, so the message says what to answer instead."""
    candidate = re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")
    if SLUG_RE.match(candidate) and len(candidate) <= SLUG_MAX_LENGTH:
        return candidate
    return EXAMPLE_SLUG


def _package_suggestion(value: str) -> str:
    """Offer the nearest valid package name, for the same reason."""
    candidate = re.sub(r"[^a-z0-9]+", "_", value.lower()).strip("_")
    if PACKAGE_RE.match(candidate) and not is_reserved_package_name(candidate):
        return candidate
    return EXAMPLE_PACKAGE


def is_reserved_package_name(name: str) -> bool:
    """Tell whether an otherwise well-formed package name cannot be used."""
    return keyword.iskeyword(name) or name in sys.stdlib_module_names or name in SHADOWED_IMPORTS


def validate_text(key: str, value: str) -> list[str]:
    """Check that a free-text answer is one line of printable text."""
    if value.isprintable():
        return []
    return [
        f"{key} {value!r} must be a single line of printable text; "
        "answer it again without line breaks, tabs or control characters"
    ]


def validate_project_slug(slug: str, project_name: str) -> list[str]:
    """Check the distribution/directory name; project_name only improves the advice."""
    if slug == EMPTY_SLUG_SENTINEL:
        return [
            f"project_name {project_name!r} has no letters or digits, so no "
            "project_slug can be made from it; answer a project_name with at "
            f"least one letter, e.g. {EXAMPLE_NAME!r} (or answer project_slug "
            f"explicitly, e.g. {EXAMPLE_SLUG!r})"
        ]
    if not slug:
        return [f"project_slug is empty; answer e.g. {EXAMPLE_SLUG!r}"]
    if len(slug) > SLUG_MAX_LENGTH:
        return [
            f"project_slug {slug!r} is {len(slug)} characters long, more than "
            f"{SLUG_MAX_LENGTH}; answer a shorter project_slug, e.g. {EXAMPLE_SLUG!r}"
        ]
    if not SLUG_RE.match(slug):
        return [
            f"project_slug {slug!r} is not valid: it must start with a lowercase "
            "letter and contain only lowercase letters and digits, with single "
            f"hyphens between words; answer e.g. {_slug_suggestion(slug)!r} (by "
            f"default project_slug is made from project_name {project_name!r}, "
            "so a project_name that starts with a letter works too)"
        ]
    if _normalize_distribution(slug) in DEPENDENCY_DISTRIBUTIONS:
        suggestion = f"my-{slug}-server"
        return [
            f"project_slug {slug!r} is the name of a distribution the generated "
            "project depends on, so the project could not be installed; "
            f"answer e.g. {suggestion!r}"
        ]
    return []


def validate_package_name(package: str) -> list[str]:
    """Check the import name of the generated package."""
    if not PACKAGE_RE.match(package) or not package.isidentifier():
        return [
            f"package_name {package!r} is not valid: it must start with a "
            "lowercase letter and contain only lowercase letters, digits and "
            f"underscores; answer e.g. {_package_suggestion(package)!r}"
        ]
    suggestion = f"my_{package}_server"
    if keyword.iskeyword(package):
        return [
            f"package_name {package!r} is a Python keyword and cannot be "
            f"imported; answer e.g. {suggestion!r}"
        ]
    if package in sys.stdlib_module_names:
        return [
            f"package_name {package!r} is a standard-library module and would "
            f"shadow it; answer e.g. {suggestion!r}"
        ]
    if package in SHADOWED_IMPORTS:
        return [
            f"package_name {package!r} would shadow the {package!r} module that "
            f"the generated project imports; answer e.g. {suggestion!r}"
        ]
    return []


def validate_mcp_sdk(mcp_sdk: str) -> list[str]:
    """Check the SDK line; cookiecutter checks choices too, but not for replays."""
    if mcp_sdk in MCP_SDK_CHOICES:
        return []
    choices = " or ".join(repr(choice) for choice in MCP_SDK_CHOICES)
    return [f"mcp_sdk {mcp_sdk!r} is not a supported SDK line; answer {choices}"]


def validate_auth(auth: str) -> list[str]:
    """Check the authentication choice, for the same reason as the SDK line."""
    if auth in AUTH_CHOICES:
        return []
    choices = ", ".join(repr(choice) for choice in AUTH_CHOICES)
    return [f"auth {auth!r} is not a supported authentication; answer one of {choices}"]


def validate_kubernetes(kubernetes: object, container: object) -> list[str]:
    """Check that Kubernetes manifests have an image to run: they need the container option."""
    if kubernetes and not container:
        return [
            "kubernetes manifests run the service's container image, but container is off; "
            "answer container=yes, or kubernetes=no"
        ]
    return []


def validate(answers: Mapping[str, Any]) -> list[str]:
    """Return one message per problem in the answers; an empty list means valid.

    Every answer is checked on its own (the package name need not match the
    slug), so one run reports every problem rather than the first.
    """
    errors: list[str] = []
    for key in SINGLE_LINE_ANSWERS:
        errors += validate_text(key, answers.get(key, ""))
    slug = answers.get("project_slug", "")
    errors += validate_project_slug(slug, answers.get("project_name", ""))
    package = answers.get("package_name", "")
    # The default package_name is derived from the slug; when the slug is the
    # sentinel, the project_name message above is the only useful one.
    if not (slug == EMPTY_SLUG_SENTINEL and package == slug.replace("-", "_")):
        errors += validate_package_name(package)
    errors += validate_mcp_sdk(answers.get("mcp_sdk", ""))
    errors += validate_auth(answers.get("auth", ""))
    errors += validate_kubernetes(answers.get("kubernetes", False), answers.get("container", True))
    return errors


def rendered_answers() -> dict[str, Any]:
    """Return the answers cookiecutter rendered into this file, decoded as data."""
    return {
        "project_name": json.loads(r""" {{ cookiecutter.project_name | tojson }} """),
        "project_slug": json.loads(r""" {{ cookiecutter.project_slug | tojson }} """),
        "package_name": json.loads(r""" {{ cookiecutter.package_name | tojson }} """),
        "description": json.loads(r""" {{ cookiecutter.description | tojson }} """),
        "author_name": json.loads(r""" {{ cookiecutter.author_name | tojson }} """),
        "author_email": json.loads(r""" {{ cookiecutter.author_email | tojson }} """),
        "mcp_sdk": json.loads(r""" {{ cookiecutter.mcp_sdk | tojson }} """),
        "auth": json.loads(r""" {{ cookiecutter.auth | tojson }} """),
        "container": json.loads(r""" {{ cookiecutter.container | tojson }} """),
        "kubernetes": json.loads(r""" {{ cookiecutter.kubernetes | tojson }} """),
    }


def main() -> int:
    """Validate the rendered answers; print each problem and fail if any."""
    errors = validate(rendered_answers())
    for error in errors:
        print(f"ERROR: {error}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
