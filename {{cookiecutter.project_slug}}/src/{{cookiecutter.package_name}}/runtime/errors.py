"""Failures by intent, for tools, resources and prompts alike, the same on both SDK lines.

Each seam's ``Server`` (``sdk.py``) wraps the SDK's own ``call_tool``, ``read_resource`` and
``get_prompt`` with these rules, so they hold for everything a server has, however it was
registered (the ``@mcp.…`` decorators of ``tools.py`` or the SDK's own API):

* A client's mistake: an unknown tool, prompt or resource, or arguments that are missing,
  unknown or of the wrong type. The client gets the JSON-RPC error the specification names
  (-32602, invalid params; a resource the server does not have is -32002 before MCP 2026-07-28),
  except that a tool's arguments are reported as a tool error the model can read and correct
  (SEP-1303). The log gets one INFO line.
* An expected failure: the code raises the seam's ``ToolError`` (a tool), ``NotFound`` (the
  item asked for does not exist) or ``ResourceError`` (any other failure it saw coming). The
  client gets its message (a resource or prompt: -32602 for ``NotFound`` as above, -32603
  otherwise); the log gets one INFO line.
* Anything else is a bug. The client gets a generic error that names the request id and
  nothing else; the log gets one ERROR with the traceback.

Every line names the tool, resource or prompt and the request id. Left to themselves the SDK
lines differ (1.x sends a bug's text to the client and logs nothing, or answers code 0; both
log a client's mistake about a prompt as an ERROR with a traceback). ``docs/operating.md``
shows what the client and the log get.
"""

from __future__ import annotations

import inspect
import logging
import traceback
from collections.abc import Callable, Iterable
from typing import Any, Final, Literal, Protocol

from pydantic import ValidationError

from .requests import current

# JSON-RPC error codes the specification names for these failures.
INVALID_PARAMS: Final = -32602
INTERNAL_ERROR: Final = -32603
# What a read of a resource the server does not have answered before MCP 2026-07-28, which
# made it INVALID_PARAMS (SEP-2164).
RESOURCE_NOT_FOUND: Final = -32002
_NOT_FOUND_AS_INVALID_PARAMS_SINCE: Final = "2026-07-28"

# The lines are about the team's code, so they are written under its module's logger.
logger = logging.getLogger(__name__.rsplit(".", 2)[0] + ".tools")

Kind = Literal["tool", "resource", "prompt"]


def resource_not_found_code(protocol_version: str | None) -> int:
    """The error code for a resource the server does not have, in the request's revision."""
    if protocol_version is not None and protocol_version >= _NOT_FOUND_AS_INVALID_PARAMS_SINCE:
        return INVALID_PARAMS
    return RESOURCE_NOT_FOUND


def client_mistake(kind: Kind, name: str, message: str) -> None:
    """Log a client's mistake about a name or arguments: one INFO line."""
    called, request = _whose(name)
    logger.info(
        "%s %s refused: %s (request %s)", kind, called, message, request, extra={"rpc_name": called}
    )


def expected_failure(kind: Kind, name: str, exc: BaseException) -> None:
    """Log a failure the code raised on purpose: one INFO line with its message."""
    called, request = _whose(name)
    logger.info(
        "%s %s failed: %s (request %s)", kind, called, exc, request, extra={"rpc_name": called}
    )


def bug(kind: Kind, name: str, exc: BaseException) -> str:
    """Log a bug: one ERROR with ``exc``'s traceback. Returns what the client may be told."""
    called, request = _whose(name)
    logger.error(
        "%s %s raised an unexpected exception (request %s)",
        kind,
        called,
        request,
        exc_info=(type(exc), exc, exc.__traceback__),
        extra={"rpc_name": called},
    )
    return f"internal error; the server log has the details (request {request})"


def root_cause(exc: BaseException) -> BaseException:
    """The exception that started ``exc``'s chain: the SDKs wrap what a function raised, and
    the 1.x line sometimes without ``from`` (so the original is its ``__context__``)."""
    seen = {id(exc)}
    while True:
        inner = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
        if inner is None or id(inner) in seen:
            return exc
        seen.add(id(inner))
        exc = inner


def raised_inside(exc: BaseException, function: Callable[..., Any]) -> bool:
    """Whether ``exc`` came out of ``function``'s own code, rather than out of the checks of
    its arguments that the SDK and pydantic run before calling it."""
    code = getattr(inspect.unwrap(function), "__code__", None)
    return any(frame.f_code is code for frame, _ in traceback.walk_tb(exc.__traceback__))


class PromptArgument(Protocol):
    """A prompt's argument as both SDK lines describe it."""

    @property
    def name(self) -> str: ...

    @property
    def required(self) -> bool | None: ...


def prompt_mistake(
    name: str, declared: Iterable[PromptArgument] | None, arguments: Iterable[str] | None
) -> str | None:
    """What is wrong with asking for prompt ``name`` with ``arguments`` (their names), if
    anything; ``declared`` is the prompt's arguments, None when there is no such prompt."""
    if declared is None:
        return f"Unknown prompt: {name}"
    required = {argument.name: bool(argument.required) for argument in declared}
    given = set(arguments or ())
    if missing := sorted(arg for arg, needed in required.items() if needed and arg not in given):
        return f"Missing required arguments for prompt {name}: {', '.join(missing)}"
    if unknown := sorted(given - required.keys()):
        return f"Unknown arguments for prompt {name}: {', '.join(unknown)}"
    return None


def invalid_arguments(exc: ValidationError) -> str:
    """Which arguments a validation error is about, by name only: the values are the caller's."""
    names = sorted({".".join(str(part) for part in error["loc"]) for error in exc.errors()})
    return "invalid arguments: " + ", ".join(names)


def _whose(name: str) -> tuple[str, str]:
    """The name as the client called it (the access line's), and the request's id."""
    state = current.get()
    if state is None:
        return name, "-"
    return (state.name or name), state.request_id
