"""Asking the user, in tests (2.x only): the person at the client, and a call's rounds on the wire.

A tool that asks the user (``Resolve``/``Elicit``) answers a MCP 2026-07-28 call with its
questions and a sealed ``requestState`` instead of a result; the client asks its user, then
sends the same call again with the answers and that state, and gets the result. ``User``
answers for the SDK's client (its ``elicitation_callback``); ``call_answering`` plays both
rounds as raw HTTP, each request on a connection of its own (``rpc.send``), as they arrive
in real life: a person takes longer to answer than a kept-alive connection stays open.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mcp.client import ClientRequestContext
from mcp.types import ElicitRequestParams, ElicitResult

from .rpc import STATELESS_PROTOCOL, Answer, rpc_request, send

# What a client declares in each 2026-07-28 request's _meta when it can ask its user.
CAN_ASK: dict[str, Any] = {
    "io.modelcontextprotocol/clientCapabilities": {"elicitation": {"form": {}}}
}
# What the SDK answers for a requestState it cannot unseal: another key sealed it, or it
# expired, or someone changed it.
INVALID_STATE = -32602


@dataclass
class User:
    """The person at the client: gives the same answer to every question, and remembers them."""

    answer: ElicitResult
    questions: list[str] = field(default_factory=list)

    async def __call__(
        self, context: ClientRequestContext, params: ElicitRequestParams
    ) -> ElicitResult:
        self.questions.append(params.message)
        return self.answer


def accepting(**content: Any) -> User:
    """A user who fills in the form with ``content`` and submits it."""
    return User(ElicitResult(action="accept", content=content))


def declining() -> User:
    """A user who says no: declines to answer."""
    return User(ElicitResult(action="decline"))


def cancelling() -> User:
    """A user who closes the question without a word."""
    return User(ElicitResult(action="cancel"))


def outcome(answer: Answer) -> Any:
    """The tool's structured result, or the error that came instead, in a few words."""
    if "error" in answer.message:
        error = answer.message["error"]
        return f"HTTP {answer.status}, error {error['code']}: {error['message']}"
    return answer.result.get("structuredContent", answer.result)


def first_round(url: str, call: dict[str, Any]) -> dict[str, Any]:
    """Send ``call`` (``tools/call`` params); the tool's questions, with the state to send back."""
    params = {**call, "_meta": CAN_ASK}
    answer = send(url, *rpc_request("tools/call", params, protocol=STATELESS_PROTOCOL))
    result: dict[str, Any] = answer.result
    assert result.get("resultType") == "input_required", answer
    return result


def answer_round(
    url: str, call: dict[str, Any], asked: dict[str, Any], content: dict[str, Any]
) -> Answer:
    """Send ``call`` again with ``content`` accepted for every question ``asked``, and the state."""
    answers = {key: {"action": "accept", "content": content} for key in asked["inputRequests"]}
    params = {
        **call,
        "inputResponses": answers,
        "requestState": asked["requestState"],
        "_meta": CAN_ASK,
    }
    return send(url, *rpc_request("tools/call", params, protocol=STATELESS_PROTOCOL))


def call_answering(url: str, call: dict[str, Any], content: dict[str, Any]) -> Answer:
    """Both rounds of ``call``, the user accepting with ``content``; the second round's answer."""
    return answer_round(url, call, first_round(url, call), content)
