// A real HTTP webhook receiver on 127.0.0.1 for tests (Node side). Each test uses its own "box"
// (a path segment): deliveries to /hooks/<box> are recorded, and answered by the box's script.
//
// Control API (JSON):
//   POST /_script/<box>  {responses: [{status, headers?, delayMs?, destroy?}], otherwise?: {...}}
//                        answers the next deliveries in turn, then `otherwise` (default 200)
//   GET  /_log/<box>     [{headers, body, receivedAt, answeredAt, status}] in arrival order

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

export interface ScriptedResponse {
  status?: number;
  headers?: Record<string, string>;
  delayMs?: number;
  /** Drop the connection without answering. */
  destroy?: boolean;
}

export interface Received {
  headers: Record<string, string>;
  body: string;
  receivedAt: number;
  answeredAt: number | null;
  status: number | null;
}

export interface Receiver {
  port: number;
  url(box: string): string;
  close(): Promise<void>;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export async function startReceiver(): Promise<Receiver> {
  const scripts = new Map<string, { responses: ScriptedResponse[]; otherwise: ScriptedResponse }>();
  const logs = new Map<string, Received[]>();

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? "/", "http://receiver");
    const [, kind, box = ""] = url.pathname.split("/");
    const body = await readBody(request);
    const reply = (status: number, value: unknown) => {
      response.writeHead(status, { "Content-Type": "application/json" });
      response.end(JSON.stringify(value));
    };
    if (kind === "_script" && request.method === "POST") {
      const script = JSON.parse(body) as { responses?: ScriptedResponse[]; otherwise?: ScriptedResponse };
      scripts.set(box, { responses: script.responses ?? [], otherwise: script.otherwise ?? { status: 200 } });
      return reply(200, { ok: true });
    }
    if (kind === "_log" && request.method === "GET") return reply(200, logs.get(box) ?? []);
    if (kind !== "hooks") return reply(404, { error: "unknown path" });

    const entry: Received = {
      headers: Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : (v ?? "")])),
      body,
      receivedAt: Date.now(),
      answeredAt: null,
      status: null,
    };
    if (!logs.has(box)) logs.set(box, []);
    logs.get(box)!.push(entry);
    const script = scripts.get(box);
    const planned = script?.responses.shift() ?? script?.otherwise ?? { status: 200 };
    if (planned.delayMs) await new Promise((r) => setTimeout(r, planned.delayMs));
    if (planned.destroy) {
      request.socket.destroy();
      return;
    }
    entry.status = planned.status ?? 200;
    entry.answeredAt = Date.now();
    response.writeHead(entry.status, { "Content-Type": "text/plain", ...planned.headers });
    response.end("ok");
  };
  // A request whose sender went away before its body was read (a relay killed mid-delivery, on
  // purpose in the restart tests) was never received: it is not logged, and not an error.
  const server: Server = createServer((request, response) => void handle(request, response).catch(() => request.socket.destroy()));
  // Keep-alive sockets would hold close() open; the relay opens a new connection when it needs one.
  server.keepAliveTimeout = 1000;

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (typeof address !== "object" || address === null) throw new Error("receiver did not bind");
  const port = address.port;
  return {
    port,
    url: (box) => `http://127.0.0.1:${port}/hooks/${box}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
