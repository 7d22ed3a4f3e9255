// Plain-HTTP helpers for the benchmarks: registering agents and sending messages.

import { pool } from "./measure.js";

export interface BenchAgent {
  name: string;
  apiKey: string;
}

export class Relay {
  constructor(
    readonly url: string,
    private readonly adminKey: string,
  ) {}

  /** Registrations answered 503 (the new inbox could not be opened) and made again, as a client would. */
  unavailable = 0;

  async register(name: string, fields: Record<string, unknown> = {}): Promise<BenchAgent> {
    for (let attempt = 1; ; attempt++) {
      const response = await fetch(`${this.url}/agents`, {
        method: "POST",
        headers: { Authorization: `Bearer ${this.adminKey}` },
        body: JSON.stringify({ name, ...fields }),
      });
      if (response.status === 503 && attempt < 5) {
        this.unavailable++;
        await response.arrayBuffer();
        await new Promise((resolve) => setTimeout(resolve, Number(response.headers.get("Retry-After") ?? 1) * 1000));
        continue;
      }
      if (response.status !== 201) throw new Error(`register ${name}: ${response.status} ${await response.text()}`);
      return (await response.json()) as BenchAgent;
    }
  }

  async registerMany(prefix: string, count: number, concurrency = 16): Promise<BenchAgent[]> {
    return pool(Array.from({ length: count }, (_, i) => `${prefix}${i}`), concurrency, (name) => this.register(name));
  }

  async send(from: BenchAgent, to: string | string[], payload: unknown = "bench", extra: Record<string, unknown> = {}): Promise<{ id: string; ts: string }> {
    const response = await fetch(`${this.url}/messages`, {
      method: "POST",
      headers: { Authorization: `Bearer ${from.apiKey}` },
      body: JSON.stringify({ to, type: "notification", encrypted: false, payload, ...extra }),
    });
    if (response.status !== 201) throw new Error(`send: ${response.status} ${await response.text()}`);
    return (await response.json()) as { id: string; ts: string };
  }

  /** A send whose status the caller judges (the body is read and dropped). */
  async trySend(from: BenchAgent, to: string, payload: unknown, extra: Record<string, unknown> = {}): Promise<number> {
    const response = await fetch(`${this.url}/messages`, {
      method: "POST",
      headers: { Authorization: `Bearer ${from.apiKey}` },
      body: JSON.stringify({ to, type: "notification", encrypted: false, payload, ...extra }),
    });
    await response.arrayBuffer();
    return response.status;
  }

  async inbox(agent: BenchAgent, query: string, signal?: AbortSignal): Promise<{ messages: { id: string; ts: string }[]; newestTs: string | null }> {
    const response = await fetch(`${this.url}/messages?${query}`, {
      headers: { Authorization: `Bearer ${agent.apiKey}` },
      ...(signal ? { signal } : {}),
    });
    if (response.status !== 200) throw new Error(`inbox: ${response.status} ${await response.text()}`);
    return (await response.json()) as { messages: { id: string; ts: string }[]; newestTs: string | null };
  }
}

/** A send body as autocannon sends it. */
export function sendBody(to: string | string[], payload = "benchmark message payload of a typical size, about a hundred bytes long......"): string {
  return JSON.stringify({ to, type: "notification", encrypted: false, payload });
}
