// The relay's MCP endpoint backend (SPEC §11.3): the tools of protocol/mcp/tools.ts over the same
// functions the HTTP routes use, so rate limits, auth, delivery marking and receipts behave exactly
// as over plain HTTP. The relay holds no private keys: sends are plaintext only, an encrypted
// message is listed with no text, and signatures (public keys only) are checked here.

import type { Envelope, SendRequest } from "../protocol/envelope.js";
import { describeError, failures, RelayError } from "../protocol/errors.js";
import type { InboxRequest, OpenedMessage, OutgoingToolMessage, Receipts, ToolBackend, ToolFailure } from "../protocol/mcp/tools.js";
import type { AgentCaller } from "./auth.js";
import type { RouteContext } from "./router.js";
import { agentList } from "./routes/agents.js";
import { ackMessages, inboxPage, senderReceipts } from "./routes/messages.js";
import { sendMessage } from "./routes/send.js";
import { bodies, validate } from "./schemas.js";
import { checkSignature } from "./signatures.js";

export class RemoteBackend implements ToolBackend {
  readonly kind = "remote";
  readonly maxWaitS: number;
  private readonly caller: AgentCaller;

  constructor(private readonly c: RouteContext<"agent", unknown>) {
    this.caller = c.caller;
    this.maxWaitS = c.limits.longpollMaxS;
  }

  async whoami() {
    return { name: this.caller.name, relay: this.c.url.origin, canEncrypt: false };
  }

  agents() {
    return agentList(this.c);
  }

  async send(message: OutgoingToolMessage) {
    if (message.encrypt === true) throw new RelayError(failures.remoteCannotEncrypt);
    const { encrypt: _asked, ...fields } = message;
    // The same validation as POST /messages, so a bad field gets the same 400 sentence.
    const body = validate<SendRequest>(bodies.send(this.c.limits), { ...fields, encrypted: false });
    const sent = await sendMessage(this.c, body, null);
    return { ...sent.answer, encrypted: false };
  }

  async inbox(request: InboxRequest) {
    const params = new URLSearchParams({ sort: "asc", limit: String(request.limit), via: "mcp" });
    if (request.unread) params.set("unread", "true");
    if (request.topic !== undefined) params.set("topic", request.topic);
    if (request.from !== undefined) params.set("from", request.from);
    if (request.waitS > 0) params.set("wait", String(request.waitS));
    const page = await inboxPage(this.c, this.caller, params);
    const messages: OpenedMessage[] = [];
    for (const stored of page.messages) messages.push(await this.open(JSON.parse(stored) as Envelope));
    return { messages, hasMore: page.hasMore };
  }

  /** A stored envelope as the tools show it: plaintext as is, encrypted without text. */
  private async open(envelope: Envelope): Promise<OpenedMessage> {
    const check = await checkSignature(this.c.env, envelope);
    return { ...envelope, ...(envelope.encrypted ? {} : { plaintext: envelope.payload }), ...check };
  }

  ack(ids: string[]) {
    const checked = validate(bodies.ack(this.c.limits), { ids });
    return ackMessages(this.c, this.caller, checked.ids);
  }

  receipts(id: string, waitS: number, until: "delivered" | "acked" | undefined): Promise<Receipts> {
    const params = new URLSearchParams();
    if (waitS > 0) params.set("wait", String(waitS));
    if (until !== undefined) params.set("until", until);
    return senderReceipts(this.c, this.caller, id, params);
  }

  describeError(error: unknown): ToolFailure {
    if (error instanceof RelayError) {
      const { fail, message, retryAfter } = error.failure;
      return { code: fail, message, ...(retryAfter === undefined ? {} : { retryAfter }) };
    }
    // As for any request: logged with the request id, never shown beyond it.
    console.error(`request ${this.c.requestId}: MCP tool failed: ${describeError(error)}`);
    const internal = failures.internal(this.c.requestId);
    return { code: internal.fail, message: internal.message };
  }
}
