// Delivery receipts in the CLI (SPEC §11.1): `clawtalk status ID`, and what `send --wait-delivery`
// says about the copies it waited for.

import type { Receipts } from "../protocol/envelope.js";
import { agentSession, UsageError, warn, type Args } from "./cli-config.js";
import { printFields, printJson, printTable } from "./cli-output.js";
import { DELIVERY_GOALS, isSettled, type DeliveryGoal } from "./receipts.js";

/** The longest single long-poll the SDK makes; the CLI's request deadline allows for it. */
export const LONG_POLL_S = 30;

/** `--NAME delivered|acked`, or undefined when not given. */
export function goalOption(args: Args, name: string): DeliveryGoal | undefined {
  const value = args.string(name);
  if (value === undefined) return undefined;
  if (!(DELIVERY_GOALS as readonly string[]).includes(value)) throw new UsageError(`--${name} must be ${DELIVERY_GOALS.join(" or ")}, not "${value}"`);
  return value as DeliveryGoal;
}

export async function statusCommand(args: Args): Promise<number> {
  if (args.positionals.length !== 1) throw new UsageError("give the id of one message this agent sent");
  const id = args.positionals[0]!;
  const wait = args.int("wait");
  const until = goalOption(args, "until");
  const { client } = agentSession(args, { waitSeconds: Math.min(wait ?? 0, LONG_POLL_S) });
  const receipts = await client.receipts(id, { ...(wait === undefined ? {} : { wait }), ...(until === undefined ? {} : { until }) });
  if (args.flag("json")) printJson(receipts);
  else printReceipts(receipts);
  const goal = until ?? "delivered";
  if (wait !== undefined && "recipients" in receipts && !isSettled(receipts, goal)) {
    warn(`not every recipient reached "${goal}" within ${wait} s`);
  }
  return 0;
}

/** A row per recipient; a broadcast's counts as `key: value` lines. */
export function printReceipts(receipts: Receipts): void {
  if (!("recipients" in receipts)) {
    printFields({ id: receipts.id, ts: receipts.ts, ...receipts.broadcast });
    return;
  }
  printTable(
    ["name", "status", "ts", "deliveredAt", "via", "ackedAt"],
    receipts.recipients.map((r) => [
      r.name,
      r.code === undefined ? r.status : `${r.status} (${r.code})`,
      r.ts,
      r.deliveredAt ?? "-",
      r.via ?? "-",
      r.ackedAt ?? "-",
    ]),
  );
}

/** One line: each recipient and its state ("bob acked, carol rejected (INBOX_FULL)"). */
export function receiptsSummary(receipts: Receipts): string {
  if (!("recipients" in receipts)) return Object.entries(receipts.broadcast).map(([key, count]) => `${key} ${count}`).join(", ");
  return receipts.recipients.map((r) => `${r.name} ${r.status}${r.code === undefined ? "" : ` (${r.code})`}`).join(", ");
}
