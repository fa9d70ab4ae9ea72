"""The credentials every test presents, so the whole suite runs through the real auth path.

One API in every bake, whatever the auth answer (``credentials-none.py`` presents nothing):
``conftest.py`` exports ``environment()`` for the session (so ``Settings()`` has a token),
``processes.clean_environment`` hands it to child processes, ``rpc.py`` and ``sdk_client.py``
send ``headers()`` with every request, and the README's client examples are run with
``client_environment()``. Tests of authentication itself live in
``runtime/test_auth_bearer.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

TOKEN = "tests-bearer-token-0123456789abcdef"
OTHER_TOKEN = "tests-second-token-fedcba9876543210"


def environment() -> dict[str, str]:
    """The auth settings, as ``clean_environment`` takes them: without the prefix."""
    return {"AUTH_TOKENS": f"{TOKEN},{OTHER_TOKEN}"}


def headers() -> dict[str, str]:
    """What every request of the suite carries."""
    return {"authorization": f"Bearer {TOKEN}"}


def client_environment() -> dict[str, str]:
    """What a client set up as the README says reads its token from."""
    return {"MCP_TOKEN": TOKEN}


@contextmanager
def active() -> Iterator[None]:
    """Nothing to start for static tokens."""
    yield
