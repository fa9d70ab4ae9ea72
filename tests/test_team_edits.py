"""Slow tier: a team's first edits, replacing the example tools with its own, break nothing.

The one contract between a team's ``tools.py`` and the rest of the bake is
``register_tools(server)``. Two teams, on each SDK line where it matters:

* ``tools-only`` replaces ``tools.py`` alone with a module that shares nothing with the examples
  (other tools, a resource and a prompt, registered through the SDK's own decorators, not the
  template's registry), as the template's acceptance tests do;
* ``real-tools`` writes what a real service has: a setting of its own (``settings.py``), a
  client opened once per process at that setting's URL (``shared.py``), tools that call an
  upstream through it and fail by intent, and a resource template that says ``NotFound``, with
  tests of its own against a fake upstream it starts, and its setting in ``.env.example`` and
  ``docs/settings.md``.

Each deletes the examples' test file and runs what a team runs: the bake's test suite, ruff and
``mypy --strict``. Every guarantee of the request path must still be tested, with tools the
tests bring themselves.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from _support import Bake, clean_env, expect_success, python_module, run

pytestmark = pytest.mark.slow

TEAM_TOOLS = '''\
"""Weather lookups: the tools, resource and prompt of our service."""

from __future__ import annotations

from .runtime.sdk import Server

TEMPERATURES = {"paris": 12.5, "oslo": -3.0}


def register_tools(server: Server) -> None:
    """Add the weather tools, the list of cities and the forecast prompt."""

    @server.tool()
    def current_temperature(city: str) -> float:
        """The temperature in a city, in degrees Celsius."""
        return TEMPERATURES[city.lower()]

    @server.resource("weather://cities")
    def cities() -> str:
        """The cities we know the weather of, comma-separated."""
        return ",".join(sorted(TEMPERATURES))

    @server.prompt()
    def forecast_request(city: str) -> str:
        """Ask for tomorrow's forecast."""
        return f"What will the weather be in {city} tomorrow?"
'''


WEATHER_SETTINGS = '''\
"""Our settings: the template's, plus where the weather service is."""

from __future__ import annotations

from pydantic import Field, HttpUrl

from .runtime.auth import AuthSettings
from .runtime.settings import SettingsError, load_settings

__all__ = ["Settings", "SettingsError", "read_settings"]


class Settings(AuthSettings):
    """The template's settings and ours."""

    weather_url: HttpUrl = Field(
        default=HttpUrl("https://weather.example.com"), description="The weather service."
    )


def read_settings(**overrides: object) -> Settings:
    return load_settings(Settings, **overrides)
'''

WEATHER_SHARED = '''\
"""The weather service's client, one per process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx

from .runtime.per_process import PerProcess
from .settings import Settings


@dataclass(frozen=True)
class Shared:
    settings: Settings
    weather: httpx.AsyncClient


@asynccontextmanager
async def open_shared(settings: Settings) -> AsyncIterator[Shared]:
    async with httpx.AsyncClient(base_url=str(settings.weather_url), timeout=5) as weather:
        yield Shared(settings, weather)


shared = PerProcess(open_shared)
'''

WEATHER_TOOLS = '''\
"""Weather from an upstream service, through the process's client."""

from __future__ import annotations

from .runtime.sdk import NotFound, ResourceError, Server, ToolError
from .shared import shared


async def temperature_of(city: str) -> float:
    response = await shared().weather.get(f"/cities/{city}")
    if response.status_code == 404:
        raise NotFound(f"no weather for {city}")
    if response.status_code != 200:
        raise ResourceError(f"the weather service answered {response.status_code}")
    return float(response.json()["celsius"])


def register_tools(server: Server) -> None:
    @server.tool()
    async def current_temperature(city: str) -> float:
        """The temperature in a city, in degrees Celsius."""
        if not city.isalpha():
            raise ToolError("a city name is letters only")
        return await temperature_of(city)

    @server.resource("weather://{city}")
    async def weather(city: str) -> str:
        """The temperature in a city, as text."""
        return f"{await temperature_of(city)} C"
