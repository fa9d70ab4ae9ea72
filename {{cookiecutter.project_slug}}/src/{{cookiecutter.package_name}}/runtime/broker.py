"""A subscription bus over Redis pub/sub: every listener hears every event once, whichever
process or replica published it.

Each process publishes its events to one Redis channel and hands its own listeners what arrives
on that channel, its own events included; nothing is delivered locally on the side, so no
listener hears an event twice. Redis pub/sub keeps nothing: an event published while a process
is not subscribed never reaches that process's listeners. So a lost broker is never a silent gap:

* an event that cannot be published is dropped, and the tool call that published it still
  succeeds (an event says "this changed, refetch if you care", which the tool's own answer does
  not depend on);
* the listen streams of a process that lost its subscription end with a JSON-RPC error, so
  their clients know they may have missed events, and it refuses new ones until it has
  subscribed again;
* the log gets one WARNING when the broker goes and one INFO line, counting what was dropped,
  when it is back: never a line per event.

The connection opens when the server starts (its lifespan) and closes when it stops; a broker
that is down at startup does not stop the service, which keeps trying every few seconds.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from typing import Any, Final
from urllib.parse import urlsplit

import anyio
from anyio.abc import TaskStatus
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp.shared.subscriptions import ServerEvent, event_from_wire, event_to_notification
from mcp.types import INTERNAL_ERROR
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

LISTEN: Final = "subscriptions/listen"
# Seconds a connection attempt or a publish may take before the broker counts as unreachable.
TIMEOUT: Final = 2.0
# A subscription quiet for this many seconds is asked for a PING, and counts as lost when the
# answer takes as long again: a broker that vanished without closing the connection.
QUIET: Final = 2.0
# Seconds between attempts to subscribe again, doubling from the first to the last.
FIRST_RETRY: Final = 0.5
LAST_RETRY: Final = 5.0
BROKER_ERRORS: Final = (RedisError, OSError, TimeoutError)

Listener = Callable[[ServerEvent], None]


class BrokerBus:
    """The SDK's ``SubscriptionBus`` over one channel of the Redis broker at ``url``.

    Its ``running`` is the server's lifespan, and ``watch_listen`` a server middleware that
    ties each listen stream to the subscription it hears through.
    """

    def __init__(self, url: str, *, channel: str) -> None:
        self.address = public_address(url)
        self.channel = channel
        self._url = url
        self._client: Redis | None = None
        self._subscribed = False
        self._listeners: dict[object, Listener] = {}
        self._listen_streams: set[anyio.CancelScope] = set()
        self._outage = Outage(self.address)
        self._foreign_seen = False

    async def publish(self, event: ServerEvent) -> None:
        """Send ``event`` to every process's listeners through the broker, or drop it."""
        if self._client is None or not self._subscribed:
            self._outage.begin("not subscribed")
            self._outage.drop()
            return
        try:
            with anyio.fail_after(TIMEOUT):
                await self._client.publish(self.channel, encode(event))
        except BROKER_ERRORS as exc:
            self._outage.begin(describe(exc))
            self._outage.drop()
        else:
            self._outage.end()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Register ``listener`` for what arrives from the broker; returns its unsubscribe."""
        token = object()  # the same callable may be registered twice
        self._listeners[token] = listener

        def unsubscribe() -> None:
            self._listeners.pop(token, None)

        return unsubscribe

    async def watch_listen(
        self, ctx: ServerRequestContext[Any, Any], call_next: CallNext
    ) -> HandlerResult:
        """Server middleware: a listen stream lives only while this process is subscribed."""
        if ctx.method != LISTEN:
            return await call_next(ctx)
        if not self._subscribed:
            raise MCPError(
                INTERNAL_ERROR, "the subscription broker is unreachable from this server; retry"
            )
        with anyio.CancelScope() as stream:
            self._listen_streams.add(stream)
            try:
                return await call_next(ctx)
            finally:
                self._listen_streams.discard(stream)
        raise MCPError(
            INTERNAL_ERROR,
            "this server lost the subscription broker, so events may have been missed; "
            "listen again and refetch",
        )

    @asynccontextmanager
    async def running(self, server: object) -> AsyncIterator[dict[str, Any]]:
        """The server's lifespan: subscribed, or trying to be, from startup to shutdown.

        Startup waits for the first attempt only: a broker that is down delays it by twice
        ``TIMEOUT`` at most (to subscribe, then to close the connection that hung).
        """
        logger.info(
            "%s events go through the broker at %s (channel %s)", LISTEN, self.address, self.channel
        )
        # One retry, at once: a pooled connection the broker closed is replaced, and a publish
        # never waits for the client's own backoff.
        client = Redis.from_url(
            self._url,
            socket_connect_timeout=TIMEOUT,
            socket_timeout=TIMEOUT,
            retry=Retry(NoBackoff(), 1),
        )
        self._client = client
        try:
            async with anyio.create_task_group() as tasks:
                await tasks.start(self._stay_subscribed, client)
                try:
                    yield {}
                finally:
                    tasks.cancel_scope.cancel()
        finally:
            self._client = None
            self._subscribed = False
            with anyio.CancelScope(shield=True), anyio.move_on_after(TIMEOUT):
                await client.aclose()

    async def _stay_subscribed(
        self, client: Redis, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Subscribe, hand out what arrives until the subscription is lost, and start again.

        Startup goes on once the first attempt has subscribed or failed.
        """
        retry_in = FIRST_RETRY
        while True:
            try:
                async with self._subscription(client) as pubsub:
                    self._subscribed, retry_in = True, FIRST_RETRY
                    self._outage.end()
                    task_status.started()
                    task_status = anyio.TASK_STATUS_IGNORED  # whose started() does nothing
                    await self._hand_out_until_lost(pubsub)
            except BROKER_ERRORS as exc:
                self._lose(describe(exc))
            task_status.started()
            task_status = anyio.TASK_STATUS_IGNORED
            await anyio.sleep(retry_in)
            retry_in = min(retry_in * 2, LAST_RETRY)

    @asynccontextmanager
    async def _subscription(self, client: Redis) -> AsyncIterator[PubSub]:
        """A connection subscribed to the channel: the broker has confirmed it."""
        pubsub = client.pubsub()
        try:
            with anyio.fail_after(TIMEOUT):
                await pubsub.subscribe(self.channel)
                confirmed = False
                while not confirmed:
                    message = await pubsub.get_message(timeout=TIMEOUT)
                    confirmed = message is not None and message["type"] == "subscribe"
            yield pubsub
        finally:
            # Its connection may be broken: closing it must neither hang nor raise.
            close: Callable[[], Awaitable[None]] = pubsub.aclose  # typed from redis 8.2 only
            with (
                anyio.CancelScope(shield=True),
                anyio.move_on_after(TIMEOUT),
                suppress(*BROKER_ERRORS),
            ):
                await close()

    async def _hand_out_until_lost(self, pubsub: PubSub) -> None:
        """Give the listeners what arrives; return never, raise when the broker is lost."""
        pinged = False
        while True:
            message = await pubsub.get_message(timeout=QUIET)
            if message is None:
                if pinged:
                    raise TimeoutError(f"no answer to a PING within {QUIET:g} s")
                await pubsub.ping()
                pinged = True
                continue
            pinged = False
            if message["type"] == "message":
                self._hand_out(message["data"])

    def _hand_out(self, data: bytes) -> None:
        event = decode(data)
        if event is None:
            if not self._foreign_seen:
                self._foreign_seen = True
                logger.warning(
                    "ignoring a message on %s that is not an event (nor will later ones be logged)",
                    self.channel,
                )
            return
        for listener in list(self._listeners.values()):
            try:
                listener(event)
            except Exception:  # one bad listener must not starve the others
                logger.exception("subscription listener raised; continuing")

    def _lose(self, reason: str) -> None:
        """The subscription is gone: say so once, refuse listens, end the streams that were."""
        self._subscribed = False
        self._outage.begin(reason)
        for stream in list(self._listen_streams):
            stream.cancel()


