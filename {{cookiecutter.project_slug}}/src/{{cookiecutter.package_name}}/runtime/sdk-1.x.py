"""The only module that knows which line of the MCP Python SDK this service runs on: 1.x.

1.x (FastMCP) is in maintenance and speaks the protocol revisions up to 2025-11-25; it does not
speak MCP 2026-07-28. The template bakes a 2.x twin of this module; ``docs/sdk-lines.md`` lists
the other files that differ between the lines.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Sequence
from importlib.metadata import version
from typing import Any, Final, NamedTuple, TypeAlias, get_args

import pydantic_core
from mcp import types
from mcp.server.fastmcp import Context, FastMCP
from mcp.server.fastmcp.exceptions import ResourceError, ToolError
from mcp.server.fastmcp.utilities.func_metadata import FuncMetadata
from mcp.server.lowlevel.helper_types import ReadResourceContents
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.shared.exceptions import McpError
from mcp.shared.version import SUPPORTED_PROTOCOL_VERSIONS
from pydantic import AnyUrl, ValidationError
from starlette.applications import Starlette
from starlette.types import Scope

from . import errors, tracing
from .about import SERVER_NAME, __version__
from .auth import AuthSettings, server_auth
from .hosts import transport_security
from .jsonrpc import METHOD_NOT_FOUND, RejectedRequest, RequestCheck, answerable_id
from .per_process import PerProcess
from .settings import ServiceSettings

__all__ = [
    "QUIET_LOGGERS",
    "SDK_LINE",
    "SDK_VERSION",
    "NotFound",
    "ResourceError",
    "SdkApp",
    "Server",
    "ToolContext",
    "ToolError",
    "check_request",
    "create_http_app",
    "has_tool",
    "new_server",
    "run_stdio",
]

SDK_LINE = "1.x"
SDK_VERSION = version("mcp")
# The methods 1.x serves: it answers a request for any other with "invalid params" (-32602) and
# a WARNING, where JSON-RPC names "method not found" (-32601), so the guard answers those.
_PROTOCOLS: Final = frozenset(SUPPORTED_PROTOCOL_VERSIONS)
_METHODS: Final = frozenset(
    get_args(request.model_fields["method"].annotation)[0]
    for request in get_args(types.ClientRequest.model_fields["root"].annotation)
)


_PROTOCOL_VERSION_HEADER: Final = b"mcp-protocol-version"


def _check_method(scope: Scope, message: dict[str, Any]) -> RejectedRequest | None:
    """-32601 for a request (not a notification) whose method 1.x does not serve, unless its
    protocol version is one 1.x refuses itself (400, as the revisions require)."""
    method = message.get("method")
    if method is None or method in _METHODS or "id" not in message:
        return None
    for name, value in scope["headers"]:
        if name == _PROTOCOL_VERSION_HEADER and value.decode("latin-1") not in _PROTOCOLS:
            return None
    return RejectedRequest(200, METHOD_NOT_FOUND, "Method not found", answerable_id(message))


# 1.x serves no handshake-free revision (MCP 2026-07-28), so it has no routing headers to check.
check_request: RequestCheck | None = _check_method

# The SDK's loggers whose INFO lines say nothing the service's own do not, which ``logs.py``
# keeps quiet below DEBUG: a line per request ("Terminating session: None", "Processing request
# of type ..."), and each session manager's start and stop, twice over (one per app: JSON and
# SSE).
QUIET_LOGGERS = (
    "mcp.server.streamable_http",
    "mcp.server.streamable_http_manager",
    "mcp.server.lowlevel.server",
)

ToolContext: TypeAlias = Context[Any, Any, Any]


class NotFound(ResourceError):
    """What a resource, prompt or tool was asked for does not exist; the message says what.

    A resource's client gets -32002 (resource not found), a prompt's invalid params (-32602),
    a tool's a tool error; the log gets one INFO line (``errors.py``).
    """


class Server(FastMCP[Any]):
    """The SDK's server, its tools, resources and prompts failing by intent (``errors.py``).

    Overrides the three methods through which the SDK reaches a tool, resource or prompt, so
    the rules hold for everything registered, by any of the SDK's means. Resources and prompts
    are read here rather than through the SDK's methods, which log every failure as an ERROR.
    """

    # What its tools, resources and prompts share, opened once per process (``per_process.py``).
    shared: PerProcess[Any, Any] | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # 1.x answers any failure of tools/call, an unknown tool's included, as a tool result:
        # check the name first, where a JSON-RPC error can still be the answer.
        handlers = self._mcp_server.request_handlers
        call = handlers[types.CallToolRequest]

        async def call_known_tool(request: types.CallToolRequest) -> types.ServerResult:
            name = request.params.name
            if self._tool_manager.get_tool(name) is None:
                errors.client_mistake("tool", name, "no such tool")
                raise McpError(_error(errors.INVALID_PARAMS, f"Unknown tool: {name}"))
            return await call(request)

        handlers[types.CallToolRequest] = call_known_tool

    async def call_tool(
        self, name: str, arguments: dict[str, Any]
    ) -> Sequence[types.ContentBlock] | dict[str, Any]:
        try:
            return await super().call_tool(name, arguments)
        except ToolError as exc:  # 1.x wraps whatever a tool raised in one of these
            cause = exc.__cause__
            tool = self._tool_manager.get_tool(name)
            if cause is None or isinstance(cause, ToolError | ResourceError):
                errors.expected_failure("tool", name, cause or exc)
                raise
            if (
                isinstance(cause, ValidationError)
                and tool is not None
                and not errors.raised_inside(cause, tool.fn)
                and not errors.raised_inside(cause, FuncMetadata.convert_result)
            ):
                errors.client_mistake("tool", name, errors.invalid_arguments(cause))
                raise
            told = errors.bug("tool", name, cause)
            raise ToolError(f"Error executing tool {name}: {told}") from None

    async def read_resource(self, uri: AnyUrl | str) -> Iterable[ReadResourceContents]:
        data = {"uri": str(uri)}
        template = self._template_function(str(uri))
        if template is None and not self._is_static(str(uri)):
            errors.client_mistake("resource", str(uri), "no such resource")
            raise McpError(_error(errors.RESOURCE_NOT_FOUND, f"Unknown resource: {uri}", data))
        try:
            resource = await self._resource_manager.get_resource(uri, context=self.get_context())
            assert resource is not None  # the manager raises for a URI it does not know
            content = await resource.read()
        except McpError:
            raise
        except Exception as exc:  # 1.x wraps what a template raised in ValueErrors
            cause = errors.root_cause(exc)
            if isinstance(cause, NotFound):
                errors.expected_failure("resource", str(uri), cause)
                raise McpError(_error(errors.RESOURCE_NOT_FOUND, str(cause), data)) from None
            if isinstance(cause, ResourceError):
                errors.expected_failure("resource", str(uri), cause)
                raise McpError(_error(errors.INTERNAL_ERROR, str(cause), data)) from None
            if (
                isinstance(cause, ValidationError)
                and template is not None
                and not errors.raised_inside(cause, template)
            ):
                # The URI matched a template whose parameters it cannot fill: no such item.
                errors.client_mistake("resource", str(uri), errors.invalid_arguments(cause))
                message = f"Unknown resource: {uri}"
                raise McpError(_error(errors.RESOURCE_NOT_FOUND, message, data)) from None
            told = errors.bug("resource", str(uri), cause)
            raise McpError(_error(errors.INTERNAL_ERROR, told, data)) from None
        return [
            ReadResourceContents(content=content, mime_type=resource.mime_type, meta=resource.meta)
        ]

    async def get_prompt(
        self, name: str, arguments: dict[str, Any] | None = None
    ) -> types.GetPromptResult:
        prompt = self._prompt_manager.get_prompt(name)
        declared = None if prompt is None else prompt.arguments or ()
        mistake = errors.prompt_mistake(name, declared, arguments)
        if mistake is not None:
            errors.client_mistake("prompt", name, mistake)
            raise McpError(_error(errors.INVALID_PARAMS, mistake))
        assert prompt is not None
        try:
            messages = await prompt.render(arguments, context=self.get_context())
        except McpError:
            raise
        except Exception as exc:  # 1.x wraps what the prompt raised in a ValueError
            cause = errors.root_cause(exc)
            if isinstance(cause, ResourceError):  # NotFound among them
                errors.expected_failure("prompt", name, cause)
                code = errors.INTERNAL_ERROR
                if isinstance(cause, NotFound):
                    code = errors.INVALID_PARAMS
                raise McpError(_error(code, str(cause))) from None
            if isinstance(cause, ValidationError) and not errors.raised_inside(cause, prompt.fn):
                errors.client_mistake("prompt", name, errors.invalid_arguments(cause))
                message = f"Invalid arguments for prompt {name}: {errors.invalid_arguments(cause)}"
                raise McpError(_error(errors.INVALID_PARAMS, message)) from None
            told = errors.bug("prompt", name, cause)
            raise McpError(_error(errors.INTERNAL_ERROR, told)) from None
        return types.GetPromptResult(
            description=prompt.description, messages=pydantic_core.to_jsonable_python(messages)
        )

    def _is_static(self, uri: str) -> bool:
        return any(str(resource.uri) == uri for resource in self._resource_manager.list_resources())

    def _template_function(self, uri: str) -> Callable[..., Any] | None:
        """The function of the resource template ``uri`` is read through, if it is one's."""
        if self._is_static(uri):
            return None
        for template in self._resource_manager.list_templates():
            if template.matches(uri) is not None:
                return template.fn
        return None