'''

WEATHER_TESTS = '''\
"""Our weather tools, against a fake weather service."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from pydantic import HttpUrl
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from my_mcp_server.app import create_server
from my_mcp_server.settings import Settings
from my_mcp_server.shared import shared

from .support.client import (
    RESOURCE_NOT_FOUND_IN_MEMORY,
    ProtocolError,
    Session,
    call_tool,
    in_memory,
    read_resource,
)
from .support.servers import serving

pytestmark = pytest.mark.anyio


async def city(request: Request) -> JSONResponse:
    if request.path_params["name"] == "oslo":
        return JSONResponse({"celsius": -3.0})
    return JSONResponse({}, status_code=404)


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    with serving(Starlette(routes=[Route("/cities/{name}", city)])) as running:
        yield running.base_url


@pytest.fixture
async def session(upstream: str) -> AsyncIterator[Session]:
    settings = Settings(weather_url=HttpUrl(upstream))
    async with shared.opened(settings), in_memory(create_server(settings)) as client:
        yield client


async def test_the_temperature_comes_from_the_weather_service(session: Session) -> None:
    outcome = await call_tool(session, "current_temperature", {"city": "oslo"})
    assert outcome.structured == {"result": -3.0}


async def test_an_unknown_city_is_a_tool_error(session: Session) -> None:
    outcome = await call_tool(session, "current_temperature", {"city": "atlantis"})
    assert outcome.is_error
    assert "no weather for atlantis" in outcome.text


async def test_an_unknown_city_s_resource_is_not_found(session: Session) -> None:
    with pytest.raises(ProtocolError) as raised:
        await read_resource(session, "weather://atlantis")
    assert raised.value.error.code == RESOURCE_NOT_FOUND_IN_MEMORY
'''


def run_team_checks(path: Path) -> None:
    """Install the bake in a venv of its own and run the suite, ruff and mypy --strict."""
    venv = path / ".venv"
    python = venv / "bin" / "python"
    env = clean_env({"VIRTUAL_ENV": str(venv), "PATH": f"{venv / 'bin'}:{os.environ['PATH']}"})
    expect_success(run(python_module("uv", "venv", "--python", sys.executable, str(venv)), path))
    install = python_module("uv", "pip", "install", "--python", str(python), "-e", ".[dev]")
    expect_success(run(install, cwd=path, env=env))
    for check in (
        ["pytest", "-q", "-p", "no:cacheprovider"],
        ["ruff", "check", "."],
        ["ruff", "format", "--check", "."],
        ["mypy", "--strict", "src", "tests"],
    ):
        expect_success(run([str(python), "-m", *check], cwd=path, env=env))


def write_real_tools(path: Path) -> None:
    """Write the team's settings, shared client, tools and tests; list and document its setting.

    Both lists are held to ``Settings`` by the bake's own tests, so a team that forgot one would
    find out here.
    """
    package = path / "src" / "my_mcp_server"
    (package / "settings.py").write_text(WEATHER_SETTINGS, encoding="utf-8")
    (package / "shared.py").write_text(WEATHER_SHARED, encoding="utf-8")
    (package / "tools.py").write_text(WEATHER_TOOLS, encoding="utf-8")
    (path / "tests" / "test_weather.py").write_text(WEATHER_TESTS, encoding="utf-8")
    example = path / ".env.example"
    kept = [line for line in example.read_text("utf-8").splitlines() if "_PYPI_" not in line]
    kept.append("MY_MCP_SERVER_WEATHER_URL=https://weather.example.com")
    example.write_text("\n".join(kept) + "\n", encoding="utf-8")
    page = path / "docs" / "settings.md"
    rows = [line for line in page.read_text("utf-8").splitlines() if "_PYPI_" not in line]
    last = max(number for number, line in enumerate(rows) if line.startswith("| `MY_MCP_SERVER_"))
    rows.insert(
        last + 1,
        "| `MY_MCP_SERVER_WEATHER_URL` | `https://weather.example.com` | the weather service |",
    )
    page.write_text("\n".join(rows) + "\n", encoding="utf-8")


TEAMS = [
    pytest.param(
        line, team, marks=pytest.mark.xdist_group(f"team-{team}-{line}"), id=f"{team}-{line}"
    )
    for line, team in [("2.x", "tools-only"), ("2.x", "real-tools"), ("1.x", "real-tools")]
]


@pytest.mark.parametrize(("line", "team"), TEAMS)
def test_a_team_s_own_tools_keep_the_suite_ruff_and_mypy_green(
    line: str, team: str, bake: Bake, tmp_path: Path
) -> None:
    """Bake, swap in the team's code, drop the examples' tests, then run the bake's checks."""
    path = bake(tmp_path, mcp_sdk=line)
    if team == "tools-only":
        (path / "src" / "my_mcp_server" / "tools.py").write_text(TEAM_TOOLS, encoding="utf-8")
    else:
        write_real_tools(path)
    (path / "tests" / "test_tools.py").unlink()
    (path / "tests" / "test_asking.py").unlink(missing_ok=True)  # 2.x's asking example
    run_team_checks(path)
