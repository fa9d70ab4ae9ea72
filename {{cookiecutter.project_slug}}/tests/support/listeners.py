"""``subscriptions/listen`` streams held as a client holds them, read frame by frame.

The SDK's client folds repeated events together before its caller sees them (they are level
triggers), so a test that counts every event, lost or duplicated, reads the wire itself.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx

from .rpc import STATELESS_PROTOCOL, Answer, answer_of, rpc_request

LISTEN = "subscriptions/listen"
ACKNOWLEDGED = "notifications/subscriptions/acknowledged"
RESOURCE_UPDATED = "notifications/resources/updated"
# What the SDK answers a request it will not serve at 2026-07-28 (JSON-RPC -32601).
NOT_FOUND = 404


@dataclass
class Listen:
    """What one listen request got: its HTTP status, then its frames as they arrive."""

    status: int = 0
    client_port: int = 0  # the connection's local port: which process serves it, if several
    frames: list[dict[str, Any]] = field(default_factory=list)
    ended: bool = False
    _arrival: anyio.Event = field(default_factory=anyio.Event)

    @property
    def acknowledged(self) -> bool:
        return bool(self.frames) and self.frames[0].get("method") == ACKNOWLEDGED

    @property
    def updated(self) -> list[str]:
        """The URIs of the resource updates received, in order, repeats included."""
        updates = [frame for frame in self.frames if frame.get("method") == RESOURCE_UPDATED]
        return [frame["params"]["uri"] for frame in updates]

    @property
    def answer(self) -> dict[str, Any] | None:
        """The JSON-RPC response that ended the stream (a result or an error), if it came."""
        answers = [frame for frame in self.frames if "id" in frame and "method" not in frame]
        return answers[-1] if answers else None

    @property
    def error(self) -> dict[str, Any]:
        """The JSON-RPC error the stream ended with; fails if it ended otherwise."""
        assert self.answer is not None, self.frames
        assert "error" in self.answer, self.frames
        error: dict[str, Any] = self.answer["error"]
        return error

    async def until(self, condition: Callable[[], bool], what: str, within: float = 10) -> None:
        """Wait until ``condition()`` holds, looking again at each frame and at the end of the
        stream; fail after ``within`` seconds, naming ``what``."""
        with anyio.move_on_after(within):
            while not condition():
                await self._arrival.wait()
        assert condition(), f"{what}: not within {within:g} s; frames: {self.frames}"

    async def until_updated(self, count: int, within: float = 10) -> None:
        await self.until(lambda: len(self.updated) >= count, f"{count} updates", within)

    def arrived(self, frame: dict[str, Any] | None) -> None:
        """Record ``frame``, or the end of the stream (None), and wake whoever waits."""
        if frame is None:
            self.ended = True
        else:
            self.frames.append(frame)
        self._arrival.set()
        self._arrival = anyio.Event()


@asynccontextmanager
async def listening(url: str, uris: Sequence[str], *, request_id: int = 1) -> AsyncIterator[Listen]:
    """A listen stream on ``url`` for updates of ``uris``, once its first frame (the
    acknowledgement, or an error) has arrived; closed by the client when the block ends."""
    params = {"notifications": {"resourceSubscriptions": list(uris)}}
    headers, body = rpc_request(LISTEN, params, protocol=STATELESS_PROTOCOL, request_id=request_id)
    listen = Listen()

    async def read(client: httpx.AsyncClient) -> None:
        async with client.stream("POST", url, headers=headers, content=body) as response:
            listen.status = response.status_code
            listen.client_port = response.extensions["network_stream"].get_extra_info(
                "client_addr"
            )[1]
            if response.headers.get("content-type", "").startswith("application/json"):
                listen.arrived(json.loads(await response.aread()))
            else:
                async for line in response.aiter_lines():
                    if line.startswith("data:") and line.removeprefix("data:").strip():
                        listen.arrived(json.loads(line.removeprefix("data:")))
        listen.arrived(None)

    timeout = httpx.Timeout(10, read=None)  # a listen stream is quiet until an event comes
    async with httpx.AsyncClient(timeout=timeout) as client, anyio.create_task_group() as tasks:
        tasks.start_soon(read, client)
        await listen.until(lambda: bool(listen.frames) or listen.ended, "the first frame")
        yield listen
        tasks.cancel_scope.cancel()


async def call(url: str, method: str, params: dict[str, Any], *, request_id: int = 2) -> Answer:
    """One 2026-07-28 request, sent without blocking the streams a test holds open meanwhile."""
    headers, body = rpc_request(method, params, protocol=STATELESS_PROTOCOL, request_id=request_id)
    async with httpx.AsyncClient(timeout=30) as client:
        return answer_of(await client.post(url, headers=headers, content=body))
