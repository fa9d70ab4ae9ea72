"""Unit tests of the hooks' pure functions, imported from the unrendered files.

These pin down the validation rules and their messages without baking, and
check the two properties the hooks rely on: the unrendered files import as
plain Python, and rendering turns any answer into data, never into code.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from cookiecutter.environment import StrictEnvironment

from _support import HOOKS_DIR, TEMPLATE_DIR, load_module, run, unavailable

pre_gen = load_module(HOOKS_DIR / "pre_gen_project.py", "pre_gen_project")
post_gen = load_module(HOOKS_DIR / "post_gen_project.py", "post_gen_project")

# Answers as cookiecutter passes them: text, and JSON booleans for the on/off options.
VALID: dict[str, Any] = {
    "project_name": "My MCP Server",
    "project_slug": "my-mcp-server",
    "package_name": "my_mcp_server",
    "description": "A stateless streamable-HTTP MCP server.",
    "author_name": "Your Name",
    "author_email": "you@example.com",
    "mcp_sdk": "2.x",
    "auth": "none",
    "container": True,
    "kubernetes": True,
    # Off here, so the tests of main() check file removal only; the git tests below turn it on.
    "init_git": False,
}


@pytest.fixture(autouse=True)
def _no_template_record(monkeypatch: pytest.MonkeyPatch) -> None:
    """Give main() an empty context, as its tests patch the answers only (record: see below)."""
    monkeypatch.setattr(post_gen, "rendered_context", dict)


HOSTILE_TEXT = 'O\'Brien "Quoted" \\ Tools """ \'\'\' \\" {{ x }} </script> Ünï'


def errors_for(**overrides: str) -> list[str]:
    """Validate the valid answers with some of them replaced."""
    result: list[str] = pre_gen.validate({**VALID, **overrides})
    return result


def test_unrendered_hooks_import_without_running_main() -> None:
    """Importing must not validate or exit: only `python hook.py` runs main()."""
    assert callable(pre_gen.validate)
    assert callable(pre_gen.main)
    assert callable(post_gen.main)


def test_defaults_are_valid() -> None:
    """The answers --no-input produces must pass."""
    assert errors_for() == []


@pytest.mark.parametrize(
    "slug",
    ["a", "weather-tools", "x1-2b", "mcp-tools", "a" * 50],
    ids=["one-letter", "two-words", "digits", "mcp-prefix", "50-chars"],
)
def test_valid_slugs_pass(slug: str) -> None:
    """Well-formed slugs up to the length limit are accepted."""
    assert pre_gen.validate_project_slug(slug, "x") == []


@pytest.mark.parametrize(
    "slug",
    [
        "Bad Slug",
        "123-go",
        "-leading",
        "trailing-",
        "double--hyphen",
        "under_score",
        "UPPER",
        "café",
        "a" * 51,
    ],
    ids=[
        "space-and-upper",
        "leading-digit",
        "leading-hyphen",
        "trailing-hyphen",
        "double-hyphen",
        "underscore",
        "uppercase",
        "non-ascii",
        "101-chars",
    ],
)
def test_invalid_slugs_are_refused_naming_the_value(slug: str) -> None:
    """Each message quotes the bad slug and says what to answer instead."""
    errors = errors_for(project_slug=slug)
    assert len(errors) == 1, errors
    assert repr(slug) in errors[0]
    assert "answer" in errors[0]


def test_empty_slug_is_refused() -> None:
    """An explicitly empty slug gets its own message."""
    assert errors_for(project_slug="") == ["project_slug is empty; answer e.g. 'weather-tools'"]


@pytest.mark.parametrize("slug", ["mcp", "uvicorn", "pydantic-settings", "mcp-types"])
def test_dependency_distribution_slugs_are_refused(slug: str) -> None:
    """A project named like one of its dependencies would depend on itself."""
    errors = errors_for(project_slug=slug)
    assert len(errors) == 1, errors
    assert repr(slug) in errors[0]
    assert "depends on" in errors[0]


