"""JSON-RPC over HTTP as the tests put it on the wire: requests built, sent, answers parsed.

``send`` is the one way the suite POSTs a JSON-RPC request and reads what came back, whether
the request is one a client would send (``rpc_request``) or one a test breaks on purpose
(``stateless_request`` and the mutations below). Every request carries the credentials every
test presents (``credentials.py``). Raw sockets (``rawhttp.py``) are for what an HTTP client
will not send; the SDK's own clients are in ``client.py``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from . import credentials

LEGACY_PROTOCOL = "2025-06-18"
# The newest revision with an initialize handshake: what both lines answer to a client that
# offers a newer one in initialize.
NEWEST_HANDSHAKE_PROTOCOL = "2025-11-25"
# The handshake-free revision, whether or not this line speaks it (tests send it either way).
STATELESS_PROTOCOL = "2026-07-28"
# JSON-RPC's code for a method the server does not serve, on both lines.
METHOD_NOT_FOUND = -32601
VERSION_META_KEY = "io.modelcontextprotocol/protocolVersion"
# The suite's HTTP client. Building one costs some 20 ms of CPU (its TLS context), which
# ``httpx.post`` pays on every call; without keep-alive, each request still gets a connection
# of its own, as with ``httpx.post``.
HTTP = httpx.Client(timeout=30, limits=httpx.Limits(max_keepalive_connections=0))

# A request's header lines, duplicates allowed: the shape of a request a test breaks.
Headers = list[tuple[str, str]]
Mutation = Callable[[Headers, dict[str, Any]], Headers]


@dataclass(frozen=True)
class Answer:
    """What came back for one request: its HTTP status, headers and body, read as the JSON-RPC
    message it carries (``message``) or that message's result (``result``)."""

    status: int
    headers: httpx.Headers
    text: str

    @property
    def message(self) -> dict[str, Any]:
        """The JSON-RPC message of a JSON or SSE answer, or the JSON body of a refusal made
        before JSON-RPC (a 401, say); fails the test for any other body."""
        message: dict[str, Any] = parse_rpc_response(
            self.headers.get("content-type", ""), self.text
        )
        return message

    @property
    def result(self) -> Any:
        """The JSON-RPC result of a 200 answer; fails the test, saying what came, otherwise."""
        assert self.status == 200, self
        assert "result" in self.message, self
        return self.message["result"]


def send(
    url: str,
    headers: Mapping[str, str] | Headers,
    body: bytes | Iterable[bytes] | dict[str, Any],
) -> Answer:
    """POST one request to ``url``: its headers as a dict or as header lines, its body as bytes,
    as chunks (sent chunked) or as JSON. The status, the message and the headers of the answer."""
    content = json.dumps(body).encode() if isinstance(body, dict) else body
    return answer_of(HTTP.post(url, headers=headers, content=content))


def answer_of(response: httpx.Response) -> Answer:
    """The ``Answer`` of an HTTP response (for the clients ``send`` is not: async ones)."""
    return Answer(response.status_code, response.headers, response.text)


def rpc_request(
    method: str, params: dict[str, Any], *, protocol: str, request_id: int = 1
) -> tuple[dict[str, str], bytes]:
    """Headers and body of one JSON-RPC request as ``protocol`` puts it on the wire."""
    headers = {
        "content-type": "application/json",
        "accept": "application/json, text/event-stream",
        "mcp-protocol-version": protocol,
        **credentials.headers(),
    }
    if protocol == STATELESS_PROTOCOL:
        # 2026-07-28: no handshake; every request names itself in headers and in _meta.
        headers["mcp-method"] = method
        # What the request names: a tool or prompt by name, a resource by URI.
        named = params.get("name", params.get("uri"))
        if named is not None:
            headers["mcp-name"] = named
        params = {
            **params,
            "_meta": {
                VERSION_META_KEY: protocol,
                "io.modelcontextprotocol/clientCapabilities": {},
                **params.get("_meta", {}),  # a test's own, e.g. capabilities, win
            },
        }
    body = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}
    return headers, json.dumps(body).encode()


def initialize_request(request_id: int = 1) -> tuple[dict[str, str], bytes]:
    """A handshake-era ``initialize``, as legacy clients send before anything else."""
    params = {
        "protocolVersion": LEGACY_PROTOCOL,
        "capabilities": {},
        "clientInfo": {"name": "tests", "version": "0"},
    }
    return rpc_request("initialize", params, request_id=request_id, protocol=LEGACY_PROTOCOL)


def stateless_request(
    method: str, params: dict[str, Any], *, request_id: int = 7
) -> tuple[Headers, dict[str, Any]]:
    """A 2026-07-28 request as header lines and a JSON body, for a test to break (``Mutation``)."""
    headers, body = rpc_request(method, params, request_id=request_id, protocol=STATELESS_PROTOCOL)
    return list(headers.items()), json.loads(body)


def parse_rpc_response(content_type: str, text: str) -> Any:
    """The JSON-RPC response in a plain JSON answer or in an SSE stream (its last message)."""
    if content_type.startswith("application/json"):
        return json.loads(text)
    if not content_type.startswith("text/event-stream"):
        raise AssertionError(
            f"not a JSON-RPC answer ({content_type or 'no content type'}): {text!r}"
        )
    messages = [
        json.loads(line.removeprefix("data:").strip())
        for line in text.splitlines()
        if line.startswith("data:") and line.removeprefix("data:").strip()
    ]
    responses = [message for message in messages if "id" in message and "method" not in message]
    if not responses:
        raise AssertionError(f"no JSON-RPC response in the SSE stream: {text!r}")
    return responses[-1]


def without(name: str) -> Mutation:
    return lambda headers, body: [(key, value) for key, value in headers if key != name]


def replaced(name: str, value: str) -> Mutation:
    return lambda headers, body: [*without(name)(headers, body), (name, value)]


def added(name: str, value: str) -> Mutation:
    return lambda headers, body: [*headers, (name, value)]


def version_first(value: str) -> Mutation:
    """A second protocol-version header, placed before the right one."""
    return lambda headers, body: [("mcp-protocol-version", value), *headers]


def declaring(version: str) -> Mutation:
    """Leave the headers alone; make the body's ``_meta`` declare another version."""

    def mutate(headers: Headers, body: dict[str, Any]) -> Headers:
        body["params"]["_meta"][VERSION_META_KEY] = version
        return headers

    return mutate
