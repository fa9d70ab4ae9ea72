"""The JSON-RPC envelope of a request body, checked once before the SDK sees it.

Why here and not in the SDK: some SDK versions answer a body that is not UTF-8, or JSON nested
thousands of levels deep, with a 500 and an ERROR traceback, and answer a valid JSON value of
the wrong shape with "invalid params". A malformed request is the client's fault: it gets a 400
with the JSON-RPC error the specification names (-32700 parse error, -32600 invalid request),
the same on every SDK version, and the server logs no error.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Final, TypeAlias

from starlette.types import Scope

PARSE_ERROR: Final = -32700
INVALID_REQUEST: Final = -32600
METHOD_NOT_FOUND: Final = -32601
# MCP 2026-07-28: routing headers missing, duplicated or disagreeing with the body.
HEADER_MISMATCH: Final = -32020


class RejectedRequest(Exception):
    """A request answered here, without reaching the SDK."""

    def __init__(self, status: int, code: int, message: str, request_id: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.response = error_body(code, message, request_id)


def error_body(code: int, message: str, request_id: Any = None) -> bytes:
    """A JSON-RPC error response; ``id`` is null when the request's id could not be read."""
    error = {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}
    return json.dumps(error).encode()


def parse_message(body: bytes) -> dict[str, Any]:
    """The JSON-RPC message in ``body``.

    Raises:
        RejectedRequest: the body is not UTF-8 JSON, or not one JSON-RPC 2.0 message.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise RejectedRequest(400, PARSE_ERROR, "Parse error: the body is not UTF-8") from None
    try:
        message = json.loads(text)
    except RecursionError:
        raise RejectedRequest(400, PARSE_ERROR, "Parse error: JSON nested too deeply") from None
    except ValueError as exc:
        raise RejectedRequest(400, PARSE_ERROR, f"Parse error: {exc}") from None
    if isinstance(message, list):
        raise RejectedRequest(
            400, INVALID_REQUEST, "Invalid Request: MCP does not accept JSON-RPC batches"
        )
    if not isinstance(message, dict):
        raise RejectedRequest(400, INVALID_REQUEST, "Invalid Request: not a JSON-RPC object")
    request_id = answerable_id(message)
    if message.get("jsonrpc") != "2.0":
        raise RejectedRequest(
            400, INVALID_REQUEST, 'Invalid Request: "jsonrpc" must be "2.0"', request_id
        )
    if "method" in message:
        if not isinstance(message["method"], str):
            raise RejectedRequest(
                400, INVALID_REQUEST, 'Invalid Request: "method" must be a string', request_id
            )
    elif "id" not in message or ("result" not in message and "error" not in message):
        raise RejectedRequest(
            400, INVALID_REQUEST, "Invalid Request: neither a request nor a response", request_id
        )
    return message


# MCP 2026-07-28: the ``_meta`` key by which a request opts in to log messages during its call.
LOG_LEVEL_META_KEY: Final = "io.modelcontextprotocol/logLevel"


def needs_stream(message: dict[str, Any]) -> bool:
    """Whether the client of ``message`` may hear from the server before its answer, so that the
    answer must be an SSE stream rather than plain JSON.

    It may when it asked for progress notifications (``_meta.progressToken``, a string or an
    integer, as the SDKs read it) or, in MCP 2026-07-28, opted in to log messages
    (``_meta`` log level). Nothing else reaches a client of a stateless server during its call:
    a handshake-era log level (``logging/setLevel``) outlives no request, a request from the
    server has no way back, and a 2026-07-28 call asks the user through its result.
    """
    params = message.get("params")
    if not isinstance(params, dict):
        return False
    meta = params.get("_meta")
    if not isinstance(meta, dict):
        return False
    token = meta.get("progressToken")
    asked_progress = isinstance(token, str | int) and not isinstance(token, bool)
    return asked_progress or LOG_LEVEL_META_KEY in meta


def answerable_id(message: dict[str, Any]) -> str | int | None:
    """The message's id, if it is one an answer can carry (a string or an integer)."""
    request_id = message.get("id")
    if not isinstance(request_id, str | int) or isinstance(request_id, bool):
        return None
    return request_id


# The answer an SDK line would give wrongly, or not at all, to a request (its scope and its
# JSON-RPC message), given by the guard instead; None for a request the SDK answers right.
# Each line's seam (``sdk.check_request``) supplies one, or none.
RequestCheck: TypeAlias = Callable[[Scope, dict[str, Any]], RejectedRequest | None]
