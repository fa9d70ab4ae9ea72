// The official TypeScript SDK's stateless server with the bake's `add` tool, for the benchmark
// (tests/measure/benchmark.py): what a team would run instead of a bake, written as the SDK's
// own stateless example writes it (`simpleStatelessStreamableHttp`: Express through
// `createMcpExpressApp`, a new server and transport for each request).
//
//   node ts_server.mjs <port> json|sse
//
// `json` answers with plain JSON (`enableJsonResponse`), `sse` as an SSE stream (the SDK's
// default). Run from the npm cache directory, where its imports resolve.
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { createMcpExpressApp } from "@modelcontextprotocol/sdk/server/express.js";
import * as z from "zod/v4";

const [port, mode] = process.argv.slice(2);
if (!["json", "sse"].includes(mode)) throw new Error(`unknown mode ${mode}`);

function newServer() {
  const server = new McpServer({ name: "ts-peer", version: "0.0.0" });
  server.registerTool(
    "add",
    {
      description: "Add two numbers.",
      inputSchema: { a: z.number(), b: z.number() },
      outputSchema: { result: z.number() },
    },
    async ({ a, b }) => ({
      content: [{ type: "text", text: String(a + b) }],
      structuredContent: { result: a + b },
    }),
  );
  return server;
}

const app = createMcpExpressApp();
app.get("/healthz", (req, res) => res.json({ status: "ok" }));
app.post("/mcp", async (req, res) => {
  const server = newServer();
  const transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: mode === "json",
  });
  res.on("close", () => {
    transport.close();
    server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res, req.body);
});
app.listen(Number(port), "127.0.0.1");
