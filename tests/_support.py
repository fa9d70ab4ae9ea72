"""Plain helpers shared by the template tests (fixtures live in conftest.py).

Kept in a module rather than in conftest.py so tests can import them by name.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import NoReturn

import pytest
from cookiecutter.exceptions import FailedHookException
from cookiecutter.main import cookiecutter

TEMPLATE_DIR = Path(__file__).resolve().parent.parent
HOOKS_DIR = TEMPLATE_DIR / "hooks"

# Long enough for a cold `uv pip install` or a baked suite that starts servers,
# short enough that a hung command cannot eat CI's whole time budget.
COMMAND_TIMEOUT = 600.0
OUTPUT_TAIL = 8000

# The mcp versions each SDK line's bake is tested on: the lowest its requirement admits
# (mcp>=2.3,<3 and mcp>=1.26,<2) and the newest release of the line on PyPI when this was last
# updated (2.3.0 is both for 2.x). Pinned rather than looked up at run time so that a CI run
# can be repeated; test_bake.py checks them against the baked requirements. When a release
# comes out, put it in SDK_NEWEST: the bare-SDK tests then say whether it still has the bugs
# the guard works around.
SDK_LOWEST = {"2.x": "2.3.0", "1.x": "1.26.0"}
SDK_NEWEST = {"2.x": "2.3.0", "1.x": "1.30.0"}
SDK_MATRIX = [
    (line, version)
    for line in SDK_LOWEST
    for version in dict.fromkeys((SDK_LOWEST[line], SDK_NEWEST[line]))
]

# .ci/run sets up the services some slow tests need (a Docker engine, wrk); under CI=true a
# missing one fails those tests, elsewhere they skip and say how to enable them.
IN_CI = os.environ.get("CI", "").lower() in {"true", "1"}


def load_module(path: Path, name: str) -> ModuleType:
    """Import a Python file by path, as cookiecutter's hooks are not a package.

    The hooks keep their Jinja inside string literals, so the unrendered files import too.
    """
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def unavailable(reason: str, how_to_enable: str) -> NoReturn:
    """Skip with the way to enable the test, or fail under CI, where it must run."""
    if IN_CI:
        pytest.fail(f"{reason}; CI=true, so this test must run ({how_to_enable})")
    pytest.skip(f"{reason}; {how_to_enable}")


# Environment variables of the outer run that must not leak into commands run
# for a baked project: they would point it at our venv or our pytest options.
_LEAKY_ENV = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTEST_ADDOPTS", "PYTEST_PLUGINS")


@dataclass(frozen=True)
class CommandResult:
    """What a command did: its exit code and its interleaved stdout/stderr."""

    args: tuple[str, ...]
    returncode: int
    output: str

    def describe(self) -> str:
        """Summarise for an assertion message: command, exit code, output tail."""
        return (
            f"$ {' '.join(self.args)}\nexit code {self.returncode}; "
            f"last {OUTPUT_TAIL} characters of output:\n{tail(self.output)}"
        )


def expect_success(result: CommandResult) -> None:
    """Fail the test with the command's output tail unless it exited 0.

    pytest.fail rather than assert keeps the report to the command's own
    output instead of a repr of the whole result.
    """
    if result.returncode != 0:
        pytest.fail(result.describe(), pytrace=False)


def tail(text: str, limit: int = OUTPUT_TAIL) -> str:
    """Keep the end of long output, where the failure summary usually is."""
    return text if len(text) <= limit else "...\n" + text[-limit:]


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Copy os.environ without variables that would leak the outer run inward."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in _LEAKY_ENV and not key.startswith("PYTEST_XDIST")
    }
    env.update(extra or {})
    return env


def run(
    args: Sequence[str | os.PathLike[str]],
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = COMMAND_TIMEOUT,
) -> CommandResult:
    """Run a command to completion and capture its output, never prompting.

    The command gets its own process group so that, on timeout, servers it
    spawned are killed with it instead of outliving the test run.
    """
    argv = tuple(os.fspath(arg) for arg in args)
    with subprocess.Popen(
        argv,
        cwd=cwd,
        env=dict(env) if env is not None else clean_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        errors="replace",
        start_new_session=True,
    ) as process:
        try:
            output, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
            output += f"\n[killed after {timeout:.0f} s timeout]"
            return CommandResult(argv, -signal.SIGKILL, output)
    return CommandResult(argv, process.returncode, output)


def python_module(*args: str) -> list[str]:
    """Build a command that runs a tool from this test environment's own Python."""
    return [sys.executable, "-m", *args]


