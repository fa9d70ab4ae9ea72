"""Calls that ask the user, across processes: the request state and the keys that seal it (2.x).

A tool that asks the user answers a MCP 2026-07-28 call with its questions and a sealed
``requestState``; the client sends the answers and that state back in a new request, which
any process may get. What must hold, on the suite's asking tool (``support/tools.py``):

* the two rounds on the wire, and a clear refusal of a state that was changed;
* ``REQUEST_STATE_KEYS``: any process with the key unseals what another sealed; the first key
  seals and every key unseals, so keys rotate without a failed call; without a shared key
  another process refuses the state (the SDK's default key is each process's own);
* ``--workers 2`` without the setting: every call succeeds, whichever worker gets each
  round, also after a worker died and was replaced (the supervisor shares one key);
* a client on a handshake-era revision gets a prompt, clear error: a stateless server has no
  way to send it the question;
* no key, configured or generated, ever reaches the log.
"""

from __future__ import annotations

import logging
import re
import secrets
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import psutil
import pytest
from pydantic import SecretStr
from starlette.types import ASGIApp

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.runtime.serving.workers import (
    STARTUP_WINDOW,
)
from {{ cookiecutter.package_name }}.settings import Settings

from ..support.asking import (
    INVALID_STATE,
    answer_round,
    call_answering,
    first_round,
    outcome,
)
from ..support.line_tools import NAME_QUESTION, greet_call, greeting
from ..support.processes import Process, start_workers, wait_for_startups
from ..support.rpc import LEGACY_PROTOCOL, rpc_request, send
from ..support.servers import RunningServer

OLD_KEY = secrets.token_hex(32)
NEW_KEY = secrets.token_hex(32)
ADA = {"name": "Ada"}
# The WARNING the SDK writes, with its reason, for each state it refuses.
REJECTED = "requestState rejected"
# A generated key is 64 hex digits; no log line may carry a run of them.
HEX_KEY = re.compile(r"[0-9a-f]{64}")
CALLS = 30


def keyed(*keys: str) -> Settings:
    return Settings(request_state_keys=tuple(SecretStr(key) for key in keys))


GREETED = {"result": greeting("Ada")}


def greeted(url: str, asked: dict[str, Any]) -> bool:
    """Whether answering the question ``asked`` at ``url`` gets the greeting."""
    return bool(outcome(answer_round(url, greet_call(), asked, ADA)) == GREETED)


@pytest.fixture
def servers(serve: Callable[[ASGIApp], RunningServer]) -> Callable[[Settings], str]:
    """Start a server with the given settings; its /mcp URL."""
    return lambda settings: serve(create_app(settings)).mcp_url


def test_a_call_that_asks_takes_two_rounds_on_the_wire(
    servers: Callable[[Settings], str],
) -> None:
    url = servers(Settings())
    asked = first_round(url, greet_call())
    ((key, question),) = asked["inputRequests"].items()
    assert question["method"] == "elicitation/create"
    assert question["params"]["message"] == NAME_QUESTION
    assert question["params"]["requestedSchema"]["required"] == ["name"]
    # Sealed: the client carries it, but can neither read nor change it.
    assert asked["requestState"].startswith("v1.")
    assert key not in asked["requestState"]

    answered = answer_round(url, greet_call(), asked, ADA)
    assert answered.status == 200, answered
    assert answered.result["resultType"] == "complete"
    assert outcome(answered) == GREETED


def test_a_changed_state_is_refused_with_one_warning(
    servers: Callable[[Settings], str], caplog: pytest.LogCaptureFixture
) -> None:
    url = servers(Settings())
    asked = first_round(url, greet_call())
    state = asked["requestState"]
    changed = state[:20] + ("B" if state[20] == "A" else "A") + state[21:]
    refused = answer_round(url, greet_call(), {**asked, "requestState": changed}, ADA)
    assert refused.status == 400
    assert refused.message["error"]["code"] == INVALID_STATE
    assert refused.message["error"]["message"] == "Invalid or expired requestState"
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warning.startswith(f"{REJECTED} on tools/call: ")


def test_any_process_with_the_key_unseals_what_another_sealed(
    servers: Callable[[Settings], str],
) -> None:
    first, second = servers(keyed(NEW_KEY)), servers(keyed(NEW_KEY))
    assert greeted(second, first_round(first, greet_call()))


def test_without_a_shared_key_another_process_refuses_the_state(
    servers: Callable[[Settings], str],
) -> None:
    """The SDK's default key is each process's own: why replicas need the setting."""
    first, second = servers(Settings()), servers(Settings())
    asked = first_round(first, greet_call())
    refused = answer_round(second, greet_call(), asked, ADA)
    assert (refused.status, refused.message["error"]["code"]) == (400, INVALID_STATE)
    assert greeted(first, asked)


