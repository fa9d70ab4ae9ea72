"""``subscriptions/listen``: every listener hears every event, or the request is refused.

The SDK's own subscription bus lives in one process. ``SUBSCRIPTIONS``
(``runtime/subscriptions.py``) keeps it for one process, refuses listening where processes would
each hear only their own events, or carries the events through a Redis broker
(``runtime/broker.py``). These tests hold
each choice to what it promises on a real server in this process, and a lost broker to a loud,
bounded failure rather than a silent gap; ``test_subscriptions_across_processes.py`` does the
same across processes.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.shared.subscriptions import (
    PromptsListChanged,
    ResourcesListChanged,
    ResourceUpdated,
    ServerEvent,
    ToolsListChanged,
)
from pydantic import SecretStr

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.runtime import broker as broker_module
from {{ cookiecutter.package_name }}.runtime.settings import ENV_PREFIX
from {{ cookiecutter.package_name }}.runtime.subscriptions import (
    broker_channel,
)
from {{ cookiecutter.package_name }}.settings import (
    Settings,
    SettingsError,
    read_settings,
)

from ..support import credentials
from ..support.broker import Broker, free_port, running_broker
from ..support.line_tools import publish_call
from ..support.listeners import NOT_FOUND, call, listening
from ..support.logs import LogWatch
from ..support.servers import RunningServer

SETTING = f"{ENV_PREFIX}SUBSCRIPTIONS"
PASSWORD = "hunter2-secret"
BROKER_LOGGER = broker_module.__name__
METHOD_NOT_FOUND = -32601
INTERNAL_ERROR = -32603


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    with running_broker(tmp_path) as running:
        yield running


def uris(prefix: str, count: int) -> list[str]:
    return [f"test://{prefix}/{number}" for number in range(count)]


async def publish(url: str, published: list[str]) -> None:
    answer = await call(url, "tools/call", publish_call(published))
    assert answer.result["isError"] is False, answer


# -- the setting ---------------------------------------------------------------------------------


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """The service's variables as a deployment sets them, none that the developer exported."""
    for name in list(os.environ):
        if name.upper().startswith(ENV_PREFIX):
            monkeypatch.delenv(name)
    for name, value in credentials.environment().items():
        monkeypatch.setenv(ENV_PREFIX + name, value)
    return monkeypatch


def test_listening_is_automatic_by_default(environment: pytest.MonkeyPatch) -> None:
    assert read_settings().subscriptions == "auto"


@pytest.mark.parametrize(("raw", "mode"), [("OFF", "off"), (" Auto ", "auto")])
def test_modes_are_read_in_any_case(environment: pytest.MonkeyPatch, raw: str, mode: str) -> None:
    environment.setenv(SETTING, raw)
    assert read_settings().subscriptions == mode


@pytest.mark.parametrize(
    "url",
    [
        f"redis://:{PASSWORD}@cache.internal:6380/0",
        f"rediss://app:{PASSWORD}@cache.internal",
        "redis://[::1]:6379",
    ],
)
def test_a_broker_url_is_kept_as_a_secret(environment: pytest.MonkeyPatch, url: str) -> None:
    environment.setenv(SETTING, url)
    loaded = read_settings()
    assert isinstance(loaded.subscriptions, SecretStr)
    assert loaded.subscriptions.get_secret_value() == url
    assert PASSWORD not in repr(loaded)


@pytest.mark.parametrize(
    "raw",
    [
        f"http://:{PASSWORD}@cache.internal",
        f"redis://:{PASSWORD}@",
        f"redis://:{PASSWORD}@cache.internal:port",
        f"redis://:{PASSWORD}@cache.internal/zero",
        f"redis://:{PASSWORD}@cache.internal?ssl_cert_reqs=none",
        f"sometimes-{PASSWORD}",
    ],
)
def test_a_bad_value_is_one_line_that_never_repeats_it(
    environment: pytest.MonkeyPatch, raw: str
) -> None:
    """The value may be a URL with a password in it: the error names the variable only."""
    environment.setenv(SETTING, raw)
    with pytest.raises(SettingsError) as caught:
        read_settings()
    message = str(caught.value)
    assert message.startswith(f"invalid setting {SETTING}: "), message
    assert "\n" not in message
    assert PASSWORD not in message
    assert "cache.internal" not in message


# -- one process, or refused ---------------------------------------------------------------------


def test_one_process_hears_its_own_events(serve: Callable[..., RunningServer]) -> None:
    """``auto`` in one process: the SDK's in-process bus, every event once, in order."""
    server = serve(create_app(Settings()))
    published = uris("single", 20)

    async def scenario() -> None:
        discovered = await call(server.mcp_url, "server/discover", {})
        assert discovered.result["capabilities"]["resources"]["subscribe"] is True
        async with listening(server.mcp_url, published) as listen:
            assert listen.acknowledged, listen.frames
            await publish(server.mcp_url, published)
            await listen.until_updated(len(published))
            assert listen.updated == published

    anyio.run(scenario)