def iter_files(root: Path) -> Iterator[Path]:
    """Yield every regular file under root, in a stable order, outside any ``.git`` directory.

    A bake is a git repository (see the post-gen hook); its objects are git's, not the bake's.
    """
    yield from sorted(
        path
        for path in root.rglob("*")
        if path.is_file() and ".git" not in path.relative_to(root).parts
    )


def read_text_or_none(path: Path) -> str | None:
    """Return the file's text, or None for binary files (NUL byte or not UTF-8)."""
    data = path.read_bytes()
    if b"\0" in data[:8192]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


class Bake:
    """Bake the template with ``--no-input`` and optional answer overrides."""

    def __init__(self, config_file: Path) -> None:
        """Remember the isolated cookiecutter config to bake with."""
        self.config_file = config_file

    def __call__(self, output_dir: Path, **answers: str) -> Path:
        """Bake into output_dir and return the baked project's directory."""
        project_dir = cookiecutter(
            str(TEMPLATE_DIR),
            no_input=True,
            extra_context=answers,
            output_dir=str(output_dir),
            config_file=str(self.config_file),
        )
        return Path(project_dir)

    def refused(
        self,
        output_dir: Path,
        answers: Mapping[str, str],
        expected: type[BaseException] = FailedHookException,
    ) -> BaseException:
        """Bake answers that must be refused; check that nothing is left behind.

        Returns the exception so callers can inspect it further.
        """
        output_dir.mkdir(parents=True, exist_ok=True)
        with pytest.raises(expected) as caught:
            self(output_dir, **answers)
        leftovers = sorted(path.name for path in output_dir.iterdir())
        assert leftovers == [], f"refused bake left {leftovers} in {output_dir}"
        return caught.value


def bake_and_install(workdir: Path, line: str, *requirements: str) -> Path:
    """Bake the default answers on SDK ``line`` under ``workdir`` and install the bake.

    For the scripts that measure bakes (``sdk_table.py``, ``benchmark.py``): the project goes
    into a uv venv of its own (``.venv`` inside it), with ``requirements`` (pins, extra tools)
    installed beside it. Returns the project directory; stops the script with the command's
    output if a step fails.
    """
    config = workdir / "cookiecutter.yaml"
    config.write_text(
        f"cookiecutters_dir: {json.dumps(str(workdir / 'cc'))}\n"
        f"replay_dir: {json.dumps(str(workdir / 'replay'))}\n",
        encoding="utf-8",
    )
    output = workdir / "-".join([line, *requirements]).replace("=", "").replace("/", "")
    project = output / "my-mcp-server"
    venv = project / ".venv"
    env = clean_env({"VIRTUAL_ENV": str(venv)})
    bake = python_module("cookiecutter", "--no-input", "--config-file", str(config))
    bake += [str(TEMPLATE_DIR), "-o", str(output), f"mcp_sdk={line}"]
    python = str(venv / "bin" / "python")
    for command, cwd in (
        (bake, workdir),
        (python_module("uv", "venv", "--quiet", "--python", sys.executable, str(venv)), project),
        (
            python_module(
                "uv", "pip", "install", "--quiet", "--python", python, "-e", ".", *requirements
            ),
            project,
        ),
    ):
        result = run(command, cwd=cwd, env=env)
        if result.returncode != 0:
            raise SystemExit(f"{line} {' '.join(requirements)}:\n{result.describe()}")
    return project