def test_keys_rotate_the_first_sealing_and_every_one_unsealing(
    servers: Callable[[Settings], str],
) -> None:
    """The three steps of a rotation, each rolled out to every process before the next:
    [old, new], then [new, old], then [new] once no state sealed by old can be in flight."""
    old, old_first, new_first, new = (
        servers(keyed(OLD_KEY)),
        servers(keyed(OLD_KEY, NEW_KEY)),
        servers(keyed(NEW_KEY, OLD_KEY)),
        servers(keyed(NEW_KEY)),
    )
    sealed_by_old = first_round(old, greet_call())
    # A key listed second still unseals, so no call in flight fails during the rollout...
    assert greeted(old_first, sealed_by_old)
    assert greeted(new_first, sealed_by_old)
    # ...and the first key seals: what [new, old] seals, a process with only old cannot read,
    # one with only new can.
    sealed_by_new = first_round(new_first, greet_call())
    assert not greeted(old, sealed_by_new)
    assert greeted(old_first, sealed_by_new)
    assert greeted(new, sealed_by_new)
    # Once old is gone, what it sealed is refused.
    assert not greeted(new, sealed_by_old)


def test_a_handshake_era_client_gets_a_prompt_clear_error(
    servers: Callable[[Settings], str],
) -> None:
    """Before 2026-07-28 the question is a request from the server in the middle of the call,
    which a stateless server has no channel for: the SDK answers at once, it does not wait."""
    url = servers(Settings())
    started = time.monotonic()
    answer = send(url, *rpc_request("tools/call", greet_call(), protocol=LEGACY_PROTOCOL))
    assert time.monotonic() - started < 5
    error = answer.message["error"]
    assert error["code"] == -32600
    assert "no back-channel" in error["message"]


def test_no_key_reaches_the_log(
    servers: Callable[[Settings], str], caplog: pytest.LogCaptureFixture
) -> None:
    """At DEBUG, through a call in two rounds, a refused state and a rotation."""
    caplog.set_level(logging.DEBUG)
    old, rotated = servers(keyed(OLD_KEY)), servers(keyed(NEW_KEY, OLD_KEY))
    asked = first_round(old, greet_call())
    assert greeted(rotated, asked)
    assert not greeted(servers(keyed(NEW_KEY)), asked)
    logged = caplog.text
    assert REJECTED in logged  # the log was captured: the refusal is in it
    for key in (OLD_KEY, NEW_KEY):
        assert not any(key[start : start + 16] in logged for start in range(0, 64, 8)), key


# -- --workers: one generated key ----------------------------------------------------------------


@dataclass(frozen=True)
class Workers:
    """A ``--workers 2`` service: its process, its /mcp URL, and a time (``time.monotonic``)
    after both workers were started."""

    process: Process
    url: str
    started: float


@pytest.fixture
def two_workers(launch: Callable[..., Process]) -> Iterator[Workers]:
    """``--workers 2`` with no key set, at DEBUG, once both workers serve."""
    process, port, _ = start_workers(launch, 2, "--log-level", "debug")
    started = time.monotonic()  # by then, every worker has started
    yield Workers(process, f"http://127.0.0.1:{port}/mcp", started)
    process.popen.send_signal(signal.SIGTERM)
    process.wait()


@pytest.mark.process
def test_workers_without_a_key_share_one_and_every_call_succeeds(two_workers: Workers) -> None:
    """Each round on a connection of its own, so the kernel hands rounds to either worker:
    without one shared key, most of these calls failed. Workers that replace dead ones get
    the same key: states sealed by the first two are answered by their replacements."""
    process, url = two_workers.process, two_workers.url
    outcomes = Counter(str(outcome(call_answering(url, greet_call(), ADA))) for _ in range(CALLS))
    assert outcomes == {str(GREETED): CALLS}

    pending = [first_round(url, greet_call()) for _ in range(CALLS // 4)]
    originals = psutil.Process(process.popen.pid).children()
    # A worker that dies within STARTUP_WINDOW of its start stops the service: let them age.
    time.sleep(max(0.0, two_workers.started + STARTUP_WINDOW + 0.2 - time.monotonic()))
    for worker in originals:
        worker.send_signal(signal.SIGKILL)
    wait_for_startups(process, 4)
    outcomes = Counter(
        str(outcome(answer_round(url, greet_call(), asked, ADA))) for asked in pending
    )
    assert outcomes == {str(GREETED): len(pending)}, process.output()

    output = "\n".join(process.stderr)
    assert REJECTED not in output, process.output()
    assert not HEX_KEY.search(output), process.output()
