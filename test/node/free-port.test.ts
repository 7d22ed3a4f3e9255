// scripts/local-relay.ts freePort(): a port is only bound some time after it is handed out (a
// relay's port, then its inspector's), and the kernel may hand out a closed port again, so one
// process never gets the same port twice — a relay whose inspector port equals its own fails.

import { createServer } from "node:net";
import { expect, test } from "vitest";
import { freePort } from "../../scripts/local-relay.js";

test("freePort answers 300 distinct ports in one process, each free to bind on 127.0.0.1", async () => {
  const ports: number[] = [];
  for (let i = 0; i < 300; i++) ports.push(await freePort());
  expect(new Set(ports).size).toBe(300);
  const last = ports.at(-1)!;
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(last, "127.0.0.1", () => server.close(() => resolve()));
  });
});
