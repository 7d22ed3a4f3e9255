// Every key an agent has had (SPEC §12), in the Directory's storage: registration is the first
// entry, then each change of publicKey or signingKey — by the agent itself, signed with its
// previous signing key when it had one, or by the admin, unsigned. Clients pin a sender's keys and
// check a change against this history (client/peers.ts).

import nacl from "tweetnacl";
import { decodeBase64 } from "../protocol/base64.js";
import { canonicalJson } from "../protocol/canonical.js";
import { keyChangeStatement, type KeyHistoryEntry } from "../protocol/envelope.js";
import { isoTime } from "../protocol/time.js";

export type ChangedBy = KeyHistoryEntry["by"];

export interface Keys {
  publicKey: string | null;
  signingKey: string | null;
}

type Row = Record<string, SqlStorageValue>;

export class KeyHistory {
  constructor(private readonly sql: SqlStorage) {}

  record(agent: string, keys: Keys, by: ChangedBy, since: number, signature: string | null = null): void {
    this.sql.exec(
      "INSERT INTO key_history (agent, public_key, signing_key, since, by, signature) VALUES (?, ?, ?, ?, ?, ?)",
      agent, keys.publicKey, keys.signingKey, since, by, signature,
    );
  }

  list(agent: string): KeyHistoryEntry[] {
    return this.sql
      .exec<Row>("SELECT public_key, signing_key, since, by, signature FROM key_history WHERE agent = ? ORDER BY seq", agent)
      .toArray()
      .map((row) => ({
        publicKey: (row.public_key as string | null) ?? null,
        signingKey: (row.signing_key as string | null) ?? null,
        since: isoTime(row.since as number),
        by: row.by as ChangedBy,
        ...(row.signature === null ? {} : { signature: row.signature as string }),
      }));
  }

  /** Removes the agent's latest entry (a change that was undone). */
  forgetLast(agent: string): void {
    this.sql.exec("DELETE FROM key_history WHERE seq = (SELECT MAX(seq) FROM key_history WHERE agent = ?)", agent);
  }

  forget(agent: string): void {
    this.sql.exec("DELETE FROM key_history WHERE agent = ?", agent);
  }

  /** Agents registered before key history existed start theirs with their keys as registered now. */
  backfill(): void {
    this.sql.exec(
      `INSERT INTO key_history (agent, public_key, signing_key, since, by)
       SELECT key, public_key, signing_key, created_at, 'registration' FROM agents
       WHERE key NOT IN (SELECT agent FROM key_history)`,
    );
  }
}

/**
 * Why an agent's own change of its keys to `next` is refused (SPEC §12), or null: it had a signing
 * key, so `signature` must be that key's Ed25519 signature over the canonical JSON of the change
 * statement for its registered `name` and the keys it will have.
 */
export function keyChangeProblem(name: string, previousSigningKey: string, next: Keys, signature: string | undefined): string | null {
  const expected =
    `expected a base64 Ed25519 signature by the current signingKey over the canonical JSON of ` +
    `{"name":${JSON.stringify(name)},"publicKey":…,"signingKey":…,"type":"clawtalk-key-change"} with the new keys (null for none)`;
  if (signature === undefined) return `keyChangeSignature: required to change publicKey or signingKey; ${expected}.`;
  const signatureBytes = decodeBase64(signature);
  const publicKey = decodeBase64(previousSigningKey);
  if (signatureBytes?.length !== 64 || publicKey?.length !== 32) return `keyChangeSignature: not a 64-byte signature; ${expected}.`;
  const statement = new TextEncoder().encode(canonicalJson(keyChangeStatement(name, next.publicKey, next.signingKey)));
  return nacl.sign.detached.verify(statement, signatureBytes, publicKey) ? null : `keyChangeSignature: does not verify; ${expected}.`;
}
