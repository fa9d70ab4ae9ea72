"""Decorators that collect a module's tools, resources and prompts for the server to come.

The SDK's own decorators (``@server.tool()``, ``@server.resource(uri)``, ``@server.prompt()``)
need the server object, which ``app.create_server`` builds per app from the settings. A
``Registry`` takes the same decorators and arguments at import time, leaves each function as it
is (so a test can call it directly), and hands everything to a server in ``register``: adding a
tool is one decorated function, the same on both SDK lines. How failures are answered and logged
is the server's business (``errors.py``), whichever way a tool, resource or prompt was added.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Literal, TypeVar

from .sdk import Server

Function = TypeVar("Function", bound=Callable[..., Any])
Kind = Literal["tool", "resource", "prompt"]


@dataclass(frozen=True, slots=True)
class _Entry:
    kind: Kind
    function: Callable[..., Any]
    args: tuple[Any, ...]
    options: dict[str, Any]


class Registry:
    """What ``register`` adds to a server, in the order it was declared."""

    def __init__(self) -> None:
        self._entries: list[_Entry] = []

    def tool(self, **options: Any) -> Callable[[Function], Function]:
        """Declare a tool; ``options`` are those of the SDK's ``server.tool()``."""
        return self._collect("tool", (), options)

    def resource(self, uri: str, **options: Any) -> Callable[[Function], Function]:
        """Declare a resource (a URI template with ``{params}`` for a family of them)."""
        return self._collect("resource", (uri,), options)

    def prompt(self, **options: Any) -> Callable[[Function], Function]:
        """Declare a prompt; ``options`` are those of the SDK's ``server.prompt()``."""
        return self._collect("prompt", (), options)

    def register(self, server: Server) -> None:
        """Add everything declared to ``server``, through the SDK's own decorators."""
        for entry in self._entries:
            getattr(server, entry.kind)(*entry.args, **entry.options)(entry.function)

    def _collect(
        self, kind: Kind, args: tuple[Any, ...], options: dict[str, Any]
    ) -> Callable[[Function], Function]:
        def collect(function: Function) -> Function:
            self._entries.append(_Entry(kind, function, args, options))
            return function

        return collect


EXTRA_REGISTRIES: Final[list[Registry]] = []
"""Registries whose tools, resources and prompts every server this process serves also gets,
after the team's: how a test suite adds tools of its own without touching the team's modules."""


def register_extras(server: Server) -> None:
    """Add ``EXTRA_REGISTRIES`` to ``server``: the HTTP app and stdio call this."""
    for registry in EXTRA_REGISTRIES:
        registry.register(server)
