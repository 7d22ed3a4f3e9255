// One function per CLI command (except `watch`, in cli-watch.ts, and keygen, register and update,
// in cli-registration.ts). Each returns its exit code; failures are thrown and turned into one
// line and an exit code by cli.ts.

import { readFileSync } from "node:fs";
import { nameKey } from "../protocol/names.js";
import { MESSAGE_TYPES, type JsonValue, type MessageType } from "../protocol/envelope.js";
import { ClawTalkError, type SendOptions, type SendResult } from "./client.js";
import { agentSession, describeFailure, UsageError, warn, writeKeyFile, type Args } from "./cli-config.js";
import { printAgents, printDeliveries, printFields, printInbox, printJson, printLines, printRecord } from "./cli-output.js";
import { goalOption, LONG_POLL_S, receiptsSummary } from "./cli-receipts.js";

export async function sendCommand(args: Args): Promise<number> {
  const recipients = args.list("to") ?? [];
  if (recipients.length === 0) throw new UsageError("--to is required");
  const to = recipients.length === 1 ? recipients[0]! : recipients;
  const encrypt = args.flag("encrypt");
  if (encrypt && typeof to === "string" && nameKey(to) === "broadcast") throw new UsageError("a broadcast cannot be encrypted");
  const type = args.string("type") ?? "notification";
  if (!(MESSAGE_TYPES as readonly string[]).includes(type)) throw new UsageError(`--type must be one of ${MESSAGE_TYPES.join(", ")}`);
  const goal = goalOption(args, "wait-delivery");
  const waitTimeout = args.int("wait-timeout", 1);
  if (waitTimeout !== undefined && goal === undefined) throw new UsageError("--wait-timeout needs --wait-delivery");
  if (goal !== undefined && typeof to === "string" && nameKey(to) === "broadcast") {
    throw new UsageError("--wait-delivery needs named recipients: see a broadcast's counts with clawtalk status ID");
  }
  const text = await readPayload(args);
  const payload = args.flag("json-payload") ? parseJsonPayload(text) : text;
  const session = agentSession(args, { waitSeconds: goal === undefined ? 0 : LONG_POLL_S });
  if (encrypt && !session.keyFile) throw new UsageError("--encrypt needs a key file with the agent's keys (clawtalk keygen)");
  const options: SendOptions = { to, payload, type: type as MessageType, encrypt };
  if (goal !== undefined) {
    options.awaitDelivery = goal;
    if (waitTimeout !== undefined) options.awaitTimeoutS = waitTimeout;
  }
  const strings = { topic: "topic", correlationId: "correlation-id", replyTo: "reply-to", id: "id" } as const;
  for (const [field, flag] of Object.entries(strings)) {
    const value = args.string(flag);
    if (value !== undefined) options[field as keyof typeof strings] = value;
  }
  const ttl = args.int("ttl");
  if (ttl !== undefined) options.ttl = ttl;
  let answer: SendResult;
  // Sent, but not every copy got there in time: say what was sent and what is known, then fail.
  let late: ClawTalkError | undefined;
  try {
    answer = await session.client.send(options);
  } catch (error) {
    if (!(error instanceof ClawTalkError && error.code === "DELIVERY_TIMEOUT" && error.body.sent)) throw error;
    late = error;
    answer = { ...error.body.sent, ...(error.body.receipts ? { receipts: error.body.receipts } : {}) };
  }
  if (args.flag("json")) printJson(answer);
  else printLines([answer.id]);
  if (answer.receipts && !late && !args.flag("json")) warn(`waited for "${goal}": ${receiptsSummary(answer.receipts)}`);
  if (args.flag("audit")) {
    try {
      const logged = await session.client.auditSent(options, answer);
      warn(`logged the audit entry${logged.sealed ? ", sealed to the relay's audit key" : " in plaintext (the relay publishes no audit key)"}`);
    } catch (error) {
      warn(`sent ${answer.id}, but the audit entry was not logged: ${describeFailure(error).line}`);
      return 2;
    }
  }
  if (late) throw late;
  if (answer.rejected?.length) {
    warn(`not stored for ${answer.rejected.map((r) => `${r.name} (${r.code})`).join(", ")}; resend with --id ${answer.id} to retry them`);
    return 2;
  }
  return 0;
}

