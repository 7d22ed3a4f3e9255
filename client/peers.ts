// Other agents' public keys: the one place the SDK looks a peer's keys up, both to encrypt to it
// (outgoing.ts) and to open and verify what it sent (opening.ts). The directory's answer is kept
// in memory per client, and looked up again when a cached key no longer opens a message.
//
// Pinning (SPEC §12): the first keys used for a peer are pinned (pins.ts). When the directory
// later shows other keys, they are accepted and pinned when the peer's key history leads to them
// from the pinned keys by changes signed with the previous signing key (key-chain.ts); otherwise
// the peer is marked `keyChanged` — its messages are flagged, encryption to it is refused —
// until the user trusts the new keys (`trust`).

import type { AgentPublic, KeyHistoryEntry } from "../protocol/envelope.js";
import { nameKey } from "../protocol/names.js";
import { isSignedSuccession, sameKeys, type PublicKeys } from "./key-chain.js";
import type { PinnedKeys, PinStore } from "./pins.js";
import { ClawTalkError, type RelayHttp } from "./relay-http.js";

export interface PeerKeys extends PublicKeys {
  /** The registered spelling. */
  name: string;
}

/** A peer's directory keys, checked against its pin. */
export interface CheckedPeer extends PeerKeys {
  /**
   * The keys are not the pinned ones and no signed change leads to them: nothing signed by them
   * counts as verified, and nothing is encrypted to them, until `trust(name)`.
   */
  keyChanged: boolean;
  /** The keys trusted for this peer: when `keyChanged`, the ones pinned before the change; null when it has none. */
  pinned: PinnedKeys | null;
}

/** What `trust` did: the keys now pinned, and the pin they replaced. */
export interface TrustedPeer extends PeerKeys {
  previous: PinnedKeys | null;
}

/** The verdict on one set of directory keys; `changedFrom` is the pin they failed to succeed. */
interface Verdict {
  keys: PublicKeys;
  changedFrom: PinnedKeys | null;
}

const keysOnly = (keys: PublicKeys): PublicKeys => ({ publicKey: keys.publicKey, signingKey: keys.signingKey });
const hasKeys = (keys: PublicKeys | null): keys is PublicKeys => keys !== null && (keys.publicKey !== null || keys.signingKey !== null);

export class Peers {
  private readonly known = new Map<string, PeerKeys>();
  private readonly verdicts = new Map<string, Verdict>();

  constructor(
    private readonly http: RelayHttp,
    private readonly pins: PinStore,
  ) {}

  /** All agents (or one), remembering their keys (pinned only once used). */
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
   * A peer's keys, checked against its pin: from memory, or (first time, or `refresh`: it may
   * have changed its keys) from the directory. Null when the directory has no such agent.
   */
  async keysOf(name: string, options: { refresh?: boolean } = {}): Promise<CheckedPeer | null> {
    const peer = await this.directoryKeys(name, options.refresh === true);
    return peer === null ? null : this.check(peer);
  }

  /** Pins the peer's current directory keys, whatever they replace (the user checked them). */
  async trust(name: string): Promise<TrustedPeer> {
    const peer = await this.directoryKeys(name, true);
    if (peer === null) throw new ClawTalkError(404, "NOT_FOUND", `No agent named ${name}; nothing was trusted.`, { names: [name] });
    const key = nameKey(peer.name);
    const previous = await this.pins.get(key);
    await this.pins.set(key, keysOnly(peer));
    this.verdicts.set(key, { keys: keysOnly(peer), changedFrom: null });
    return { ...peer, previous: previous === null ? null : keysOnly(previous) };
  }

  /** This agent's own new keys, after the relay accepted them: known and pinned without asking. */
  async rotated(name: string, keys: PublicKeys): Promise<void> {
    const key = nameKey(name);
    const known = this.known.get(key);
    this.known.set(key, { name: known?.name ?? name, ...keysOnly(keys) });
    await this.pins.set(key, keysOnly(keys));
    this.verdicts.set(key, { keys: keysOnly(keys), changedFrom: null });
  }

  private async directoryKeys(name: string, refresh: boolean): Promise<PeerKeys | null> {
    const cached = this.known.get(nameKey(name));
    if (cached && !refresh) return cached;
    try {
      await this.discover(name);
    } catch (error) {
      if (error instanceof ClawTalkError && error.status === 404) return null;
      throw error;
    }
    return this.known.get(nameKey(name)) ?? null;
  }

  private async check(peer: PeerKeys): Promise<CheckedPeer> {
    const key = nameKey(peer.name);
    const earlier = this.verdicts.get(key);
    const same = earlier !== undefined && sameKeys(earlier.keys, peer);
    if (same && earlier.changedFrom === null) return { ...peer, keyChanged: false, pinned: hasKeys(peer) ? keysOnly(peer) : null };
    const pinned = await this.pins.get(key);
    // Still the same unconfirmed change, with the same pin: no need to read the history again.
    if (same && earlier.changedFrom !== null && pinned !== null && sameKeys(pinned, earlier.changedFrom)) {
      return { ...peer, keyChanged: true, pinned: earlier.changedFrom };
    }
    let changedFrom: PinnedKeys | null = null;
    // First use: an agent without keys has nothing to pin yet; its first keys are pinned as seen.
    if (!hasKeys(pinned)) {
      if (hasKeys(peer)) await this.pins.set(key, keysOnly(peer));
    } else if (!sameKeys(pinned, peer)) {
      if (isSignedSuccession(peer.name, await this.history(peer.name), pinned, peer)) await this.pins.set(key, keysOnly(peer));
      else changedFrom = keysOnly(pinned);
    }
    this.verdicts.set(key, { keys: keysOnly(peer), changedFrom });
    if (changedFrom !== null) return { ...peer, keyChanged: true, pinned: changedFrom };
    return { ...peer, keyChanged: false, pinned: hasKeys(peer) ? keysOnly(peer) : null };
  }

  /** GET /agents/:name/keys; an agent gone meanwhile has no history that could confirm anything. */
  private async history(name: string): Promise<KeyHistoryEntry[]> {
    try {
      return await this.http.request<KeyHistoryEntry[]>("GET", `/agents/${encodeURIComponent(name)}/keys`);
    } catch (error) {
      if (error instanceof ClawTalkError && error.status === 404) return [];
      throw error;
    }
  }

  private remember(agent: AgentPublic): void {
    this.known.set(nameKey(agent.name), { name: agent.name, publicKey: agent.publicKey, signingKey: agent.signingKey });
  }
}

/** A send refused before anything was sent: encrypting to an agent whose keys changed unconfirmed (`keyChanged`). */
export class KeyChangedError extends ClawTalkError {
  constructor(readonly names: string[]) {
    const [first] = names;
    const who = names.length === 1 ? `${first}'s keys` : `The keys of ${names.join(", ")}`;
    super(
      409,
      "KEY_CHANGED",
      `${who} changed since they were pinned, and not by a change signed with the pinned key, so nothing was encrypted to them and nothing was sent. ` +
        `Check with the agent's owner that the new keys are real, then trust them: clawtalk trust ${first} (SDK: client.trust("${first}")).`,
      { names },
    );
    this.name = "KeyChangedError";
  }
}
