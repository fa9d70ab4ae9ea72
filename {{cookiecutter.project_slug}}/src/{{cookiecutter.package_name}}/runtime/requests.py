"""What the request path knows about the MCP request it is serving, in one small object.

The guard fills it in as it reads the request (JSON-RPC method, tool/resource/prompt name, id)
and as the response goes out (outcome); its warnings, the access line and the metrics all read
it, so each says the same thing about a request. ``current`` holds it for the code that runs on
the request's behalf (a tool's log lines carry its request id through it).
"""

from __future__ import annotations

import re
import secrets
import time
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from starlette.types import Scope


class Outcome(StrEnum):
    """What happened to a request, for the access line and the metrics."""

    OK = "ok"
    TOOL_ERROR = "tool_error"  # the tool answered with isError: true
    RPC_ERROR = "rpc_error"  # a JSON-RPC error; ``code`` says which
    CLIENT_LEFT = "client_left"  # the client left before its answer was complete
    REFUSED = "refused"  # answered before the SDK saw it (413, 408, 415, 400, 503, 431)
    CUT_SHORT = "cut_short"  # by a shutdown that would wait no longer
    HTTP_ERROR = "http_error"  # any other answer of 4xx or 5xx


class Event(StrEnum):
    """What the request path saw happen to a request, for the metrics.

    The guard's are each also one WARNING, but for ``UNREADABLE``; the limits' (``OVER_LIMIT``,
    ``HEADERS_TOO_LARGE``) are answered without one.
    """

    EARLY_DISCONNECT = "early_disconnect"
    LATE_DISCONNECT = "late_disconnect"
    BODY_TOO_LARGE = "body_too_large"
    BODY_TIMEOUT = "body_timeout"
    UNREADABLE = "refused"  # 415, or 400 for a body that is not one JSON-RPC message
    CUT_SHORT = "cut_short"
    OVER_LIMIT = "over_limit"
    HEADERS_TOO_LARGE = "headers_too_large"


# Where a JSON-RPC error's code is in an answer: near its start, on both SDK lines, JSON or
# SSE. A tool result's flag can be anywhere in it (the lines order the fields differently).
_ERROR_CODE: Final = re.compile(rb'"error":\{"code":(-?\d+)')
_HEAD: Final = 120
_TOOL_ERROR: Final = b'"isError":true'

# Names that ``params`` carries for each kind of request, for the access line.
_NAME_PARAM: Final = {
    "tools/call": "name",
    "prompts/get": "name",
    "resources/read": "uri",
}

current: ContextVar[RequestState | None] = ContextVar("current_request", default=None)


@dataclass(slots=True, eq=False)
class RequestState:
    """One HTTP request's identity and, once it is answered, its outcome."""

    request_id: str
    started: float = field(default_factory=time.monotonic)
    # From the JSON-RPC message, once the guard has read it.
    method: str | None = None
    name: str | None = None
    rpc_id: Any = None
    # From the answer.
    status: int = 0
    outcome: Outcome = Outcome.OK
    code: int | None = None  # the JSON-RPC error code, when the outcome is RPC_ERROR
    event: Event | None = None  # what the request path saw happen, if anything
    # The trace the request is served in, as 32 hex digits, when traces are on (``tracing.py``):
    # the caller's from ``traceparent``, then the MCP server span's.
    trace_id: str | None = None

    @classmethod
    def of(cls, scope: Scope) -> RequestState:
        """The state of the request ``scope`` describes: the one in ``current`` or a new one."""
        state = current.get()
        return state if state is not None else cls(request_id(scope))

    def read_message(self, rpc: dict[str, Any]) -> None:
        """Take the method, name and id from the request's JSON-RPC message."""
        method = rpc.get("method")
        self.method = method
        self.rpc_id = rpc.get("id")
        param = _NAME_PARAM.get(method) if isinstance(method, str) else None
        if param is not None:
            params = rpc.get("params")
            if isinstance(params, dict):
                name = params.get(param)
                self.name = name[:200] if isinstance(name, str) else None

    def read_answer(self, last_chunk: bytes) -> None:
        """Take the outcome from the last piece of the answer, which holds the response.

        Byte searches, not a JSON parse: this runs for every request, and an answer can be
        megabytes long. (A tool whose structured result has an ``isError: true`` of its own
        is counted as a tool error.)
        """
        if (found := _ERROR_CODE.search(last_chunk, 0, _HEAD)) is not None:
            self.outcome = Outcome.RPC_ERROR
            self.code = int(found.group(1))
        elif self.method == "tools/call" and _TOOL_ERROR in last_chunk:
            self.outcome = Outcome.TOOL_ERROR

    def refused(self, event: Event) -> None:
        """Record that the request was answered before the SDK saw it, and why."""
        self.outcome = Outcome.REFUSED
        self.event = event

    def elapsed_ms(self) -> float:
        return (time.monotonic() - self.started) * 1000


def refused(event: Event) -> None:
    """Record that the request being served was refused, by a layer that has no state of its
    own for it (the limits, in front of the guard)."""
    state = current.get()
    if state is not None:
        state.refused(event)


def request_id(scope: Scope) -> str:
    """The client's or proxy's ``X-Request-ID`` (to correlate logs), else a fresh one."""
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            printable: str = value.decode("latin-1")[:64]
            if printable.isprintable() and " " not in printable and printable:
                return printable
    return secrets.token_hex(6)


def client_address(scope: Scope) -> str:
    client = scope.get("client")
    return f"{client[0]}:{client[1]}" if client else "unknown"