@pytest.mark.parametrize("name", ["!!!", "   ", "---", "¿?"])
def test_name_with_nothing_to_slugify_gets_one_message_about_project_name(name: str) -> None:
    """cookiecutter.json turns an empty slug into the sentinel; report the name."""
    sentinel = pre_gen.EMPTY_SLUG_SENTINEL
    errors = errors_for(
        project_name=name, project_slug=sentinel, package_name=sentinel.replace("-", "_")
    )
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"project_name {name!r} has no letters or digits")


def test_leading_digit_name_reports_slug_and_package() -> None:
    """Both derived names are invalid, and one run reports both."""
    errors = errors_for(project_name="123 go", project_slug="123-go", package_name="123_go")
    assert len(errors) == 2, errors
    assert "'123-go'" in errors[0]
    assert "'123 go'" in errors[0]
    assert "'123_go'" in errors[1]


@pytest.mark.parametrize("package", ["My_Pkg", "1pkg", "pkg-name", "", "café", "_private", "a b"])
def test_malformed_package_names_are_refused(package: str) -> None:
    """Only lowercase ASCII letters, digits and underscores, letter first."""
    errors = errors_for(package_name=package)
    assert len(errors) == 1, errors
    assert f"package_name {package!r} is not valid" in errors[0]


@pytest.mark.parametrize("package", ["class", "def", "import", "lambda"])
def test_keywords_are_refused(package: str) -> None:
    """Keywords cannot be imported (`import class` is a syntax error)."""
    errors = errors_for(package_name=package)
    assert len(errors) == 1, errors
    assert f"package_name {package!r} is a Python keyword" in errors[0]


@pytest.mark.parametrize("package", ["json", "asyncio", "typing", "email", "this"])
def test_stdlib_names_are_refused(package: str) -> None:
    """A package named like a stdlib module would shadow it."""
    errors = errors_for(package_name=package)
    assert len(errors) == 1, errors
    assert f"package_name {package!r} is a standard-library module" in errors[0]


@pytest.mark.parametrize(
    "package",
    sorted(pre_gen.SHADOWED_IMPORTS - sys.stdlib_module_names),
)
def test_dependency_import_names_are_refused(package: str) -> None:
    """A package named like an imported dependency would shadow it."""
    errors = errors_for(package_name=package)
    assert len(errors) == 1, errors
    assert f"package_name {package!r} would shadow" in errors[0]


def test_test_is_refused_as_stdlib() -> None:
    """'test' is both a stdlib package and a shadowing risk; refused either way."""
    assert "test" in pre_gen.SHADOWED_IMPORTS
    assert len(errors_for(package_name="test")) == 1


def test_package_name_need_not_match_slug() -> None:
    """Each answer is validated on its own."""
    assert errors_for(project_slug="weather-tools", package_name="forecasts") == []


@pytest.mark.parametrize("sdk", ["2.x", "1.x"])
def test_known_sdk_lines_pass(sdk: str) -> None:
    """Both SDK lines offered by cookiecutter.json are accepted."""
    assert errors_for(mcp_sdk=sdk) == []


@pytest.mark.parametrize("sdk", ["3.x", "", "2"])
def test_unknown_sdk_lines_are_refused(sdk: str) -> None:
    """Cookiecutter checks choices for --no-input, but a replay file is not checked."""
    assert errors_for(mcp_sdk=sdk) == [
        f"mcp_sdk {sdk!r} is not a supported SDK line; answer '2.x' or '1.x'"
    ]


@pytest.mark.parametrize("auth", ["none", "bearer", "oauth"])
def test_known_auth_choices_pass(auth: str) -> None:
    """Every authentication offered by cookiecutter.json is accepted."""
    assert errors_for(auth=auth) == []


