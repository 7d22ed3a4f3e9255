// The local MCP server's backend (SPEC §11.2): the tools of protocol/mcp/tools.ts over the SDK,
// which holds the agent's keys, so every send is encrypted and signed by default and every
// message is decrypted and verified here. The relay still sees only ciphertext.

import type { AgentPublic } from "../../protocol/envelope.js";
import { failures } from "../../protocol/errors.js";
import { NAME_PATTERN, nameKey } from "../../protocol/names.js";
import type { InboxRequest, OutgoingToolMessage, Receipts, ToolBackend, ToolFailure } from "../../protocol/mcp/tools.js";
import { ToolInputError } from "../../protocol/mcp/tools.js";
import { UsageError } from "../cli-config.js";
import { ClawTalkClient, ClawTalkError } from "../client.js";
import type { PendingMessages } from "./push.js";

/** What the server acts as: a client with the agent's keys, and where it came from. */
export interface LocalAgent {
  client: ClawTalkClient;
  relay: string;
  /** The key file's X25519 public key: what the directory must hold for others to read us. */
  publicKey: string;
  keyFile: string;
}

/** Longest long-poll asked of the relay in one request (the relay clamps to LONGPOLL_MAX_S anyway). */
const POLL_S = 30;

export class LocalBackend implements ToolBackend {
  readonly kind = "local";
  readonly maxWaitS = 600;
  private agent: LocalAgent | null = null;
  private registeredPublicKey: string | null | undefined;
  /** With --push: unread messages come from the poller's queue (push.ts), not from the relay. */
  private queue: PendingMessages | null = null;

  /** `open` reads the key file; it is tried again on every call until it works (a key file made after the host started the server). */
  constructor(private readonly open: () => LocalAgent) {}

  private get current(): LocalAgent {
    this.agent ??= this.open();
    return this.agent;
  }

  private get client(): ClawTalkClient {
    return this.current.client;
  }

  /** Who the server acts as, for its start-up line on stderr (throws what is wrong with the configuration). */
  describeSelf(): string {
    return `serving ${this.current.keyFile} against ${this.current.relay}`;
  }

  useQueue(queue: PendingMessages): void {
    this.queue = queue;
  }

  /** One long-poll for unread messages into the queue (push.ts); answers how many were new. */
  async pull(queue: PendingMessages, signal: AbortSignal): Promise<number> {
    const page = await this.client.receive({ sort: "asc", limit: 50, unread: true, via: "mcp", wait: POLL_S, signal });
    return queue.add(page.messages);
  }

  /** Whether the directory holds this key file's publicKey: otherwise nobody could decrypt what we encrypt. */
  private async canEncrypt(): Promise<boolean> {
    if (this.registeredPublicKey === undefined) this.registeredPublicKey = (await this.client.me()).publicKey;
    return this.registeredPublicKey === this.current.publicKey;
  }

  async whoami() {
    this.registeredPublicKey = undefined;
    const me = await this.client.me();
    this.registeredPublicKey = me.publicKey;
    return { name: me.name, relay: this.current.relay, canEncrypt: me.publicKey === this.current.publicKey };
  }

  agents(): Promise<AgentPublic[]> {
    return this.client.discover();
  }

  async send(message: OutgoingToolMessage) {
    const broadcast = typeof message.to === "string" && nameKey(message.to) === "broadcast";
    if (broadcast && message.encrypt === true) {
      throw new ToolInputError("BAD_REQUEST", "A broadcast cannot be encrypted (there is no single recipient key); send it with encrypt: false, or name the recipients.");
    }
    let encrypt = message.encrypt;
    if (encrypt === undefined) encrypt = !broadcast && (await this.everyoneCanDecrypt(message.to)) && (await this.canEncrypt());
    else if (encrypt) await this.checkCanEncrypt(message.to);
    const { encrypt: _asked, payload, ...fields } = message;
    const sent = await this.client.send({ ...fields, payload, encrypt });
    return { ...sent, encrypted: encrypt };
  }

  /** Every recipient has a publicKey; an unknown one fails the send here, as the relay would. */
  private async everyoneCanDecrypt(to: string | string[]): Promise<boolean> {
    const keys = await this.recipientKeys(to);
    return keys.every((agent) => agent.publicKey !== null);
  }

