"""The credentials every test presents: none, as this service asks a client for none.

One API in every bake, whatever the auth answer, so that no test depends on it: ``conftest.py``
exports ``environment()`` for the session, ``processes.clean_environment`` hands it to child
processes, ``rpc.py`` and ``sdk_client.py`` send ``headers()`` with every request, and the
README's client examples are run with ``client_environment()``. Here each is empty, and the
suite meets the service as it is deployed: open to whoever reaches it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


def environment() -> dict[str, str]:
    """The service's settings for checking clients, without the prefix: there are none."""
    return {}


def headers() -> dict[str, str]:
    """What every request of the suite carries: nothing."""
    return {}


def client_environment() -> dict[str, str]:
    """What a client set up as the README says is given: nothing."""
    return {}


@contextmanager
def active() -> Iterator[None]:
    """Nothing to start."""
    yield