@pytest.mark.parametrize("auth", ["basic", "", "OAuth"])
def test_unknown_auth_choices_are_refused(auth: str) -> None:
    """A replay file can carry any value; the hook names the valid ones."""
    assert errors_for(auth=auth) == [
        f"auth {auth!r} is not a supported authentication; answer one of 'none', 'bearer', 'oauth'"
    ]


@pytest.mark.parametrize("key", ["project_name", "description", "author_name", "author_email"])
def test_multi_line_text_is_refused(key: str) -> None:
    """Line breaks in free text would break one-line TOML strings and headers."""
    errors = errors_for(**{key: "first\nsecond"})
    assert any(
        error.startswith(f"{key} 'first\\nsecond' must be a single line") for error in errors
    )


def test_hostile_but_printable_text_passes() -> None:
    """Quotes, backslashes, braces and non-ASCII letters are fine in free text."""
    assert errors_for(description=HOSTILE_TEXT, author_name=HOSTILE_TEXT) == []


def test_hook_constants_match_cookiecutter_json() -> None:
    """The sentinel, slug length and SDK choices are duplicated; keep them in sync."""
    context: dict[str, Any] = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text("utf-8"))
    assert f"'{pre_gen.EMPTY_SLUG_SENTINEL}'" in context["project_slug"]
    assert f"max_length={pre_gen.SLUG_MAX_LENGTH}" in context["project_slug"]
    assert tuple(context["mcp_sdk"]) == pre_gen.MCP_SDK_CHOICES
    assert tuple(context["auth"]) == pre_gen.AUTH_CHOICES


def render_hook(path: Path, answers: dict[str, Any], out_dir: Path) -> Path:
    """Render a hook the way cookiecutter does, into out_dir."""
    env = StrictEnvironment(context={"cookiecutter": answers})
    rendered = env.from_string(path.read_text("utf-8")).render(cookiecutter=answers)
    target = out_dir / path.name
    target.write_text(rendered, encoding="utf-8")
    return target


@pytest.mark.parametrize("hook", ["pre_gen_project.py", "post_gen_project.py"])
def test_rendering_turns_hostile_answers_into_data(hook: str, tmp_path: Path) -> None:
    """Quotes, triple quotes, backslashes and Jinja-looking text round-trip exactly."""
    answers = {**VALID, "project_name": HOSTILE_TEXT, "description": HOSTILE_TEXT + "\\"}
    rendered = load_module(
        render_hook(HOOKS_DIR / hook, answers, tmp_path), f"rendered_{hook[:-3]}"
    )
    decoded: dict[str, str] = rendered.rendered_answers()
    assert decoded == {key: answers[key] for key in decoded}


def test_rendered_context_turns_hostile_answers_into_data(tmp_path: Path) -> None:
    """The whole context the post-gen hook records round-trips exactly, hostile text included."""
    answers = {**VALID, "author_name": HOSTILE_TEXT, "_template": HOSTILE_TEXT + "\\"}
    script = render_hook(HOOKS_DIR / "post_gen_project.py", answers, tmp_path)
    rendered = load_module(script, "rendered_post_gen_context")
    assert rendered.rendered_context() == answers


def test_rendered_pre_gen_hook_exits_1_with_error_lines(tmp_path: Path) -> None:
    """Run as cookiecutter runs it: a bad answer gives ERROR lines and exit 1."""
    answers = {**VALID, "package_name": "mcp", "mcp_sdk": "3.x"}
    script = render_hook(HOOKS_DIR / "pre_gen_project.py", answers, tmp_path)
    result = run([sys.executable, str(script)], cwd=tmp_path)
    assert result.returncode == 1, result.describe()
    lines = result.output.splitlines()
    assert len(lines) == 2, result.describe()
    assert lines[0].startswith("ERROR: package_name 'mcp' would shadow")
    assert lines[1].startswith("ERROR: mcp_sdk '3.x'")


