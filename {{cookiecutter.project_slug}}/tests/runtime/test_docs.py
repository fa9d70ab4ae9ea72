"""The docs against the service: the settings, field by field, and the uvicorn command.

``docs/settings.md`` is where an operator looks a setting up. It is written by hand, so it is
held to the fields here: a field added without a row, a row left behind or a default that
changed fails. (``.env.example`` is held the same way in ``test_settings.py``; the deployment
manifests, where the bake has them, in a test of their own.)

``docs/operating.md`` gives the flags plain uvicorn needs; they are run here as written.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from {{ cookiecutter.package_name }}.runtime.settings import ENV_PREFIX
from {{ cookiecutter.package_name }}.settings import Settings

from ..support import credentials
from ..support.processes import PACKAGE, Process
from ..support.servers import assert_serves_mcp

pytestmark = pytest.mark.quick  # the quick loop (README, Development)

PROJECT = Path(__file__).resolve().parents[2]
SETTINGS_PAGE = PROJECT / "docs" / "settings.md"
# | `PREFIX_NAME` | default | meaning |, where the default is a literal in backticks, `required`,
# empty, or a few words for an empty default ("a key of each process's own").
ROW = re.compile(rf"^\| `{ENV_PREFIX}(\w+)` \|([^|]*)\| [^|]+ \|$", re.MULTILINE)


@pytest.fixture(autouse=True)
def no_settings_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings read the environment even when validated from a dict: only the page counts."""
    for name in list(os.environ):
        if name.upper().startswith(ENV_PREFIX):
            monkeypatch.delenv(name)


def table() -> list[tuple[str, str]]:
    """The settings table's rows: each field and its default cell, in the page's order."""
    return [
        (name.lower(), default.strip())
        for name, default in ROW.findall(SETTINGS_PAGE.read_text("utf-8"))
    ]


def required() -> dict[str, Any]:
    """Values for the settings that have no default, so that one setting can be checked."""
    return {name.lower(): value for name, value in credentials.environment().items()}


def test_the_settings_table_lists_every_field_once() -> None:
    listed = [field for field, _ in table()]
    missing = sorted(set(Settings.model_fields) - set(listed))
    assert missing == [], f"settings without a row in {SETTINGS_PAGE.name}"
    assert sorted(set(listed)) == sorted(listed), "a setting has two rows"


@pytest.mark.parametrize(("field", "cell"), table(), ids=[field for field, _ in table()])
def test_the_settings_table_gives_each_default(field: str, cell: str) -> None:
    """A literal default is the field's; `required` is a setting the service cannot start
    without; words stand only for an empty default."""
    if field not in Settings.model_fields:
        pytest.fail(f"the table lists {ENV_PREFIX}{field.upper()}, which is no setting")
    default = getattr(Settings.model_construct(), field)
    if cell == "required":
        assert field in required(), "give required() a value for each required setting"
        without = {name: value for name, value in required().items() if name != field}
        with pytest.raises(ValidationError, match=field):
            Settings.model_validate(without)
    elif cell.startswith("`") and cell.endswith("`"):
        parsed = Settings.model_validate({**required(), field: cell.strip("`")})
        assert parsed.model_dump()[field] == default
    else:
        assert not default, f"{cell!r} stands for the default of {field}, which is {default!r}"


OPERATING_PAGE = PROJECT / "docs" / "operating.md"
UVICORN_RUNNING = re.compile(r"Uvicorn running on http://127\.0\.0\.1:(\d+)")


def documented_uvicorn_command() -> list[str]:
    """The one ``uvicorn ...`` command of docs/operating.md, split like a shell."""
    text = OPERATING_PAGE.read_text("utf-8")
    blocks = re.findall(r"^```sh\n(.*?)^```$", text, re.DOTALL | re.MULTILINE)
    (command,) = [block.replace("\\\n", " ") for block in blocks if block.startswith("uvicorn ")]
    return shlex.split(command)


@pytest.mark.process
def test_the_documented_uvicorn_command_serves(launch: Callable[..., Process]) -> None:
    """Every flag the page gives plain uvicorn is one the installed uvicorn takes."""
    args = documented_uvicorn_command()
    assert args[:2] == ["uvicorn", f"{PACKAGE}.app:app"], args
    args[args.index("--port") + 1] = "0"
    process = launch(sys.executable, "-m", *args)
    port = process.wait_for_stderr(UVICORN_RUNNING).group(1)
    assert_serves_mcp(f"http://127.0.0.1:{port}")
    process.popen.send_signal(signal.SIGTERM)
    assert process.wait() in (0, -signal.SIGTERM), process.output()
