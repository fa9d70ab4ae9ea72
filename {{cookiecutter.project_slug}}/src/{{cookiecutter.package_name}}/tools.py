"""The service's tools, resources and prompts: the team's code, starting as examples to copy.

The app calls ``register_tools(server)`` with the SDK's server; that is the one contract. Each
example is one decorated function: copy the one closest to what you need, and keep its test
(``tests/test_tools.py``) as the pattern for yours.

* ``add``: a quick, pure tool; its type hints become the tool's input schema.
* ``long_task``: a slow tool that reports progress through the request context, so clients
  can show it and know the call is alive.
* ``package_info`` and the resource template ``pypi://{name}``: an upstream HTTP API called
  through the client the process shares (``shared.py``), at a URL that is a setting.
* ``service_info``: a resource, read by URI.
* ``review_code``: a prompt, a message template the client fills in.
{% if cookiecutter.mcp_sdk == "2.x" %}
* ``ask_for_approval``: a tool that asks the user before it answers, and acts on what the user
  said: approved or refused, declined to answer, or dismissed the question.
{% endif %}

How failures reach the client and the log is decided by what is raised (``docs/operating.md``,
"Failures"): ``ToolError`` in a tool, ``NotFound`` when what was asked for does not exist and
``ResourceError`` in a resource or prompt are expected, and the client gets their message; any
other exception is a bug, and the client gets a generic error while the log gets the traceback.

The ``@mcp.…`` decorators take the arguments of the SDK's own (``@server.tool()`` and so on);
registering through the SDK's API directly in ``register_tools`` works as well.
"""

from __future__ import annotations

import json
import math
from typing import Annotated

import anyio
import httpx
from pydantic import BaseModel, Field

from . import SERVER_NAME, __version__
from .runtime.registry import Registry
from .runtime.sdk import (
    SDK_VERSION,
{% if cookiecutter.mcp_sdk == "2.x" %}
    AcceptedElicitation,
    Elicit,
    ElicitationResult,
{% endif %}
    NotFound,
{% if cookiecutter.mcp_sdk == "2.x" %}
    Resolve,
{% endif %}
    ResourceError,
    Server,
    ToolContext,
    ToolError,
)
from .shared import shared

MAX_LONG_TASK_SECONDS = 600.0
# A distribution name as PyPI accepts it (PEP 508): anything else is the caller's mistake.
PACKAGE_NAME = r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$"

mcp = Registry()


@mcp.tool()
async def add(a: float, b: float) -> float:
    """Add two numbers."""
    total = a + b
    if not math.isfinite(total):
        # Expected, and the model can act on it: the message goes to the client.
        raise ToolError(f"the sum of {a:g} and {b:g} is too large to represent")
    return total


@mcp.tool()
async def long_task(
    seconds: Annotated[
        float, Field(ge=0, le=MAX_LONG_TASK_SECONDS, description="How long to run.")
    ],
    ctx: ToolContext,
    steps: Annotated[int, Field(ge=1, le=100, description="How many progress reports.")] = 5,
) -> str:
    """Work for the given number of seconds, reporting progress at each of the steps."""
    for step in range(1, steps + 1):
        await anyio.sleep(seconds / steps)
        await ctx.report_progress(step, steps, f"step {step} of {steps}")
    return f"done after {seconds:g} seconds in {steps} steps"


class Package(BaseModel):
    """What PyPI says about a package's latest release."""

    name: str
    version: str
    summary: str
    home_page: str | None


PackageName = Annotated[str, Field(pattern=PACKAGE_NAME, max_length=200)]


@mcp.tool()
async def package_info(
    name: Annotated[PackageName, Field(description="The package's name on PyPI.")],
) -> Package:
    """Look a Python package up on PyPI: its latest version, summary and home page."""
    return await fetch_package(name)


@mcp.resource("pypi://{name}", mime_type="application/json")
async def package_resource(name: PackageName) -> str:
    """A Python package on PyPI, as JSON: its latest version, summary and home page."""
    return (await fetch_package(name)).model_dump_json()


async def fetch_package(name: str) -> Package:
    """Ask PyPI, through the client this process shares, about package ``name``.

    Raises:
        NotFound: PyPI has no such package.
        ResourceError: PyPI did not answer, or not usefully; the message says how.
    """
    try:
        response = await shared().pypi.get(f"/pypi/{name}/json")
    except httpx.HTTPError as exc:  # refused, reset or timed out: say which, not the details
        raise ResourceError(f"PyPI did not answer ({type(exc).__name__})") from exc
    if response.status_code == httpx.codes.NOT_FOUND:
        raise NotFound(f"PyPI has no package named {name!r}")
    if response.status_code != httpx.codes.OK:
        raise ResourceError(f"PyPI answered HTTP {response.status_code}")
    info = response.json()["info"]
    return Package(
        name=info["name"],
        version=info["version"],
        summary=info.get("summary") or "",
        home_page=(info.get("project_urls") or {}).get("Homepage") or info.get("home_page"),
    )


@mcp.resource("info://service", mime_type="application/json")
def service_info() -> str:
    """Which service this is: its name, its version and the MCP SDK it runs on."""
    return json.dumps({"name": SERVER_NAME, "version": __version__, "mcp_sdk": SDK_VERSION})


@mcp.prompt()
def review_code(code: str, language: str = "python") -> str:
    """Ask for a review of a piece of code."""
    return f"Review this {language} code for bugs, unclear names and missing tests:\n\n{code}"
{% if cookiecutter.mcp_sdk == "2.x" %}


# Asking the user. A tool declares what it must ask as a parameter filled by a resolver
# (``Resolve``) that returns the question and the form of the answer (``Elicit``); the SDK asks
# before the tool runs. Over MCP 2026-07-28 the call takes two rounds: the first answers with
# the question, the client asks its user and calls again with the answer, which any process or
# replica may get (they share REQUEST_STATE_KEYS: docs/asking-the-user.md). Clients on older
# revisions get an error: a stateless server cannot send them the question.


class Approval(BaseModel):
    """The form the user fills in: go ahead or not, and anything to pass on."""

    approve: bool = Field(description="Go ahead?")
    note: str = Field(default="", max_length=500, description="Anything the assistant should know.")


def ask_to_approve(action: str) -> Elicit[Approval]:
    """The question, made from the tool's own argument (a resolver takes arguments by name)."""
    return Elicit(f"The assistant wants to {action}. Go ahead?", Approval)


@mcp.tool()
async def ask_for_approval(
    action: Annotated[
        str,
        Field(min_length=1, max_length=200, description="What to do, e.g. 'delete 3 files'."),
    ],
    answer: Annotated[ElicitationResult[Approval], Resolve(ask_to_approve)],
) -> str:
    """Ask the user to approve an action before the assistant takes it."""
    if isinstance(answer, AcceptedElicitation):
        verdict = "approved" if answer.data.approve else "refused"
        note = f" (the user adds: {answer.data.note})" if answer.data.note else ""
        return f"{verdict}: {action}{note}"
    if answer.action == "decline":
        return f"the user declined to answer: do not {action}"
    return f"the user dismissed the question: do not {action}"
{% endif %}


def register_tools(server: Server) -> None:
    """Add this module's tools, resources and prompts to ``server``."""
    mcp.register(server)
