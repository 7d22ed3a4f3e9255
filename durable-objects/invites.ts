// Invite codes, in the Directory's storage: an invite lets an agent register itself
// (POST /register) up to `maxUses` times before it expires. A registration checks and uses its
// invite in the same synchronous step as it inserts the agent (directory.ts), so `maxUses` holds
// under races.

import type { Invite, InviteRequest } from "../protocol/envelope.js";
import { failures, type Failure } from "../protocol/errors.js";
import { isoTime } from "../protocol/time.js";
import { newInviteCode } from "./credentials.js";
import { migrate } from "./schema.js";

const STEPS = [
  `CREATE TABLE IF NOT EXISTS invites (
     code TEXT PRIMARY KEY,
     label TEXT,
     max_uses INTEGER NOT NULL,
     uses INTEGER NOT NULL DEFAULT 0,
     created_at INTEGER NOT NULL,
     expires_at INTEGER
   );`,
];

type Row = Record<string, SqlStorageValue>;

function toInvite(row: Row): Invite {
  const expiresAt = row.expires_at as number | null;
  return {
    code: row.code as string,
    label: (row.label as string | null) ?? null,
    maxUses: row.max_uses as number,
    uses: row.uses as number,
    createdAt: isoTime(row.created_at as number),
    expiresAt: expiresAt === null ? null : isoTime(expiresAt),
  };
}

export class Invites {
  constructor(private readonly sql: SqlStorage) {
    migrate(sql, "invites", STEPS);
  }

  /** Why `code` cannot register an agent now, or null when it can. */
  refusal(code: string, now: number): Failure | null {
    const row = this.sql.exec<Row>("SELECT expires_at, uses, max_uses FROM invites WHERE code = ?", code).toArray()[0];
    if (!row) return failures.inviteUnknown;
    const expiresAt = row.expires_at as number | null;
    if (expiresAt !== null && expiresAt <= now) return failures.inviteExpired;
    if ((row.uses as number) >= (row.max_uses as number)) return failures.inviteUsedUp;
    return null;
  }

  /** Counts one use (`by` = -1 gives it back, when the registration it served was undone). */
  use(code: string, by: 1 | -1 = 1): void {
    this.sql.exec("UPDATE invites SET uses = uses + ? WHERE code = ?", by, code);
  }

  create(request: InviteRequest, now: number): Invite {
    const code = newInviteCode();
    const expiresAt = request.expiresInHours === undefined ? null : now + request.expiresInHours * 3600_000;
    this.sql.exec(
      "INSERT INTO invites (code, label, max_uses, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
      code, request.label ?? null, request.maxUses ?? 1, now, expiresAt,
    );
    return toInvite(this.sql.exec<Row>("SELECT * FROM invites WHERE code = ?", code).one());
  }

  list(): Invite[] {
    return this.sql.exec<Row>("SELECT * FROM invites ORDER BY created_at DESC").toArray().map(toInvite);
  }

  delete(code: string): boolean {
    return this.sql.exec("DELETE FROM invites WHERE code = ? RETURNING code", code).toArray().length > 0;
  }
}