  private async checkCanEncrypt(to: string | string[]): Promise<void> {
    if (!(await this.canEncrypt())) {
      throw new ToolInputError("CANNOT_ENCRYPT", `The relay does not hold the publicKey of ${this.current.keyFile}, so recipients could not decrypt; register the agent with this key file (clawtalk register), or send with encrypt: false.`);
    }
    const without = (await this.recipientKeys(to)).filter((agent) => agent.publicKey === null).map((agent) => agent.name);
    if (without.length > 0) throw new ToolInputError("CANNOT_ENCRYPT", `${without.join(", ")} registered no publicKey and cannot decrypt; send with encrypt: false, or leave encrypt out.`);
  }

  /** The recipients' records (so their keys are cached for the send); unknown names fail as the relay words it. */
  private async recipientKeys(to: string | string[]): Promise<AgentPublic[]> {
    const names = Array.isArray(to) ? to : [to];
    // As the relay words it (worker/schemas.ts), before any name is looked up.
    const bad = names.find((name) => !NAME_PATTERN.test(name));
    if (bad !== undefined) throw new ToolInputError("BAD_REQUEST", `to: "${bad}" is not an agent name.`);
    const all = names.length === 1 ? null : new Map((await this.client.discover()).map((agent) => [nameKey(agent.name), agent]));
    const found: AgentPublic[] = [];
    const unknown: string[] = [];
    for (const name of names) {
      const agent = all ? all.get(nameKey(name)) : await this.lookUp(name);
      if (agent) found.push(agent);
      else unknown.push(name);
    }
    if (unknown.length > 0) {
      const failure = failures.unknownRecipients(unknown);
      throw new ClawTalkError(404, failure.fail, failure.message, { names: unknown });
    }
    return found;
  }

  private async lookUp(name: string): Promise<AgentPublic | undefined> {
    try {
      return await this.client.discover(name);
    } catch (error) {
      if (error instanceof ClawTalkError && error.status === 404) return undefined;
      throw error;
    }
  }

  async inbox(request: InboxRequest) {
    if (this.queue && request.unread) return this.queue.take(request);
    const page = await this.client.receive({
      sort: "asc",
      limit: request.limit,
      unread: request.unread,
      via: "mcp",
      ...(request.topic === undefined ? {} : { topic: request.topic }),
      ...(request.from === undefined ? {} : { from: request.from }),
      ...(request.waitS > 0 ? { wait: Math.min(request.waitS, POLL_S) } : {}),
      ...(request.signal ? { signal: request.signal } : {}),
    });
    this.queue?.drop(page.messages);
    return { messages: page.messages, hasMore: page.hasMore };
  }

  ack(ids: string[]) {
    return this.client.ack(ids);
  }

  receipts(id: string, waitS: number, until: "delivered" | "acked" | undefined): Promise<Receipts> {
    return this.client.receipts(id, { ...(waitS > 0 ? { wait: waitS } : {}), ...(until ? { until } : {}) });
  }

  describeError(error: unknown): ToolFailure {
    return describeLocalError(error, this.agent);
  }
}

/** A failure of the local server in the words a tool error uses: the relay's code and sentence, or what went wrong here. */
export function describeLocalError(error: unknown, agent: LocalAgent | null): ToolFailure {
  const relay = agent?.relay ?? "the relay";
  if (error instanceof ClawTalkError) {
    const retryAfter = typeof error.body.retryAfter === "number" ? { retryAfter: error.body.retryAfter } : {};
    const hint = error.status === 401 && agent ? ` The API key in ${agent.keyFile} was refused by ${relay}: register the agent again (clawtalk register NAME) or point the server at the right key file.` : "";
    return { code: error.code, message: `${error.message}${hint}`, ...retryAfter };
  }
  if (error instanceof UsageError) return { code: "CONFIGURATION", message: error.message };
  if (error instanceof Error && error.name === "TimeoutError") return { code: "TIMEOUT", message: `The relay at ${relay} did not answer in time.` };
  if (error instanceof Error && error.name === "AbortError") return { code: "CANCELLED", message: "The call was cancelled." };
  if (error instanceof TypeError && error.message === "fetch failed") {
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : "";
    return { code: "NETWORK_ERROR", message: `Cannot reach the relay at ${relay}${cause}; is it running?` };
  }
  return { code: "CLIENT_ERROR", message: error instanceof Error ? error.message : String(error) };
}
