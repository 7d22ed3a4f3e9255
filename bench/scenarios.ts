// The benchmark scenarios (issue 6). Each returns figures; run.ts prints them beside the
// baseline measured in the same run. Every scenario is bounded in requests and time.

import { createServer } from "node:http";
import { Relay, sendBody, type BenchAgent } from "./agents.js";
import { load, pool, stats, timed, type LoadResult, type Stats } from "./measure.js";

export interface Figure {
  scenario: string;
  /** What was measured, e.g. "accepted/s" or "GET newest page". */
  what: string;
  rps?: number;
  latency?: Stats;
  value?: number;
  unit?: string;
  note?: string;
}

const auth = (agent: BenchAgent) => ({ Authorization: `Bearer ${agent.apiKey}` });

export async function baseline(url: string, seconds: number): Promise<{ get: LoadResult; post: LoadResult }> {
  const get = await load({ url, durationS: seconds });
  const post = await load({ url, method: "POST", durationS: seconds, request: () => ({ path: "/", body: sendBody("x") }) });
  return { get, post };
}

/** 1. Send throughput: many senders to one recipient, and to many recipients. */
export async function sendThroughput(relay: Relay, seconds: number): Promise<Figure[]> {
  const senders = await relay.registerMany("tput_s", 20);
  const recipients = await relay.registerMany("tput_r", 20);
  const one = await load({
    url: relay.url,
    method: "POST",
    durationS: seconds,
    request: (i) => ({ path: "/messages", headers: auth(senders[i % senders.length]!), body: sendBody(recipients[0]!.name) }),
  });
  const many = await load({
    url: relay.url,
    method: "POST",
    durationS: seconds,
    request: (i) => ({ path: "/messages", headers: auth(senders[i % senders.length]!), body: sendBody(recipients[(i * 7) % recipients.length]!.name) }),
  });
  return [
    { scenario: "send", what: "20 senders → 1 inbox", rps: one.rps, latency: one, note: failures(one) },
    { scenario: "send", what: "20 senders → 20 inboxes", rps: many.rps, latency: many, note: failures(many) },
  ];
}

/** 2. Send-to-visible lag: poll right after each 201; the message must be there (read-your-writes). */
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

/** 3. Long-poll wake latency: from the send's start to the waiting poll's answer. */
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

/** 4. Webhooks: 201 → receiver latency, and deliveries/s to one endpoint. */
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
 * 5. Broadcast to N agents: from the 201 until every inbox holds the message. The fan-out goes
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

/** 6. Inbox scale: GET latency as the inbox grows (newest page from memory; an older page and a topic filter from SQL). */
export async function inboxScale(relay: Relay, sizes: number[], seconds: number): Promise<Figure[]> {
  const senders = await relay.registerMany("scale_s", 20);
  const owner = await relay.register("scale_r");
  const figures: Figure[] = [];
  let stored = 0;
  let middle: string | null = null;
  for (const size of sizes) {
    if (size > stored) {
      const fill = await load({
        url: relay.url,
        method: "POST",
        amount: size - stored,
        connections: 32,
        request: (i) => ({
          path: "/messages",
          headers: auth(senders[i % senders.length]!),
          body: JSON.stringify({ to: owner.name, type: "notification", encrypted: false, payload: `m${i}`, topic: i % 10 === 0 ? "rare" : "common" }),
        }),
      });
      stored += fill.ok;
      if (fill.failed > 0) throw new Error(`filling the inbox: ${fill.failed} sends failed`);
    }
    // A ts from the middle of the inbox: paging from there cannot be answered from memory.
    const oldest = await relay.inbox(owner, "sort=asc&limit=1");
    const newest = await relay.inbox(owner, "sort=desc&limit=1");
    middle = new Date((Date.parse(oldest.messages[0]!.ts) + Date.parse(newest.messages[0]!.ts)) / 2).toISOString();
    const headers = auth(owner);
    const queries: [string, string][] = [
      ["newest page (memory)", "/messages?limit=50"],
      ["page from the middle (SQL)", `/messages?sort=asc&limit=50&after=${encodeURIComponent(middle)}`],
      ["topic filter (SQL index)", "/messages?limit=50&topic=rare&before=" + encodeURIComponent(middle)],
    ];
    for (const [what, path] of queries) {
      const result = await load({ url: relay.url, durationS: seconds, connections: 10, request: () => ({ path, headers }) });
      figures.push({ scenario: `inbox of ${stored.toLocaleString("en")}`, what: `GET ${what}`, rps: result.rps, latency: result, note: failures(result) });
    }
  }
  return figures;
}

/** 7. Auth cost: send latency with this many registered agents (senders spread over all of them). */
export async function authCost(relay: Relay, senders: BenchAgent[], recipient: BenchAgent, seconds: number, label: string): Promise<Figure> {
  const result = await load({
    url: relay.url,
    method: "POST",
    durationS: seconds,
    request: (i) => ({ path: "/messages", headers: auth(senders[i % senders.length]!), body: sendBody(recipient.name) }),
  });
  return { scenario: "auth cost", what: label, rps: result.rps, latency: result, note: failures(result) };
}

function failures(result: LoadResult): string | undefined {
  return result.failed > 0 ? `${result.failed} failed` : undefined;
}

async function waitForAsync<T>(check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function waitFor<T>(check: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 1));
  }
}
