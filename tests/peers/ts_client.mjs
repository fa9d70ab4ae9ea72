// The official TypeScript SDK's client against a baked server, for tests/test_clients.py.
//
//   node ts_client.mjs http <url>               (sends MCP_TOKEN as a bearer token when set)
//   node ts_client.mjs stdio <command> [args...]
//
// Lists the tools, calls add and long_task (collecting progress notifications), and prints one
// JSON line with what it got. Run from the npm cache directory, where its imports resolve.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [mode, target, ...args] = process.argv.slice(2);
const token = process.env.MCP_TOKEN;

let transport;
if (mode === "http") {
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  transport = new StreamableHTTPClientTransport(new URL(target), { requestInit: { headers } });
} else if (mode === "stdio") {
  transport = new StdioClientTransport({ command: target, args, stderr: "inherit" });
} else {
  throw new Error(`unknown mode ${mode}`);
}

const client = new Client({ name: "template-tests", version: "0.0.0" });
await client.connect(transport);
const listed = await client.listTools();
const added = await client.callTool({ name: "add", arguments: { a: 2, b: 3 } });
const progress = [];
const slow = await client.callTool(
  { name: "long_task", arguments: { seconds: 0.2, steps: 2 } },
  undefined,
  { onprogress: (update) => progress.push(update) },
);
await client.close();
console.log(
  JSON.stringify({
    tools: listed.tools.map((tool) => tool.name).sort(),
    added: added.structuredContent,
    slow: slow.content.map((block) => block.text).join(""),
    slowIsError: slow.isError ?? false,
    progress,
  }),
);