/** The payload: the MESSAGE argument, --file, or stdin when it is not a terminal, taken verbatim. */
async function readPayload(args: Args): Promise<string> {
  const file = args.string("file");
  if (args.positionals.length > 1) throw new UsageError("give the message as one argument (quote it)");
  const message = args.positionals[0];
  if (message !== undefined && file !== undefined) throw new UsageError("give the message either as an argument or with --file, not both");
  if (message !== undefined) return message;
  if (file !== undefined) {
    try {
      return readFileSync(file, "utf8");
    } catch (error) {
      throw new UsageError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
  }
  if (process.stdin.isTTY) throw new UsageError("no message: give MESSAGE, --file F, or pipe it on stdin");
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function parseJsonPayload(text: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    throw new UsageError("--json-payload: the message is not valid JSON");
  }
}

export async function inboxCommand(args: Args): Promise<number> {
  const { client } = agentSession(args);
  const filters = { limit: args.int("limit", 1), after: args.string("after"), topic: args.string("topic"), from: args.string("from") };
  const page = await client.receive({ sort: "asc", ...definedOnly(filters), ...(args.flag("unread") ? { unread: true } : {}) });
  if (args.flag("json")) {
    printJson(page.messages);
    return 0;
  }
  if (page.messages.length === 0) warn(args.flag("unread") ? "no unread messages" : "no messages");
  else printInbox(page.messages);
  if (page.hasMore) warn(`more messages: clawtalk inbox${args.flag("unread") ? " --unread" : ""} --after ${page.newestTs}`);
  return 0;
}

export async function ackCommand(args: Args): Promise<number> {
  if (args.positionals.length === 0) throw new UsageError("give the ids of the messages to ack");
  const { client } = agentSession(args);
  const answer = await client.ack([...args.positionals]);
  if (args.flag("json")) printJson(answer);
  else printLines(answer.deleted.map((id) => `acked ${id}`));
  if (answer.missing.length > 0) warn(`not in the inbox (already acked or expired): ${answer.missing.join(", ")}`);
  return 0;
}

export async function agentsCommand(args: Args): Promise<number> {
  const agents = await agentSession(args).client.discover();
  if (args.flag("json")) printJson(agents);
  else printAgents(agents);
  return 0;
}

export async function whoamiCommand(args: Args): Promise<number> {
  const me = await agentSession(args).client.me();
  if (args.flag("json")) {
    printJson(me);
    return 0;
  }
  printRecord(me);
  return 0;
}

export async function rotateKeyCommand(args: Args): Promise<number> {
  const { client, keyFile, apiKeyFromFile } = agentSession(args);
  const oldKey = client.key;
  const apiKey = await client.rotateKey();
  if (args.flag("json")) printJson({ apiKey });
  else printLines([apiKey]);
  // Update the key file unless it holds another agent's key.
  if (keyFile && (keyFile.data.apiKey === undefined || keyFile.data.apiKey === oldKey)) {
    writeKeyFile(keyFile.path, { ...keyFile.data, apiKey });
    warn(`saved the new API key to ${keyFile.path}; the old one no longer works`);
  } else if (keyFile) {
    warn(`${keyFile.path} holds another API key and was not changed`);
  }
  if (!apiKeyFromFile) warn("the old API key no longer works: update CLAWTALK_API_KEY (or --api-key)");
  return 0;
}

export async function deliveriesCommand(args: Args): Promise<number> {
  const limit = args.int("limit", 1);
  const attempts = await agentSession(args).client.deliveries(limit === undefined ? {} : { limit });
  if (args.flag("json")) printJson(attempts);
  else if (attempts.length === 0) warn("no webhook attempts");
  else printDeliveries(attempts);
  return 0;
}

export async function webhookTestCommand(args: Args): Promise<number> {
  let outcome;
  try {
    outcome = await agentSession(args).client.testWebhook();
  } catch (error) {
    // The relay's sentence names the HTTP route; from the CLI the way is `clawtalk update`.
    if (error instanceof ClawTalkError && error.code === "NOT_FOUND") {
      throw new ClawTalkError(error.status, error.code, "This agent has no webhook URL; set one with: clawtalk update --webhook-url URL", error.body);
    }
    throw error;
  }
  if (args.flag("json")) printJson(outcome);
  else printFields({ ok: outcome.ok, status: outcome.status, latency: `${outcome.latencyMs} ms`, webhookId: outcome.webhookId, error: outcome.error ?? undefined });
  if (!outcome.ok) {
    warn(`the webhook did not accept the test event: ${outcome.error ?? `status ${outcome.status}`}`);
    return 2;
  }
  return 0;
}

function definedOnly<T extends Record<string, unknown>>(fields: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}
