// Where a client keeps the keys it pinned for each peer (SPEC §12 "Key pinning in the clients"):
// the first keys it saw an agent use, replaced only by a change that agent signed with them, or
// by the user trusting the new keys. The SDK keeps pins in memory unless given a store; the CLI
// and the MCP server keep them in a file beside the key file (cli-pins.ts).

import type { PublicKeys } from "./key-chain.js";

/** The keys pinned for one peer. */
export type PinnedKeys = PublicKeys;

/**
 * A pin store, by the peer's name in lower case. `get` is asked again whenever a peer's keys do
 * not match its pin, so a pin another process changed (`clawtalk trust NAME`) takes effect.
 */
export interface PinStore {
  get(name: string): Promise<PinnedKeys | null> | PinnedKeys | null;
  set(name: string, keys: PinnedKeys): Promise<void> | void;
}

/** Pins for the life of the client only: every run trusts the keys it sees first. */
export function memoryPins(): PinStore {
  const pins = new Map<string, PinnedKeys>();
  return {
    get: (name) => pins.get(name) ?? null,
    set: (name, keys) => {
      pins.set(name, { publicKey: keys.publicKey, signingKey: keys.signingKey });
    },
  };
}
