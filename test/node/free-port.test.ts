// scripts/local-relay.ts freePort(): a port is only bound some time after it is handed out (a
// relay's port, then its inspector's), and the kernel may hand out a closed port again, so one
// process never gets the same port twice — a relay whose inspector port equals its own fails —
// and the ports come from below the kernel's ephemeral range, so a relay restarted on its port
// does not find it handed to another process's ephemeral socket meanwhile.

import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { expect, test } from "vitest";
import { freePort } from "../../scripts/local-relay.js";

test("freePort answers 300 distinct ports in one process, below the ephemeral range, each free to bind on 127.0.0.1", async () => {
  const ports: number[] = [];
  for (let i = 0; i < 300; i++) ports.push(await freePort());
  expect(new Set(ports).size).toBe(300);
  const low = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
  for (const port of ports) expect(port).toBeLessThan(low);
  const last = ports.at(-1)!;
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(last, "127.0.0.1", () => server.close(() => resolve()));
  });
});
