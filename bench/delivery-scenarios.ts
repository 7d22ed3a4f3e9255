// Delivery latency scenarios: a send visible to the next poll, a waiting long-poll woken, a
// webhook reaching its receiver, and a broadcast reaching every inbox. Each is bounded in
// rounds and time.

import { createServer } from "node:http";
import type { BenchAgent, Relay } from "./agents.js";
import type { Figure } from "./figure.js";
import { pool, stats, timed } from "./measure.js";
import { waitFor, waitForAsync } from "./wait.js";

/** Send-to-visible lag: poll right after each 201; the message must be there (read-your-writes). */
export async function sendToVisible(relay: Relay, rounds: number): Promise<Figure[]> {
  const [sender, recipient] = await Promise.all([relay.register("lag_s"), relay.register("lag_r")]);
  let after: string | null = null;
  let misses = 0;
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const started = performance.now();
    const sent = await relay.send(sender, recipient.name, `lag ${i}`);
    const page = await relay.inbox(recipient, `sort=asc&limit=100${after ? `&after=${encodeURIComponent(after)}` : ""}`);
    samples.push(performance.now() - started);
    if (!page.messages.some((m) => m.id === sent.id)) misses++;
    after = page.newestTs ?? after;
  }
  return [{ scenario: "send-to-visible", what: `send then poll, ${rounds} rounds`, latency: stats(samples), value: misses, unit: "misses" }];
}

/** Long-poll wake latency: from the send's start to the waiting poll's answer. */
export async function longPollWake(relay: Relay, rounds: number): Promise<Figure[]> {
  const [sender, recipient] = await Promise.all([relay.register("wake_s"), relay.register("wake_r")]);
  const wake: number[] = [];
  const afterSend: number[] = [];
  let after = new Date().toISOString();
  for (let i = 0; i < rounds; i++) {
    const poll = relay.inbox(recipient, `sort=asc&wait=10&after=${encodeURIComponent(after)}`).then((page) => ({ page, at: performance.now() }));
    await new Promise((r) => setTimeout(r, 15)); // let the poll reach the inbox and wait there
    const started = performance.now();
    await relay.send(sender, recipient.name, `wake ${i}`);
    const sentAt = performance.now();
    const { page, at } = await poll;
    wake.push(at - started);
    afterSend.push(Math.max(0, at - sentAt));
    after = page.newestTs ?? after;
  }
  return [
    { scenario: "long-poll", what: "send start → waiting poll answered", latency: stats(wake) },
    { scenario: "long-poll", what: "send 201 → waiting poll answered", latency: stats(afterSend) },
  ];
}

/** Webhooks: 201 → receiver latency, and deliveries/s to one endpoint. */
export async function webhooks(relay: Relay, rounds: number, burst: number): Promise<Figure[]> {
  const arrivals = new Map<string, number>();
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const id = (JSON.parse(Buffer.concat(chunks).toString()) as { id: string }).id;
      if (!arrivals.has(id)) arrivals.set(id, performance.now());
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  try {
    const [sender, hooked, hooked2] = await Promise.all([
      relay.register("hook_s"),
      relay.register("hook_r", { webhookUrl: `http://127.0.0.1:${port}/a` }),
      relay.register("hook_t", { webhookUrl: `http://127.0.0.1:${port}/b` }),
    ]);
    const latency: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const sent = await relay.send(sender, hooked.name, `hook ${i}`);
      const answered = performance.now();
      const arrived = await waitFor(() => arrivals.get(sent.id), 10_000);
      latency.push(Math.max(0, arrived - answered));
    }
    const { ms } = await timed(async () => {
      const sent = await pool(Array.from({ length: burst }, (_, i) => i), 20, (i) => relay.send(sender, hooked2.name, `burst ${i}`));
      await waitFor(() => (sent.every((s) => arrivals.has(s.id)) ? true : undefined), 120_000);
    });
    return [
      { scenario: "webhook", what: "send 201 → receiver", latency: stats(latency) },
      { scenario: "webhook", what: `${burst} messages to one endpoint`, value: (burst / ms) * 1000, unit: "deliveries/s" },
    ];
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

/**
 * Broadcast to N agents: from the 201 until every inbox holds the message. The fan-out goes
 * through the directory in name order, so the last agent in that order is watched closely (a
 * poll every few ms); then every inbox is checked once. (Holding N long-polls open instead would
 * measure the local HTTP proxy under N connections more than the fan-out.)
 */
export async function broadcast(relay: Relay, agents: BenchAgent[]): Promise<Figure[]> {
  const sender = await relay.register(`bcast_${Date.now().toString(36)}`);
  const last = [...agents].sort((a, b) => (a.name.toLowerCase() < b.name.toLowerCase() ? -1 : 1)).at(-1)!;
  const started = performance.now();
  await relay.send(sender, "broadcast", "to everyone");
  const answered = performance.now();
  const query = `sort=asc&limit=1&from=${sender.name}`;
  const reached = await waitForAsync(async () => ((await relay.inbox(last, query)).messages.length > 0 ? performance.now() : undefined), 60_000);
  const holding = await pool(agents, 16, async (agent) => (await relay.inbox(agent, query)).messages.length > 0);
  const received = holding.filter(Boolean).length;
  return [
    {
      scenario: "broadcast",
      what: `to ${agents.length} agents, 201 → last inbox`,
      value: received === agents.length ? reached - answered : Number.NaN,
      unit: "ms",
      note: `${received}/${agents.length} hold it; the send answered in ${(answered - started).toFixed(1)} ms`,
    },
  ];
}
