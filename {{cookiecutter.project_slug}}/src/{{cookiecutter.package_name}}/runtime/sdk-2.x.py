"""The only module that knows which line of the MCP Python SDK this service runs on: 2.x.

2.x serves MCP 2026-07-28 (stateless, no handshake) and every earlier revision from one
endpoint. The template bakes a 1.x twin of this module for teams on the maintenance line;
``docs/sdk-lines.md`` lists the other files that differ between the lines.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from importlib.metadata import version
from typing import Any, NamedTuple, TypeAlias

from mcp.server.lowlevel.helper_types import ReadResourceContents
from mcp.server.mcpserver import (
    AcceptedElicitation,
    CancelledElicitation,
    Context,
    DeclinedElicitation,
    Elicit,
    ElicitationResult,
    MCPServer,
    RequestStateSecurity,
    Resolve,
)
from mcp.server.mcpserver.exceptions import (
    ResourceError,
    ResourceNotFoundError,
    ToolError,
    UnexpectedResourceError,
    UnexpectedToolError,
)
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.shared.exceptions import MCPError
from mcp.types import CallToolResult, GetPromptResult, InputRequiredResult
from pydantic import AnyUrl, ValidationError
from starlette.applications import Starlette

from . import errors
from .about import SERVER_NAME, __version__
from .auth import AuthSettings, server_auth
from .hosts import transport_security
from .jsonrpc import RequestCheck
from .per_process import PerProcess
from .protocol_headers import check_protocol_header
from .settings import ServiceSettings
from .subscriptions import subscription_options

__all__ = [
    "QUIET_LOGGERS",
    "SDK_LINE",
    "SDK_VERSION",
    "AcceptedElicitation",
    "CancelledElicitation",
    "DeclinedElicitation",
    "Elicit",
    "ElicitationResult",
    "NotFound",
    "Resolve",
    "ResourceError",
    "SdkApp",
    "Server",
    "ToolContext",
    "ToolError",
    "check_request",
    "create_http_app",
    "has_tool",
    "new_server",
    "request_state_security",
    "run_stdio",
]

SDK_LINE = "2.x"
SDK_VERSION = version("mcp")
# This line serves MCP 2026-07-28: the guard checks the protocol-version header against the
# body where the SDK does not.
check_request: RequestCheck | None = check_protocol_header

# The SDK's loggers whose INFO lines say nothing the service's own do not, which ``logs.py``
# keeps quiet below DEBUG: a line per request ("Terminating session: None", "Tool 'x' failed:
# ..."), and each session manager's start and stop, twice over (one per app: JSON and SSE).
QUIET_LOGGERS = (
    "mcp.server.streamable_http",
    "mcp.server.streamable_http_manager",
    "mcp.server.lowlevel.server",
    "mcp.server.mcpserver.server",
)

ToolContext: TypeAlias = Context[Any, Any]


class NotFound(ResourceNotFoundError):
    """What a resource, prompt or tool was asked for does not exist; the message says what.

    A resource's or a prompt's client gets invalid params (-32602; -32002 before MCP
    2026-07-28), a tool's a tool error; the log gets one INFO line (``errors.py``).
    """


class Server(MCPServer[Any]):
    """The SDK's server, its tools, resources and prompts failing by intent (``errors.py``).

    Overrides the three methods through which the SDK reaches a tool, resource or prompt, so
    the rules hold for everything registered, by any of the SDK's means.
    """

    # What its tools, resources and prompts share, opened once per process (``per_process.py``).
    shared: PerProcess[Any, Any] | None = None

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: ToolContext | None = None
    ) -> CallToolResult | InputRequiredResult:
        if self._tool_manager.get_tool(name) is None:
            errors.client_mistake("tool", name, "no such tool")
            raise MCPError(code=errors.INVALID_PARAMS, message=f"Unknown tool: {name}")
        try:
            return await super().call_tool(name, arguments, context)
        except UnexpectedToolError as exc:
            # Our ToolError with a generic message: the SDK logs that below ERROR (logs.py).
            told = errors.bug("tool", name, exc.__cause__ or exc)
            raise ToolError(f"Error executing tool {name}: {told}") from None
        except ToolError as exc:
            if isinstance(exc.__cause__, ValidationError):
                errors.client_mistake("tool", name, errors.invalid_arguments(exc.__cause__))
            else:
                errors.expected_failure("tool", name, exc.__cause__ or exc)
            raise

    async def read_resource(
        self, uri: AnyUrl | str, context: ToolContext | None = None
    ) -> Iterable[ReadResourceContents] | InputRequiredResult:
        not_found = errors.resource_not_found_code(context.protocol_version if context else None)
        data = {"uri": str(uri)}
        try:
            return await super().read_resource(uri, context)
        except ResourceNotFoundError as exc:
            if isinstance(exc, NotFound):
                errors.expected_failure("resource", str(uri), exc)
            else:
                errors.client_mistake("resource", str(uri), "no such resource")
            raise MCPError(code=not_found, message=str(exc), data=data) from None
        except UnexpectedResourceError as exc:
            cause = exc.__cause__ or exc
            template = self._template_function(str(uri))
            if (
                isinstance(cause, ValidationError)
                and template is not None
                and not errors.raised_inside(cause, template)
            ):
                # The URI matched a template whose parameters it cannot fill: no such item.
                errors.client_mistake("resource", str(uri), errors.invalid_arguments(cause))
                message = f"Unknown resource: {uri}"
                raise MCPError(code=not_found, message=message, data=data) from None
            told = errors.bug("resource", str(uri), cause)
            raise MCPError(code=errors.INTERNAL_ERROR, message=told, data=data) from None
        except ResourceError as exc:
            errors.expected_failure("resource", str(uri), exc)
            raise MCPError(code=errors.INTERNAL_ERROR, message=str(exc), data=data) from None

    async def get_prompt(
        self,
        name: str,
        arguments: dict[str, Any] | None = None,
        context: ToolContext | None = None,
    ) -> GetPromptResult | InputRequiredResult:
        prompt = self._prompt_manager.get_prompt(name)
        declared = None if prompt is None else prompt.arguments or ()
        mistake = errors.prompt_mistake(name, declared, arguments)
        if mistake is not None:
            errors.client_mistake("prompt", name, mistake)
            raise MCPError(code=errors.INVALID_PARAMS, message=mistake)
        assert prompt is not None
        try:
            return await super().get_prompt(name, arguments, context)
        except MCPError:
            raise
        except Exception as exc:  # the SDK wraps what the prompt raised in a ValueError
            cause = errors.root_cause(exc)
            if isinstance(cause, NotFound | ResourceError):
                errors.expected_failure("prompt", name, cause)
                code = errors.INTERNAL_ERROR
                if isinstance(cause, NotFound):
                    code = errors.INVALID_PARAMS
                raise MCPError(code=code, message=str(cause)) from None
            if isinstance(cause, ValidationError) and not errors.raised_inside(cause, prompt.fn):
                errors.client_mistake("prompt", name, errors.invalid_arguments(cause))
                message = f"Invalid arguments for prompt {name}: {errors.invalid_arguments(cause)}"
                raise MCPError(code=errors.INVALID_PARAMS, message=message) from None
            told = errors.bug("prompt", name, cause)
            raise MCPError(code=errors.INTERNAL_ERROR, message=told) from None

    def _template_function(self, uri: str) -> Callable[..., Any] | None:
        """The function of the resource template ``uri`` is read through, if it is one's."""
        manager = self._resource_manager
        if any(str(resource.uri) == uri for resource in manager.list_resources()):
            return None
        for template in manager.list_templates():
            with contextlib.suppress(Exception):  # a URI the template refuses to match
                if template.matches(uri) is not None:
                    return template.fn
        return None


