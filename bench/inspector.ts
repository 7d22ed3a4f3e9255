// The relay's workerd seen through wrangler's devtools port (Chrome DevTools Protocol over a
// WebSocket, with the `ws` package): CPU profiles of the Worker and its Durable Objects under
// load, and V8 heap usage before and after a forced collection (to tell a leak from lazy GC).

import { writeFileSync } from "node:fs";
import WebSocket from "ws";

interface Target {
  webSocketDebuggerUrl: string;
  title?: string;
  id?: string;
}

export class Inspector {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();

  private constructor(private readonly socket: WebSocket) {
    socket.on("message", (data) => {
      const message = JSON.parse(String(data)) as { id?: number; result?: unknown; error?: { message: string } };
      if (message.id === undefined) return;
      const waiting = this.pending.get(message.id);
      if (!waiting) return;
      this.pending.delete(message.id);
      if (message.error) waiting.reject(new Error(message.error.message));
      else waiting.resolve(message.result);
    });
  }

  /** Connects to the user Worker's isolate (where the relay's Worker and objects run). */
  static async connect(port: number): Promise<Inspector> {
    const targets = (await (await fetch(`http://127.0.0.1:${port}/json`)).json()) as Target[];
    const target = targets.find((t) => t.webSocketDebuggerUrl.includes("core:user")) ?? targets[0];
    if (!target) throw new Error(`no devtools target on port ${port}`);
    const socket = new WebSocket(target.webSocketDebuggerUrl);
    await new Promise<void>((resolve, reject) => {
      socket.once("open", () => resolve());
      socket.once("error", reject);
    });
    return new Inspector(socket);
  }

  send<T = unknown>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    this.socket.send(JSON.stringify({ id, method, params }));
    return new Promise<T>((resolve, reject) => this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject }));
  }

  /** V8 heap in MiB, optionally after a full collection. */
  async heapMiB(collectFirst: boolean): Promise<{ used: number; total: number }> {
    if (collectFirst) await this.send("HeapProfiler.collectGarbage");
    const usage = await this.send<{ usedSize: number; totalSize: number }>("Runtime.getHeapUsage");
    return { used: usage.usedSize / 2 ** 20, total: usage.totalSize / 2 ** 20 };
  }

  /** Profiles the CPU while `during` runs; writes a .cpuprofile (open it in Chrome DevTools). */
  async cpuProfile<T>(file: string, during: () => Promise<T>): Promise<T> {
    await this.send("Profiler.enable");
    await this.send("Profiler.setSamplingInterval", { interval: 100 });
    await this.send("Profiler.start");
    const result = await during();
    const { profile } = await this.send<{ profile: unknown }>("Profiler.stop");
    writeFileSync(file, JSON.stringify(profile));
    return result;
  }

  close(): void {
    this.socket.close();
  }
}
