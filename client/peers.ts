// Other agents' public keys, as the directory publishes them: the one place the SDK looks a peer's
// keys up, both to encrypt to it (outgoing.ts) and to open and verify what it sent (opening.ts).
// Kept in memory per client; looked up again when a cached key no longer opens a message.

import type { AgentPublic } from "../protocol/envelope.js";
import { nameKey } from "../protocol/names.js";
import { ClawTalkError, type RelayHttp } from "./relay-http.js";

export interface PeerKeys {
  /** The registered spelling. */
  name: string;
  /** X25519, base64: what messages to this peer are encrypted to. */
  publicKey: string | null;
  /** Ed25519, base64: what this peer's signatures are checked with. */
  signingKey: string | null;
}

export class Peers {
  private readonly known = new Map<string, PeerKeys>();

  constructor(private readonly http: RelayHttp) {}

  /** All agents (or one), remembering their keys. */
  async discover(): Promise<AgentPublic[]>;
  async discover(name: string): Promise<AgentPublic>;
  async discover(name?: string): Promise<AgentPublic | AgentPublic[]> {
    if (name === undefined) {
      const agents = await this.http.request<AgentPublic[]>("GET", "/agents");
      agents.forEach((agent) => this.remember(agent));
      return agents;
    }
    const agent = await this.http.request<AgentPublic>("GET", `/agents/${encodeURIComponent(name)}`);
    this.remember(agent);
    return agent;
  }

  /**
   * A peer's keys: from memory, or (first time, or `refresh`: it may have changed its keys) from
   * the directory. Null when the directory has no such agent.
   */
  async keysOf(name: string, options: { refresh?: boolean } = {}): Promise<PeerKeys | null> {
    const cached = this.known.get(nameKey(name));
    if (cached && !options.refresh) return cached;
    try {
      await this.discover(name);
    } catch (error) {
      if (error instanceof ClawTalkError && error.status === 404) return null;
      throw error;
    }
    return this.known.get(nameKey(name)) ?? null;
  }

  private remember(agent: AgentPublic): void {
    this.known.set(nameKey(agent.name), { name: agent.name, publicKey: agent.publicKey, signingKey: agent.signingKey });
  }
}