@pytest.mark.parametrize(
    ("settings", "reason", "remedy"),
    [
        pytest.param(
            {"subscriptions": "off"},
            f"{SETTING}=off",
            "set it to a redis:// URL to serve it",
            id="off",
        ),
        pytest.param(
            {"workers": 2},
            "this service's 2 worker processes would each hear only their own events",
            f"set {SETTING} to a redis:// URL to serve it across them",
            id="auto-under-workers",
        ),
    ],
)
def test_refused_listening_says_why_and_what_serves_it(
    serve: Callable[..., RunningServer],
    logs: LogWatch,
    settings: dict[str, Any],
    reason: str,
    remedy: str,
) -> None:
    """Refused: -32601 with the reason and the setting, no change notifications advertised, and
    one line at startup; tools that publish still answer."""
    server = serve(create_app(Settings(**settings)))

    async def scenario() -> None:
        async with listening(server.mcp_url, ["test://refused"]) as listen:
            await listen.until(lambda: listen.ended, "the refusal")
        assert listen.status == NOT_FOUND
        assert listen.error["code"] == METHOD_NOT_FOUND
        assert reason in listen.error["message"], listen.error
        assert remedy in listen.error["message"], listen.error
        capabilities = (await call(server.mcp_url, "server/discover", {})).result["capabilities"]
        assert capabilities["resources"]["subscribe"] is False
        assert capabilities["tools"]["listChanged"] is False
        await publish(server.mcp_url, ["test://refused"])

    anyio.run(scenario)
    announced = [r for r in logs.records if "subscriptions/listen is not served" in r.getMessage()]
    assert [r.levelno for r in announced] == [logging.INFO], logs.dump()
    assert reason in announced[0].getMessage()


# -- through a broker -----------------------------------------------------------------------------


def test_deployments_sharing_a_broker_by_database_number_hear_only_their_own(
    serve: Callable[..., RunningServer], broker: Broker
) -> None:
    """Redis's pub/sub ignores database numbers; the channel's name does not, so two
    deployments on one Redis keep apart by using different ones."""
    staging = serve(create_app(Settings(subscriptions=SecretStr(f"{broker.url}/1"))))
    production = serve(create_app(Settings(subscriptions=SecretStr(f"{broker.url}/2"))))
    published = uris("deployments", 2)

    async def scenario() -> None:
        async with (
            listening(staging.mcp_url, published) as on_staging,
            listening(production.mcp_url, published) as on_production,
        ):
            await publish(staging.mcp_url, published[:1])
            await publish(production.mcp_url, published[1:])
            await on_staging.until_updated(1)
            await on_production.until_updated(1)
            await anyio.sleep(0.3)  # time for the other deployment's event, were it to come
            assert on_staging.updated == published[:1]
            assert on_production.updated == published[1:]

    anyio.run(scenario)


def test_two_servers_sharing_a_broker_hear_each_others_events_once(
    serve: Callable[..., RunningServer], broker: Broker
) -> None:
    """Each server hands its listeners what comes from the broker, its own events included,
    and nothing besides: every listener hears every event once, whoever published it."""
    first = serve(create_app(Settings(subscriptions=SecretStr(broker.url))))
    second = serve(create_app(Settings(subscriptions=SecretStr(broker.url))))
    published = uris("shared", 20)

    async def scenario() -> None:
        async with (
            listening(first.mcp_url, published) as on_first,
            listening(second.mcp_url, published) as on_second,
        ):
            assert on_first.acknowledged
            assert on_second.acknowledged
            await publish(second.mcp_url, published[:10])
            await publish(first.mcp_url, published[10:])
            for listen in (on_first, on_second):
                await listen.until_updated(len(published))
            await anyio.sleep(0.2)  # time for a duplicate, were there one, to arrive
            assert on_first.updated == published
            assert on_second.updated == published

    anyio.run(scenario)


def test_a_broker_down_at_startup_costs_events_not_calls(
    serve: Callable[..., RunningServer], logs: LogWatch
) -> None:
    """The service starts and its tools answer; their events are dropped with one WARNING, and
    listening is refused until the broker is back."""
    nowhere = f"redis://:{PASSWORD}@127.0.0.1:{free_port()}"
    server = serve(create_app(Settings(subscriptions=SecretStr(nowhere))))

    async def scenario() -> None:
        for _ in range(3):
            await publish(server.mcp_url, uris("dropped", 5))
        async with listening(server.mcp_url, ["test://dropped/0"]) as listen:
            await listen.until(lambda: listen.ended, "the refusal")
        assert listen.error["code"] == INTERNAL_ERROR
        assert "unreachable" in listen.error["message"]

    anyio.run(scenario)
    server.settle()
    warnings = [r for r in logs.warnings() if r.name == BROKER_LOGGER]
    assert len(warnings) == 1, logs.dump()
    assert "unreachable" in warnings[0].getMessage()
    assert PASSWORD not in logs.dump()
    assert logs.errors() == [], logs.dump()