def test_rendered_pre_gen_hook_exits_0_silently_for_valid_answers(tmp_path: Path) -> None:
    """A valid bake must not print anything from the pre-gen hook."""
    script = render_hook(HOOKS_DIR / "pre_gen_project.py", VALID, tmp_path)
    result = run([sys.executable, str(script)], cwd=tmp_path)
    assert (result.returncode, result.output) == (0, ""), result.describe()


RUNTIME = "src/my_mcp_server/runtime"
AUTH_TESTS = {
    "bearer": "tests/runtime/test_auth_bearer.py",
    "oauth": "tests/runtime/test_auth_oauth.py",
}


@pytest.mark.parametrize("sdk", ["2.x", "1.x"])
@pytest.mark.parametrize("auth", ["none", "bearer", "oauth"])
def test_main_keeps_only_the_chosen_variants(
    auth: str, sdk: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The chosen line's and auth's variants become the modules; the rest, and their tests, go.

    Each line also keeps only its own MCP 2026-07-28 files: 2.x's header check, its
    subscriptions/listen machinery and their tests, or 1.x's tests of how it refuses that
    revision. The tests' seams are chosen the same way, so no test file holds a conditional:
    the SDK client, the suite's line-only tools, and the credentials
    every test presents (with auth none, a module that presents nothing).
    """
    lines, auths = ("2.x", "1.x"), ("none", "bearer", "oauth")
    variants = [f"{RUNTIME}/sdk-{line}.py" for line in lines]
    variants += [f"{RUNTIME}/auth-{choice}.py" for choice in auths]
    # The tests' seams: each is one module in the bake, from the chosen answer's variant.
    seams = {
        "tests/support/sdk_client": lines,
        "tests/support/line_tools": lines,
        "tests/support/credentials": auths,
    }
    variants += [f"{seam}-{choice}.py" for seam, choices in seams.items() for choice in choices]
    line_only = {
        "2.x": [
            f"{RUNTIME}/protocol_headers.py",
            f"{RUNTIME}/subscriptions.py",
            f"{RUNTIME}/broker.py",
            "tests/runtime/test_protocol_2026.py",
            "tests/runtime/test_subscriptions.py",
            "tests/runtime/test_subscriptions_across_processes.py",
            "tests/support/broker.py",
            "tests/support/listeners.py",
            "tests/test_asking.py",
        ],
        "1.x": ["tests/runtime/test_protocol_2026_refused.py"],
    }
    variants += [path for paths in line_only.values() for path in paths]
    locks = [f"uv-{line}.lock" for line in lines]
    for path in [*variants, *AUTH_TESTS.values(), *locks]:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(f"# {Path(path).name}\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(
        post_gen, "rendered_answers", lambda: {**VALID, "auth": auth, "mcp_sdk": sdk}
    )
    for _ in range(2):  # idempotent
        assert post_gen.main() == 0
    runtime = sorted(path.name for path in (tmp_path / RUNTIME).iterdir())
    only_2x = ["broker.py", "protocol_headers.py", "subscriptions.py"] if sdk == "2.x" else []
    assert runtime == sorted(["auth.py", "sdk.py", *only_2x])
    assert (tmp_path / RUNTIME / "sdk.py").read_text("utf-8") == f"# sdk-{sdk}.py\n"
    assert (tmp_path / RUNTIME / "auth.py").read_text("utf-8") == f"# auth-{auth}.py\n"
    support = sorted(path.name for path in (tmp_path / "tests/support").iterdir())
    expected = ["credentials.py", "line_tools.py", "sdk_client.py"]
    expected += ["broker.py", "listeners.py"] if sdk == "2.x" else []
    assert support == sorted(expected)
    for seam, choices in seams.items():
        chosen = auth if choices == auths else sdk
        kept = (tmp_path / f"{seam}.py").read_text("utf-8")
        assert kept == f"# {Path(seam).name}-{chosen}.py\n", seam
    for line, paths in line_only.items():
        for path in paths:
            assert (tmp_path / path).exists() == (line == sdk), path
    for option, test in AUTH_TESTS.items():
        assert (tmp_path / test).exists() == (option == auth), option
    assert sorted(path.name for path in tmp_path.glob("*.lock")) == ["uv.lock"]
    assert (tmp_path / "uv.lock").read_text("utf-8") == f"# uv-{sdk}.lock\n"


LOCK_HEAD = 'version = 1\nrequires-python = ">=3.11"\n'
LOCK_TABLES = {
    "anyio": 'name = "anyio"\nversion = "4.9.0"\n',
    "own": 'name = "zebra-tools"\nsource = { editable = "." }\n',
    # One name, two versions (one per Python range): uv lists them by version.
    "numpy-old": 'name = "numpy"\nversion = "2.2.6"\n',
    "numpy-new": 'name = "numpy"\nversion = "2.3.1"\n',
    "starlette": 'name = "starlette"\nversion = "0.48.0"\n',
}


def lock_text(*tables: str) -> str:
    """Return a uv.lock with the head and the named tables, in that order."""
    return "\n[[package]]\n".join([LOCK_HEAD, *(LOCK_TABLES[table] for table in tables)])


def test_sort_lock_puts_the_project_where_uv_would(tmp_path: Path) -> None:
    """The project's table moves to its name's place; tables of one name keep their order."""
    lock = tmp_path / "uv.lock"
    lock.write_text(lock_text("anyio", "own", "numpy-old", "numpy-new", "starlette"), "utf-8")
    post_gen.sort_lock(lock)
    expected = lock_text("anyio", "numpy-old", "numpy-new", "starlette", "own")
    assert lock.read_text("utf-8") == expected
    post_gen.sort_lock(tmp_path / "missing.lock")  # no lock (a template without one): no-op
    assert not (tmp_path / "missing.lock").exists()


def test_remove_paths_is_idempotent(tmp_path: Path) -> None:
    """Removing files, directories and missing paths twice must not fail."""
    (tmp_path / "dir" / "sub").mkdir(parents=True)
    (tmp_path / "dir" / "sub" / "f.txt").write_text("x", encoding="utf-8")
    (tmp_path / "file.txt").write_text("x", encoding="utf-8")
    (tmp_path / "kept.txt").write_text("x", encoding="utf-8")
    for _ in range(2):
        post_gen.remove_paths(tmp_path, ["dir", "file.txt", "missing.txt"])
    assert sorted(path.name for path in tmp_path.iterdir()) == ["kept.txt"]


def test_next_steps_name_the_project() -> None:
    """The printed commands install the project and run its console script."""
    assert "cd my-mcp-server && pip install -e '.[dev]' && my-mcp-server" in post_gen.next_steps(
        VALID
    )


def test_next_steps_name_the_settings_an_auth_bake_needs() -> None:
    """A bearer or oauth bake refuses to start unconfigured, so the hook says what to set."""
    assert "MY_MCP_SERVER_AUTH_TOKENS" in post_gen.next_steps({**VALID, "auth": "bearer"})
    assert "MY_MCP_SERVER_AUTH_JWKS_URL" in post_gen.next_steps({**VALID, "auth": "oauth"})
    assert "AUTH" not in post_gen.next_steps({**VALID, "auth": "none"})


@pytest.mark.parametrize("container", [True, False], ids=["container", "no-container"])
def test_main_keeps_the_container_files_only_when_chosen(
    container: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Dockerfile, .dockerignore and their page go together when the option is off."""
    (tmp_path / "docs").mkdir()
    for path in ["Dockerfile", ".dockerignore", "docs/container.md", "README.md"]:
        (tmp_path / path).write_text("x", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(post_gen, "rendered_answers", lambda: {**VALID, "container": container})
    for _ in range(2):  # idempotent
        assert post_gen.main() == 0
    assert (tmp_path / "Dockerfile").exists() == container
    assert (tmp_path / ".dockerignore").exists() == container
    assert (tmp_path / "docs" / "container.md").exists() == container
    assert (tmp_path / "README.md").exists()


@pytest.mark.parametrize(
    ("container", "kubernetes", "refused"),
    [(True, True, False), (True, False, False), (False, False, False), (False, True, True)],
)
def test_kubernetes_manifests_need_the_container_image(
    container: bool, kubernetes: bool, refused: bool
) -> None:
    """Manifests run the image, so kubernetes without container is refused, saying what to do."""
    errors: list[str] = pre_gen.validate(
        {**VALID, "container": container, "kubernetes": kubernetes}
    )
    assert bool(errors) == refused, errors
    if refused:
        (error,) = errors
        assert "container is off" in error
        assert "kubernetes=no" in error


@pytest.mark.parametrize("kubernetes", [True, False], ids=["kubernetes", "no-kubernetes"])
def test_main_keeps_the_kubernetes_manifests_only_when_chosen(
    kubernetes: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """deploy/k8s and its page go when the option is off; the nginx config beside it stays."""
    (tmp_path / "deploy" / "k8s").mkdir(parents=True)
    (tmp_path / "docs").mkdir()
    (tmp_path / "deploy" / "k8s" / "deployment.yaml").write_text("x", encoding="utf-8")
    (tmp_path / "docs" / "kubernetes.md").write_text("x", encoding="utf-8")
    (tmp_path / "deploy" / "nginx.conf").write_text("x", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(post_gen, "rendered_answers", lambda: {**VALID, "kubernetes": kubernetes})
    for _ in range(2):  # idempotent
        assert post_gen.main() == 0
    assert (tmp_path / "deploy" / "k8s").exists() == kubernetes
    assert (tmp_path / "docs" / "kubernetes.md").exists() == kubernetes
    assert (tmp_path / "deploy" / "nginx.conf").exists()


def _git(*args: str, cwd: Path) -> str:
    """Run git in cwd, fail the test if it fails, and return its output."""
    result = run(["git", *args], cwd=cwd)
    assert result.returncode == 0, result.describe()
    return result.output


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """Provide a small project outside any git work tree (pytest's tmp_path is in none)."""
    if shutil.which("git") is None:
        unavailable("git not found", "install git (apt-get install git)")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("x = 1\n", encoding="utf-8")
    (tmp_path / "README.md").write_text("# x\n", encoding="utf-8")
    assert run(["git", "rev-parse"], cwd=tmp_path).returncode != 0, "tmp_path is in a repository"
    return tmp_path


def test_init_git_repository_commits_every_file_as_the_author(project: Path) -> None:
    """One first commit on main holds the whole bake, by the author answers, tree clean."""
    author = 'Zoë O\'Brien "Quoted" \\ Tools'
    assert post_gen.init_git_repository(project, author, "zoe@example.com") is None
    log = _git("log", "--format=%an|%ae|%cn|%s", cwd=project).splitlines()
    assert log == [
        f"{author}|zoe@example.com|{author}|Bake the project from the MCP service template"
    ]
    assert _git("branch", "--show-current", cwd=project).strip() == "main"
    assert _git("ls-files", cwd=project).split() == ["README.md", "src/app.py"]
    assert _git("status", "--porcelain", cwd=project) == ""


def test_init_git_repository_without_git_says_so(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No git on PATH: a note, no repository, no exception."""
    monkeypatch.setattr(post_gen.shutil, "which", lambda name: None)
    assert post_gen.init_git_repository(project, "A", "a@example.com") == "git not found"
    assert not (project / ".git").exists()


def test_init_git_repository_does_not_nest_in_a_work_tree(project: Path) -> None:
    """A bake inside an existing repository (a monorepo) gets no repository of its own."""
    _git("init", "-q", cwd=project)
    (project / "baked").mkdir()
    note = post_gen.init_git_repository(project / "baked", "A", "a@example.com")
    assert note is not None
    assert "in a git work tree already" in note
    assert not (project / "baked" / ".git").exists()


def test_init_git_repository_reports_a_failing_step(project: Path) -> None:
    """A git step that fails (here: an empty author name) is a note naming it, not a crash."""
    note = post_gen.init_git_repository(project, "", "")
    assert note is not None
    assert note.startswith("git commit failed: "), note


@pytest.mark.parametrize("init_git", [True, False], ids=["init-git", "no-git"])
def test_main_makes_a_repository_only_when_asked(
    init_git: bool, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The init_git answer decides; the next steps are printed either way."""
    monkeypatch.chdir(project)
    monkeypatch.setattr(post_gen, "rendered_answers", lambda: {**VALID, "init_git": init_git})
    assert post_gen.main() == 0
    assert (project / ".git").is_dir() == init_git


def test_main_without_git_prints_a_note_and_succeeds(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A machine without git still bakes; the output says the project is not a repository."""
    monkeypatch.chdir(project)
    monkeypatch.setattr(post_gen.shutil, "which", lambda name: None)
    monkeypatch.setattr(post_gen, "rendered_answers", lambda: {**VALID, "init_git": True})
    assert post_gen.main() == 0
    output = capsys.readouterr().out
    assert "note: git not found, so the bake was not committed" in output
    assert "Next steps" in output
    assert not (project / ".git").exists()


@pytest.fixture
def template_repo(project: Path) -> Path:
    """Make a committed template (a cookiecutter.json in a git repository) beside the project."""
    template = project.parent / f"{project.name}-template"
    template.mkdir()
    (template / "cookiecutter.json").write_text("{}", encoding="utf-8")
    _git("init", "-q", cwd=template)
    _git("add", "--all", cwd=template)
    _git("-c", "user.name=T", "-c", "user.email=t@example.com", "commit", "-qm", "t", cwd=template)
    return template


def _context(template: str, repo_dir: Path) -> dict[str, Any]:
    """Return the context cookiecutter renders into the hook (answers plus private keys)."""
    return {**VALID, "_template": template, "_repo_dir": str(repo_dir), "_checkout": None}


def test_record_template_writes_what_cruft_reads(project: Path, template_repo: Path) -> None:
    """.cruft.json names the template (absolute), its HEAD commit and every answer."""
    assert post_gen.record_template(project, _context(str(template_repo), template_repo)) is None
    record = json.loads((project / ".cruft.json").read_text("utf-8"))
    commit = _git("rev-parse", "HEAD", cwd=template_repo).strip()
    assert record == {
        "template": str(template_repo.resolve()),
        "commit": commit,
        "checkout": None,
        "context": {
            "cookiecutter": {**VALID, "_template": str(template_repo.resolve()), "_commit": commit}
        },
        "directory": None,
    }


def test_record_template_expands_abbreviations(project: Path, template_repo: Path) -> None:
    """`cookiecutter gh:org/template` is recorded as the URL cruft can clone."""
    assert post_gen.record_template(project, _context("gh:org/template", template_repo)) is None
    record = json.loads((project / ".cruft.json").read_text("utf-8"))
    assert record["template"] == "https://github.com/org/template.git"


def test_record_template_leaves_cruft_create_to_cruft(project: Path, template_repo: Path) -> None:
    """Under `cruft create` the context has _commit, and cruft writes its own record after."""
    context = {**_context(str(template_repo), template_repo), "_commit": "0" * 40}
    assert post_gen.record_template(project, context) is None
    assert not (project / ".cruft.json").exists()


def test_record_template_outside_git_says_so(project: Path) -> None:
    """A template that is not in a git repository has no commit to record: a note, no file."""
    template = project.parent / f"{project.name}-plain"
    template.mkdir()
    (template / "cookiecutter.json").write_text("{}", encoding="utf-8")
    note = post_gen.record_template(project, _context(str(template), template))
    assert note == "the template is not in a git repository"
    assert not (project / ".cruft.json").exists()
