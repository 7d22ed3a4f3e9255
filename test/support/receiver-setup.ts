// vitest globalSetup for the `delivery` project: one webhook receiver for the run; tests reach it
// at 127.0.0.1:<inject("receiverPort")>.

import type { TestProject } from "vitest/node";
import { startReceiver } from "./receiver.js";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const receiver = await startReceiver();
  project.provide("receiverPort", receiver.port);
  return () => receiver.close();
}