def new_server(settings: AuthSettings, *, shared: PerProcess[Any, Any] | None = None) -> Server:
    """The SDK's high-level server; ``create_http_app`` makes its HTTP apps stateless.

    ``shared``: what its tools share, which the app opens once per process.
    """
    options = subscription_options(settings)
    if "lifespan" in options:
        options["lifespan"] = EnteredOnce(options["lifespan"])
    server = Server(
        name=SERVER_NAME,
        version=__version__,
        request_state_security=request_state_security(settings),
        **server_auth(settings),
        **options,
    )
    server.shared = shared
    return server


def request_state_security(settings: ServiceSettings) -> RequestStateSecurity | None:
    """The keys that seal a call's state between its rounds, or None for the SDK's default.

    A tool that asks the client for input (``Resolve``/``Elicit``) answers a 2026-07-28 call
    with the questions and a sealed ``requestState``; the client sends the answers and that
    state back in a new request, which any process behind the port or the proxy may get. It
    can unseal the state only with the key that sealed it, so every process needs the same
    keys: ``REQUEST_STATE_KEYS`` (the first seals, every one unseals, for rotation). None keeps
    the SDK's key of this process's own, enough for one process (``--workers`` hands its
    workers one generated key through the settings).
    """
    keys = [key.get_secret_value() for key in settings.request_state_keys]
    return RequestStateSecurity(keys=keys) if keys else None


class SdkApp(NamedTuple):
    """The SDK's streamable-HTTP app, serving ``/mcp``, and its session manager, whose ``run()``
    must be entered before it can answer (the app's lifespan does, unless it is mounted)."""

    app: Starlette
    manager: StreamableHTTPSessionManager


def create_http_app(server: Server, settings: ServiceSettings, *, json_response: bool) -> SdkApp:
    """A stateless streamable-HTTP app of the SDK's for ``server``: one that answers every POST
    with plain JSON (``json_response``) or one that answers as an SSE stream.

    Each call makes another, with a session manager of its own; the service makes one of each
    (``http/app.py``), which is why the server's lifespan is ``EnteredOnce``.
    """
    app = server.streamable_http_app(
        stateless_http=True,
        json_response=json_response,
        max_request_body_size=settings.max_body_bytes,
        transport_security=transport_security(settings),
    )
    return SdkApp(app, server.session_manager)


class EnteredOnce:
    """A server lifespan that runs once, however many of the server's session managers enter it.

    Each of the SDK's session managers enters its server's lifespan as it starts. The first
    entry runs ``lifespan`` (the subscription broker's connection, say); the entries made while
    it runs share what it yielded, and must end before it does, as nested ones do.
    """

    def __init__(
        self, lifespan: Callable[[Any], AbstractAsyncContextManager[dict[str, Any]]]
    ) -> None:
        self.lifespan = lifespan
        self.running: dict[str, Any] | None = None

    @asynccontextmanager
    async def __call__(self, server: Any) -> AsyncIterator[dict[str, Any]]:
        if self.running is not None:
            yield self.running
            return
        async with self.lifespan(server) as state:
            self.running = state
            try:
                yield state
            finally:
                self.running = None


def has_tool(server: Server, name: str) -> bool:
    """Whether ``server`` has a tool called ``name`` now, however it was added."""
    return server._tool_manager.get_tool(name) is not None


async def run_stdio(server: Server) -> None:
    """Serve one client over stdin/stdout until it closes stdin."""
    await server.run_stdio_async()
