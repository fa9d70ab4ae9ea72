"""Tool errors by intent, the same on both SDK lines (each seam's ``prepare_tool`` uses this).

* An expected failure: the tool raises the seam's ``ToolError`` with a message for the model.
  The client gets a tool error with that message (``isError: true``); the log gets one INFO
  line with the tool and the request id.
* Anything else is a bug: the client gets a tool error that says nothing about it but the
  request id; the log gets one ERROR with the traceback, the tool and the request id.

Left to themselves the SDK lines differ (2.x withholds an unexpected exception's message and
logs a chained traceback without the request id; 1.x sends the message to the client and logs
nothing). The README's "Operating" shows what the client and the log get.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar, cast

from .requests import current

# The lines are about the team's tools, so they are written under its module's logger.
logger = logging.getLogger(__name__.rsplit(".", 2)[0] + ".tools")

Tool = TypeVar("Tool", bound=Callable[..., Any])


def by_intent(
    tool: Tool, tool_error: type[Exception], protocol_errors: tuple[type[Exception], ...]
) -> Tool:
    """``tool``, answering and logging its failures as this module's docstring says.

    ``protocol_errors`` pass through untouched: the SDK answers them as JSON-RPC errors.
    """
    name = tool.__name__

    def whose() -> tuple[str, str]:
        """The tool's name as the client called it, and the request's id."""
        state = current.get()
        called = state.name if state is not None and state.name else name
        return called, state.request_id if state is not None else "-"

    @contextmanager
    def answered() -> Iterator[None]:
        try:
            yield
        except protocol_errors:
            raise
        except tool_error as exc:
            called, request = whose()
            logger.info(
                "tool %s failed: %s (request %s)", called, exc, request, extra={"rpc_name": called}
            )
            raise
        except Exception:
            called, request = whose()
            logger.exception(
                "tool %s raised an unexpected exception (request %s)",
                called,
                request,
                extra={"rpc_name": called},
            )
            # The SDK's own error type, so that neither line logs it again or shows its text.
            message = f"internal error; the server log has the details (request {request})"
            raise tool_error(message) from None

    # functools.wraps keeps the signature and type hints the SDK reads the tool's schema from.
    if inspect.iscoroutinefunction(tool):

        @functools.wraps(tool)
        async def call_async(*args: Any, **kwargs: Any) -> Any:
            with answered():
                return await tool(*args, **kwargs)

        return cast(Tool, call_async)

    @functools.wraps(tool)
    def call(*args: Any, **kwargs: Any) -> Any:
        with answered():
            return tool(*args, **kwargs)

    return cast(Tool, call)