def _error(code: int, message: str, data: dict[str, Any] | None = None) -> types.ErrorData:
    return types.ErrorData(code=code, message=message, data=data)


def new_server(settings: AuthSettings, *, shared: PerProcess[Any, Any] | None = None) -> Server:
    """The SDK's high-level server, in stateless mode so any replica can answer any request.

    ``shared``: what its tools share, which the app opens once per process.
    """
    with warnings.catch_warnings():
        # FastMCP's own settings in some 1.x releases (1.26 among them) leave ``lifespan`` a
        # forward reference, and recent pydantic-settings warn about it on every start; that
        # field is never read from the environment, so the warning would only be log noise.
        warnings.filterwarnings("ignore", message="Field 'lifespan' has an incomplete definition")
        server = Server(
            SERVER_NAME,
            stateless_http=True,
            transport_security=transport_security(settings),
            **server_auth(settings),
        )
    # FastMCP takes no version. Left unset, the SDK reports its own version as the service's
    # and looks it up in the installed packages' metadata on every stateless request: a third
    # of the CPU time per request, measured (the template README's benchmark).
    server._mcp_server.version = __version__
    server.shared = shared
    return server


class SdkApp(NamedTuple):
    """The SDK's streamable-HTTP app, serving ``/mcp``, and its session manager, whose ``run()``
    must be entered before it can answer (the app's lifespan does, unless it is mounted)."""

    app: Starlette
    manager: StreamableHTTPSessionManager