def test_a_lost_broker_ends_listen_streams_and_is_heard_again(
    serve: Callable[..., RunningServer], broker: Broker, logs: LogWatch
) -> None:
    """A lost broker ends the listen streams with an error (their clients know they may have
    missed events) and is logged once, however many events are dropped; once it is back,
    listening works again and one line says how many events were dropped."""
    server = serve(create_app(Settings(subscriptions=SecretStr(broker.url))))
    published = uris("outage", 4)

    async def scenario() -> None:
        async with listening(server.mcp_url, published) as listen:
            assert listen.acknowledged
            broker.stop()
            await listen.until(lambda: listen.ended, "the stream's end", within=15)
        assert listen.error["code"] == INTERNAL_ERROR
        assert "listen again and refetch" in listen.error["message"]
        for _ in range(3):
            await publish(server.mcp_url, published)  # answered; the events are dropped
        broker.start()
        logs.wait_for(lambda: any("reachable again" in r.getMessage() for r in logs.records))
        async with listening(server.mcp_url, published) as listen:
            assert listen.acknowledged, listen.frames
            await publish(server.mcp_url, published)
            await listen.until_updated(len(published))
            assert listen.updated == published

    anyio.run(scenario)
    warnings = [r for r in logs.warnings() if r.name == BROKER_LOGGER]
    assert len(warnings) == 1, logs.dump()
    (back,) = [r for r in logs.records if "reachable again" in r.getMessage()]
    assert back.levelno == logging.INFO
    assert "12 events dropped" in back.getMessage(), back.getMessage()
    assert logs.errors() == [], logs.dump()


def test_a_broker_that_stops_answering_is_lost_too(
    serve: Callable[..., RunningServer], broker: Broker, logs: LogWatch
) -> None:
    """A broker that keeps its connections open but answers nothing (here: its process
    stopped) is found out by the subscription's PING and by a publish's deadline: the tool call
    still answers, the listen stream ends, and the log has one WARNING."""
    server = serve(create_app(Settings(subscriptions=SecretStr(broker.url))))
    published = uris("silent", 2)

    async def scenario() -> None:
        async with listening(server.mcp_url, published) as listen:
            assert listen.acknowledged
            broker.pause()
            try:
                with anyio.fail_after(3 * broker_module.TIMEOUT):
                    await publish(server.mcp_url, published)
                await listen.until(lambda: listen.ended, "the stream's end", within=15)
            finally:
                broker.resume()
        assert listen.error["code"] == INTERNAL_ERROR
        assert listen.updated == []

    anyio.run(scenario)
    warnings = [r for r in logs.warnings() if r.name == BROKER_LOGGER]
    assert len(warnings) == 1, logs.dump()
    assert logs.errors() == [], logs.dump()


def test_foreign_messages_on_the_channel_are_ignored_with_one_warning(
    serve: Callable[..., RunningServer], broker: Broker, logs: LogWatch
) -> None:
    server = serve(create_app(Settings(subscriptions=SecretStr(broker.url))))
    published = uris("foreign", 2)

    async def scenario() -> None:
        async with listening(server.mcp_url, published) as listen:
            for junk in (b"not json", b'{"method": "notifications/unknown"}', b"[1, 2]"):
                broker.publish(broker_channel(broker.url), junk)
            await publish(server.mcp_url, published)
            await listen.until_updated(len(published))
            assert listen.updated == published

    anyio.run(scenario)
    warnings = [r for r in logs.warnings() if r.name == BROKER_LOGGER]
    assert len(warnings) == 1, logs.dump()
    assert "not an event" in warnings[0].getMessage()


# -- the broker's wire format and what its logs show ----------------------------------------------


@pytest.mark.parametrize(
    "event",
    [
        ResourceUpdated(uri="test://a"),
        ResourcesListChanged(),
        ToolsListChanged(),
        PromptsListChanged(),
    ],
    ids=lambda event: type(event).__name__,
)
def test_every_event_crosses_the_broker_as_itself(event: ServerEvent) -> None:
    assert broker_module.decode(broker_module.encode(event).encode()) == event


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (f"redis://:{PASSWORD}@cache.internal:6380/1", "redis://cache.internal:6380"),
        (f"rediss://app:{PASSWORD}@cache.internal", "rediss://cache.internal:6379"),
        ("redis://[::1]", "redis://[::1]:6379"),
    ],
)
def test_logs_show_where_the_broker_is_never_its_password(url: str, shown: str) -> None:
    assert broker_module.public_address(url) == shown


def test_a_listener_that_raises_does_not_starve_the_others(logs: LogWatch) -> None:
    """As with the SDK's own bus: one bad listener is logged, the others still hear the event."""
    bus = broker_module.BrokerBus("redis://127.0.0.1:6379", channel="events")
    heard: list[ServerEvent] = []

    def bad(event: ServerEvent) -> None:
        raise RuntimeError("a listener's bug")

    bus.subscribe(bad)
    unsubscribe = bus.subscribe(heard.append)
    bus._hand_out(broker_module.encode(ToolsListChanged()).encode())
    unsubscribe()
    bus._hand_out(broker_module.encode(ToolsListChanged()).encode())
    assert heard == [ToolsListChanged()]  # once: the second came after it unsubscribed
    assert [error.exc_info is not None for error in logs.errors()] == [True, True]
