"""``subscriptions/listen`` across processes, as operators run them: replicas and ``--workers``.

With the SDK's in-process bus, a listener hears only the events of its own process: with two
workers, a listener heard 9 of 20. Here the service runs as real processes. Sharing a broker
(``SUBSCRIPTIONS`` set to a Redis URL), every listener hears every event exactly once, whichever
process published it; two workers without one refuse listening, and say why.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import AsyncExitStack
from pathlib import Path

import anyio
import pytest

from ..support.broker import Broker, running_broker
from ..support.line_tools import publish_call
from ..support.listeners import NOT_FOUND, Listen, call, listening
from ..support.processes import (
    MODULE,
    Process,
    clean_environment,
    service_port,
    serving_worker,
    start_workers,
)

pytestmark = pytest.mark.process

EVENTS = 20
# How many connections the tests open, at most, until the kernel has handed one to each worker.
TRIES = 60


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    with running_broker(tmp_path) as running:
        yield running


def mcp_url(port: int) -> str:
    return f"http://127.0.0.1:{port}/mcp"


async def publish(url: str, uris: list[str]) -> int:
    """Have the suite's publishing tool publish ``uris`` on ``url``; the publishing pid."""
    answer = await call(url, "tools/call", publish_call(uris))
    assert answer.result["isError"] is False, answer
    pid: int = answer.result["structuredContent"]["result"]
    return pid


def assert_stops_cleanly(process: Process) -> None:
    process.popen.send_signal(signal.SIGTERM)
    assert process.wait() == 0, process.output()
    assert " ERROR " not in process.output()
    assert "Traceback" not in process.output()


def test_a_listener_on_one_replica_hears_every_event_of_another_once(
    launch: Callable[..., Process], broker: Broker
) -> None:
    """Two replicas sharing a broker: 20 events published by a tool call on B reach the
    listeners on A and on B, each once and in order; then 20 more, published on A."""
    env = clean_environment(SUBSCRIPTIONS=broker.url)
    replicas = [launch(*MODULE, "--port", "0", env=env) for _ in range(2)]
    urls = [mcp_url(service_port(replica)) for replica in replicas]
    from_b = [f"test://from-b/{number}" for number in range(EVENTS)]
    from_a = [f"test://from-a/{number}" for number in range(EVENTS)]

    async def scenario() -> None:
        async with (
            listening(urls[0], from_b + from_a) as on_a,
            listening(urls[1], from_b + from_a) as on_b,
        ):
            assert on_a.acknowledged, on_a.frames
            assert on_b.acknowledged, on_b.frames
            await publish(urls[1], from_b)
            await publish(urls[0], from_a)
            for listen in (on_a, on_b):
                await listen.until_updated(2 * EVENTS)
            await anyio.sleep(0.3)  # time for a duplicate, were there one, to arrive
            assert on_a.updated == from_b + from_a
            assert on_b.updated == from_b + from_a

    anyio.run(scenario)
    for replica in replicas:
        assert_stops_cleanly(replica)


def test_two_workers_sharing_a_broker_hear_each_others_events_once(
    launch: Callable[..., Process], broker: Broker
) -> None:
    """``--workers 2`` with the broker: a listener on each worker, tool calls until both
    workers have published; every listener hears every event once, in order."""
    process, port, workers = start_workers(launch, 2, SUBSCRIPTIONS=broker.url)
    url = mcp_url(port)
    batches = [[f"test://workers/{call}/{number}" for number in range(2)] for call in range(TRIES)]
    subscribed = [uri for batch in batches for uri in batch]

    async def scenario() -> None:
        async with AsyncExitStack() as stack:
            listens: dict[int, Listen] = {}
            for _ in range(TRIES):
                listen = await stack.enter_async_context(listening(url, subscribed))
                assert listen.acknowledged, listen.frames
                worker = serving_worker(workers, listen.client_port)
                assert worker is not None
                listens.setdefault(worker, listen)
                if len(listens) == len(workers):
                    break
            assert sorted(listens) == sorted(workers), "no listener reached one of the workers"
            published: list[str] = []
            publishers: set[int] = set()
            for batch in batches:
                publishers.add(await publish(url, batch))
                published += batch
                if publishers == set(workers):
                    break
            assert publishers == set(workers), "no tool call reached one of the workers"
            for listen in listens.values():
                await listen.until_updated(len(published))
            await anyio.sleep(0.3)  # time for a duplicate, were there one, to arrive
            for listen in listens.values():
                assert listen.updated == published

    anyio.run(scenario)
    assert_stops_cleanly(process)


def test_two_workers_without_a_broker_refuse_listening_and_say_why(
    launch: Callable[..., Process],
) -> None:
    """``auto`` under ``--workers 2``: each worker would hear only its own events, so listening
    is refused with the reason, and each worker says so once at startup."""
    process, port, _ = start_workers(launch, 2)

    async def scenario() -> None:
        async with listening(mcp_url(port), ["test://workers"]) as listen:
            await listen.until(lambda: listen.ended, "the refusal")
        assert listen.status == NOT_FOUND
        assert listen.error["code"] == -32601
        message = listen.error["message"]
        assert "this service's 2 worker processes would each hear only their own" in message
        assert "SUBSCRIPTIONS to a redis:// URL" in message

    anyio.run(scenario)
    announced = [line for line in process.stderr if "subscriptions/listen is not served" in line]
    assert len(announced) == 2, process.output()
    assert all(" INFO " in line for line in announced), process.output()
    assert_stops_cleanly(process)
