"""Who hears the events of ``subscriptions/listen``: every listener on every process, or nobody.

MCP 2026-07-28 clients listen for change events with ``subscriptions/listen``; tools publish
them through their context (``await ctx.notify_resource_updated(uri)`` and the like) onto the
SDK's subscription bus. The SDK's own bus lives in one process: behind several processes a
listener would hear only the events published on its own process and miss the rest without a
word. So ``SUBSCRIPTIONS`` (``settings.py``) decides, once, at startup:

* ``auto`` (the default): the SDK's in-process bus when this command runs one process; under
  ``--workers N``, as ``off``.
* a ``redis://`` or ``rediss://`` URL: events go through that broker (``broker.py``), so every
  listener on every process or replica that shares it hears every event, once.
* ``off``: refused.

Refused means that ``subscriptions/listen`` gets JSON-RPC -32601 with a message that says why
and which setting serves it, that capabilities advertise no change notifications, and that each
process says so in one line at startup. Tools may still publish; nobody hears it.

``auto`` sees only this command's ``--workers``: replicas, and uvicorn's own ``--workers``, are
invisible to it, so set ``off`` or a URL there (``docs/scaling-out.md``).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Final, Literal, TypedDict
from urllib.parse import urlsplit

from mcp.server.context import CallNext, HandlerResult, ServerMiddleware, ServerRequestContext
from mcp.server.subscriptions import SubscriptionBus
from mcp.shared.exceptions import MCPError
from mcp.types import METHOD_NOT_FOUND
from pydantic import SecretStr

from .about import SERVER_NAME
from .settings import ENV_PREFIX, ServiceSettings

logger = logging.getLogger(__name__)

LISTEN: Final = "subscriptions/listen"
SETTING: Final = f"{ENV_PREFIX}SUBSCRIPTIONS"


class SubscriptionOptions(TypedDict, total=False):
    """The options of the SDK's ``MCPServer`` that serve, or refuse, ``subscriptions/listen``."""

    subscriptions: SubscriptionBus | Literal[False]
    lifespan: Callable[[Any], AbstractAsyncContextManager[dict[str, Any]]]
    middleware: Sequence[ServerMiddleware[Any]]


def subscription_options(settings: ServiceSettings) -> SubscriptionOptions:
    """How the server serves ``subscriptions/listen``, as ``settings.subscriptions`` says."""
    choice = settings.subscriptions
    if isinstance(choice, SecretStr):
        # redis takes some 0.4 s to import: only a service that uses a broker pays for it.
        from .broker import BrokerBus

        url = choice.get_secret_value()
        bus = BrokerBus(url, channel=broker_channel(url))
        return {"subscriptions": bus, "lifespan": bus.running, "middleware": [bus.watch_listen]}
    reason = refusal(settings)
    if reason is None:
        return {}  # the SDK's in-process bus
    refuse = RefuseListen(reason)
    return {"subscriptions": False, "lifespan": refuse.announcing, "middleware": [refuse]}


def broker_channel(url: str) -> str:
    """The service's pub/sub channel on the broker at ``url``.

    Redis shares pub/sub channels across its databases; the name carries the URL's database
    number, so deployments that share one Redis keep their events apart by using different ones.
    """
    return f"{SERVER_NAME}/subscriptions/{urlsplit(url).path.strip('/') or '0'}"


def refusal(settings: ServiceSettings) -> str | None:
    """Why ``subscriptions/listen`` is refused, or None when the in-process bus serves it."""
    if settings.subscriptions == "off":
        return f"{SETTING}=off; set it to a redis:// URL to serve it"
    if settings.transport == "http" and settings.workers > 1:
        return (
            f"this service's {settings.workers} worker processes would each hear only their "
            f"own events; set {SETTING} to a redis:// URL to serve it across them"
        )
    return None


class RefuseListen:
    """Server middleware: ``subscriptions/listen`` gets -32601 that says why and what serves it.

    The SDK's own refusal (``subscriptions=False``) would say only "Method not found".
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason
        self.message = f"{LISTEN} is not served here: {reason}"

    async def __call__(
        self, ctx: ServerRequestContext[Any, Any], call_next: CallNext
    ) -> HandlerResult:
        if ctx.method == LISTEN:
            raise MCPError(METHOD_NOT_FOUND, self.message, data=LISTEN)
        return await call_next(ctx)

    @asynccontextmanager
    async def announcing(self, server: object) -> AsyncIterator[dict[str, Any]]:
        """The server's lifespan: one line at startup, so operators know before clients do."""
        logger.info("%s is not served: %s", LISTEN, self.reason)
        yield {}