def create_http_app(server: Server, settings: ServiceSettings, *, json_response: bool) -> SdkApp:
    """A stateless streamable-HTTP app of the SDK's for ``server``: one that answers every POST
    with plain JSON (``json_response``) or one that answers as an SSE stream.

    Each call makes another, with a session manager of its own; the service makes one of each
    (``http/app.py``). FastMCP builds its app from its own settings and keeps the first session
    manager it made: the mode is set and the manager forgotten before each.
    """
    trace_requests(server)  # once, however many apps: it wraps each handler only once
    server.settings.json_response = json_response
    server._session_manager = None
    app = server.streamable_http_app()
    return SdkApp(app, server.session_manager)


def has_tool(server: Server, name: str) -> bool:
    """Whether ``server`` has a tool called ``name`` now, however it was added."""
    return server._tool_manager.get_tool(name) is not None


async def run_stdio(server: Server) -> None:
    """Serve one client over stdin/stdout until it closes stdin."""
    trace_requests(server)
    await server.run_stdio_async()


def trace_requests(server: Server) -> None:
    """When traces are on, give each request the MCP server span 2.x makes itself.

    Called once everything is registered: the handlers are wrapped as they are then.
    """
    if tracing.active():
        from .server_spans import trace_requests as wrap_handlers  # imports OpenTelemetry

        wrap_handlers(server._mcp_server)