class Outage:
    """The broker's reachability as the log tells it: one WARNING when it goes, one INFO when
    it is back, with the number of events dropped meanwhile."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.since: float | None = None
        self.dropped = 0

    def begin(self, reason: str) -> None:
        if self.since is None:
            self.since, self.dropped = time.monotonic(), 0
            logger.warning(
                "subscription broker %s unreachable (%s): events are dropped and listen "
                "streams end until it is back",
                self.address,
                reason,
            )

    def drop(self) -> None:
        self.dropped += 1

    def end(self) -> None:
        if self.since is not None:
            logger.info(
                "subscription broker %s reachable again after %.1f s; %d events dropped meanwhile",
                self.address,
                time.monotonic() - self.since,
                self.dropped,
            )
            self.since = None


def encode(event: ServerEvent) -> str:
    """``event`` as the notification it becomes on the wire: method and params, in JSON."""
    notification = event_to_notification(event, {})
    return json.dumps(notification.model_dump(by_alias=True, mode="json", exclude_none=True))


def decode(data: bytes | str) -> ServerEvent | None:
    """The event ``encode`` made, or None for anything else on the channel."""
    try:
        message = json.loads(data)
        return event_from_wire(message["method"], message.get("params"))
    except (ValueError, LookupError, TypeError, AttributeError):
        return None


def public_address(url: str) -> str:
    """``scheme://host:port`` of a broker URL: what logs may show (never the password)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    return f"{parts.scheme}://{f'[{host}]' if ':' in host else host}:{parts.port or 6379}"


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
