"""A baked service with the conformance suite's fixtures added, for tests/test_clients.py.

Many of the suite's server scenarios call fixtures of its reference server by name (a tool
``test_image_content``, a resource ``test://static-text``, a prompt ``test_simple_prompt``...),
which a generated service does not have. This script builds the service with ``create_app``,
as its own command does (guard, security checks, stateless SDK app), adds those fixtures to its
MCP server through the SDK's decorators, which both SDK lines share, and serves it with uvicorn
on a free 127.0.0.1 port. It prints the ``/mcp`` URL on stdout, then serves until SIGTERM.

Run with the bake's Python: ``python conformance_server.py PACKAGE``.
"""

from __future__ import annotations

import base64
import importlib
import json
import socket
import sys
from typing import Any

import anyio
import uvicorn
from mcp.types import (
    AudioContent,
    Completion,
    EmbeddedResource,
    ImageContent,
    SamplingMessage,
    TextContent,
    TextResourceContents,
)
from pydantic import BaseModel

# A 1x1 red PNG and a silent 8 kHz mono WAV with one sample, as the fixtures' spec suggests.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)
WAV = (
    b"RIFF&\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00@\x1f\x00\x00\x80>\x00\x00"
    b"\x02\x00\x10\x00data\x02\x00\x00\x00\x00\x00"
)
PNG_B64 = base64.b64encode(PNG).decode()
# How long sampling and elicitation wait for the client's answer, which in stateless mode never
# arrives (1.x sends the request and waits; 2.x refuses at once).
BACK_CHANNEL_TIMEOUT = 3.0
Message = dict[str, Any]


class UserInfo(BaseModel):
    """What test_elicitation asks the user for."""

    username: str
    email: str


def add_fixtures(server: Any, tool_context: Any) -> None:  # noqa: ANN401
    """Register the reference server's tools, resources, prompts and completions."""

    @server.tool()
    def test_simple_text() -> str:
        """Return a fixed text."""
        return "This is a simple text response for testing."

    @server.tool()
    def test_image_content() -> list[ImageContent]:
        """Return an image."""
        return [ImageContent(type="image", data=PNG_B64, mimeType="image/png")]

    @server.tool()
    def test_audio_content() -> list[AudioContent]:
        """Return audio."""
        data = base64.b64encode(WAV).decode()
        return [AudioContent(type="audio", data=data, mimeType="audio/wav")]

    resource = TextResourceContents(
        uri="test://embedded-resource", mimeType="text/plain", text="An embedded resource."
    )

    @server.tool()
    def test_embedded_resource() -> list[EmbeddedResource]:
        """Return an embedded resource."""
        return [EmbeddedResource(type="resource", resource=resource)]

    @server.tool()
    def test_multiple_content_types() -> list[TextContent | ImageContent | EmbeddedResource]:
        """Return text, an image and a resource."""
        return [
            TextContent(type="text", text="Multiple content types test:"),
            ImageContent(type="image", data=PNG_B64, mimeType="image/png"),
            EmbeddedResource(type="resource", resource=resource),
        ]

    @server.tool()
    def test_error_handling() -> str:
        """Fail, as the scenario wants."""
        raise ValueError("This tool intentionally returns an error for testing")

    async def test_tool_with_progress(ctx: Any) -> str:  # noqa: ANN401
        """Report progress three times."""
        for step in (0, 50, 100):
            await ctx.report_progress(step, 100)
            await anyio.sleep(0.05)
        return "Progress test completed"

    async def test_sampling(prompt: str, ctx: Any) -> str:  # noqa: ANN401
        """Ask the client's model; a stateless server never gets the answer."""
        message = SamplingMessage(role="user", content=TextContent(type="text", text=prompt))
        with anyio.fail_after(BACK_CHANNEL_TIMEOUT):
            result = await ctx.session.create_message(messages=[message], max_tokens=100)
        return f"LLM response: {result.content.text}"

    async def test_elicitation(ctx: Any, message: str = "Your details?") -> str:  # noqa: ANN401
        """Ask the user; a stateless server never gets the answer."""
        with anyio.fail_after(BACK_CHANNEL_TIMEOUT):
            result = await ctx.elicit(message=message, schema=UserInfo)
        return f"User response: action={result.action}"

    # The SDK finds the context parameter by its annotation, the bake's ToolContext.
    for tool in (test_tool_with_progress, test_sampling, test_elicitation):
        tool.__annotations__["ctx"] = tool_context
        server.tool()(tool)

    @server.resource("test://static-text", mime_type="text/plain")
    def static_text() -> str:
        """Serve a text resource."""
        return "This is the content of the static text resource."

    @server.resource("test://static-binary", mime_type="image/png")
    def static_binary() -> bytes:
        """Serve a binary resource."""
        return PNG

    @server.resource("test://template/{id}/data", mime_type="application/json")
    def template_data(id: str) -> str:
        """Serve a resource template."""
        return json.dumps({"id": id, "templateTest": True, "data": f"Data for ID: {id}"})

    @server.prompt()
    def test_simple_prompt() -> list[Message]:
        """A prompt without arguments."""
        text = "This is a simple prompt for testing."
        return [{"role": "user", "content": {"type": "text", "text": text}}]

    @server.prompt()
    def test_prompt_with_arguments(arg1: str, arg2: str) -> list[Message]:
        """A prompt with two arguments."""
        text = f"Prompt with arguments: arg1='{arg1}', arg2='{arg2}'"
        return [{"role": "user", "content": {"type": "text", "text": text}}]

    @server.prompt()
    def test_prompt_with_embedded_resource(resourceUri: str) -> list[Message]:
        """A prompt that embeds a resource."""
        embedded = {"uri": resourceUri, "mimeType": "text/plain", "text": "Embedded content."}
        return [
            {"role": "user", "content": {"type": "resource", "resource": embedded}},
            {"role": "user", "content": {"type": "text", "text": "Process the resource."}},
        ]

    @server.prompt()
    def test_prompt_with_image() -> list[Message]:
        """A prompt with an image."""
        image = {"type": "image", "data": PNG_B64, "mimeType": "image/png"}
        return [
            {"role": "user", "content": image},
            {"role": "user", "content": {"type": "text", "text": "Describe the image."}},
        ]

    @server.completion()
    async def complete(ref: object, argument: object, context: object) -> Completion:
        """Offer fixed completions for any argument."""
        return Completion(values=["paris", "park", "party"])


def main(package: str) -> None:
    """Serve the service with the fixtures until SIGTERM; print its URL first."""
    app_module = importlib.import_module(f"{package}.app")
    sdk = importlib.import_module(f"{package}.runtime.sdk")
    settings = importlib.import_module(f"{package}.settings").read_settings()
    app = app_module.create_app(settings)
    add_fixtures(app.state.mcp_server, sdk.ToolContext)
    sock = socket.create_server(("127.0.0.1", 0))
    print(f"http://127.0.0.1:{sock.getsockname()[1]}/mcp", flush=True)
    config = uvicorn.Config(app, log_level="warning", http="h11")
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main(sys.argv[1])
