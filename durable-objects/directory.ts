// The Directory: one object for the whole relay, the source of truth for agent records, API-key
// hashes, invites and name uniqueness (the one writer of names). It is not on the hot path: the
// Worker authenticates from caches (worker/identity.ts) and each agent's Inbox checks the key
// itself, so the Directory is asked only on a cache miss, for record reads and for record
// changes; presence lives in the presence shards (presence.ts). Its meter counts every request,
// so /admin/stats and the bench show what still reaches it.
//
// Every record change bumps a relay-wide sequence and pushes the agent's settings, stamped with
// it, to the agent's Inbox; the Inbox keeps only the newest, so concurrent changes (which may
// interleave while a push is awaited) cannot leave an older setting behind.

import { DurableObject } from "cloudflare:workers";
import type { AgentPatch, Invite, InviteRequest, KeyHistoryEntry, RegisterRequest } from "../protocol/envelope.js";
import { describeError, failures, type Failure } from "../protocol/errors.js";
import { readLimits, type Limits } from "../protocol/limits.js";
import { lookalikeForm, nameKey } from "../protocol/names.js";
import { isoTime } from "../protocol/time.js";
import { newApiKey, newWebhookSecret } from "./credentials.js";
import { Invites } from "./invites.js";
import { KeyHistory, keyChangeProblem, type ChangedBy, type Keys } from "./key-history.js";
import { AGENT_STEPS, backfillLookalikes, insertRow, namesOf, nextVersion, patchColumns, toConfig, toRecord, type AgentRecord, type Row } from "./agent-rows.js";
import { RequestMeter, type MeterReading } from "./request-meter.js";
import { migrate } from "./schema.js";
import { inboxStub } from "./stubs.js";

export interface Registered {
  record: AgentRecord;
  apiKey: string;
  keyHash: string;
  webhookSecret: string;
}

export class DirectoryObject extends DurableObject<Env> {
  private readonly limits: Limits;
  private readonly sql: SqlStorage;
  private readonly invites: Invites;
  private readonly keys: KeyHistory;
  private readonly meter = new RequestMeter();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.limits = readLimits(env);
    this.sql = ctx.storage.sql;
    migrate(this.sql, "agents", AGENT_STEPS);
    this.invites = new Invites(this.sql);
    this.keys = new KeyHistory(this.sql);
    // Agents registered before these columns existed: their look-alike form and first key entry.
    backfillLookalikes(this.sql);
    this.keys.backfill();
  }

  // ---- Lookups (cache misses of the Worker) ----

  /** The agent holding this key hash, if any. */
  async authenticate(keyHash: string): Promise<string | null> {
    this.meter.count();
    const row = this.sql.exec<{ name: string }>("SELECT name FROM agents WHERE key_hash = ?", keyHash).toArray()[0];
    return row?.name ?? null;
  }

  /** Registered spellings of those name keys that exist. */
  async resolve(keys: string[]): Promise<Record<string, string>> {
    this.meter.count();
    return namesOf(this.sql, keys);
  }

  async get(key: string): Promise<AgentRecord | null> {
    this.meter.count();
    return this.record(key);
  }

  async list(): Promise<AgentRecord[]> {
    this.meter.count();
    return this.sql.exec<Row>("SELECT * FROM agents ORDER BY key").toArray().map(toRecord);
  }

  async count(): Promise<number> {
    this.meter.count();
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM agents").one().n;
  }

  /** One page of agents (name key and registered spelling) in key order, for a broadcast's fan-out. */
  async namesAfter(cursor: string, limit: number): Promise<{ keys: string[]; names: string[]; done: boolean }> {
    this.meter.count();
    const rows = this.sql
      .exec<{ key: string; name: string }>("SELECT key, name FROM agents WHERE key > ? ORDER BY key LIMIT ?", cursor, limit + 1)
      .toArray();
    const page = rows.slice(0, limit);
    return { keys: page.map((row) => row.key), names: page.map((row) => row.name), done: rows.length <= limit };
  }

  async meterReading(): Promise<MeterReading> {
    return this.meter.reading();
  }

  // ---- Record changes ----

  /** Registers an agent (with an invite code for self-registration). */
  async register(request: RegisterRequest, invite?: string): Promise<Registered | Failure> {
    this.meter.count();
    const { apiKey, keyHash } = await newApiKey();
    const webhookSecret = newWebhookSecret();
    const key = nameKey(request.name);
    const now = Date.now();
    // Check and insert in one synchronous step: no other request runs in between, so of two
    // racing registrations of one name, or of invite uses, exactly the allowed ones succeed.
    const refused = this.ctx.storage.transactionSync((): Failure | null => {
      const inviteRefused = invite === undefined ? null : this.invites.refusal(invite, now);
      if (inviteRefused) return inviteRefused;
      if (this.sql.exec("SELECT 1 FROM agents WHERE key = ?", key).toArray().length > 0) {
        return failures.nameTaken(request.name);
      }
      // A name that could pass for an existing one (aIice beside alice) is refused too (SPEC §12).
      const lookalike = lookalikeForm(request.name);
      const twin = this.sql.exec<{ name: string }>("SELECT name FROM agents WHERE lookalike = ? LIMIT 1", lookalike).toArray()[0];
      if (twin) return failures.nameLooksLike(request.name, twin.name);
      if (invite !== undefined) this.invites.use(invite);
      this.sql.exec(
        `INSERT INTO agents (key, name, owner, public_key, signing_key, capabilities, webhook_url, webhook_secret,
           key_hash, created_at, version, lookalike) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        key, request.name, request.owner ?? null, request.publicKey ?? null, request.signingKey ?? null,
        JSON.stringify(request.capabilities ?? []), request.webhookUrl ?? null, webhookSecret, keyHash, now, this.nextVersion(), lookalike,
      );
      this.keys.record(key, { publicKey: request.publicKey ?? null, signingKey: request.signingKey ?? null }, "registration", now);
      return null;
    });
    if (refused) return refused;
    try {
      await this.pushConfig(key);
    } catch (error) {
      // Without its inbox the agent could not be used: undo, so a retry can register the name, and
      // say so with a 503 (a local workerd that opened thousands of objects at once has failed
      // here with SQLITE_NOMEM; the next attempt succeeded).
      this.sql.exec("DELETE FROM agents WHERE key = ? AND key_hash = ?", key, keyHash);
      this.keys.forget(key);
      if (invite !== undefined) this.invites.use(invite, -1);
      console.error(`register: the inbox of ${request.name} could not be reached: ${describeError(error)}`);
      return failures.agentInboxUnavailable(request.name);
    }
    return { record: this.record(key)!, apiKey, keyHash, webhookSecret };
  }

  /** Changes an agent's record; `by` is who asks (an agent changing its keys must sign the change). */
  async update(key: string, patch: AgentPatch, by: Exclude<ChangedBy, "registration">): Promise<{ record: AgentRecord; webhookSecret?: string } | Failure> {
    this.meter.count();
    const row = this.sql.exec<Row>("SELECT * FROM agents WHERE key = ?", key).toArray()[0];
    if (!row) return failures.noSuchAgent;
    const current: Keys = { publicKey: (row.public_key as string | null) ?? null, signingKey: (row.signing_key as string | null) ?? null };
    const next: Keys = { publicKey: patch.publicKey ?? current.publicKey, signingKey: patch.signingKey ?? current.signingKey };
    const keysChange = next.publicKey !== current.publicKey || next.signingKey !== current.signingKey;
    if (keysChange && by === "agent" && current.signingKey !== null) {
      const problem = keyChangeProblem(row.name as string, current.signingKey, next, patch.keyChangeSignature);
      if (problem !== null) return failures.badRequest(problem);
    }
    const { changes, webhookSecret } = patchColumns(row, patch);
    const columns = Object.keys(changes);
    if (columns.length > 0) {
      this.ctx.storage.transactionSync(() => {
        this.sql.exec(`UPDATE agents SET ${columns.map((c) => `${c} = ?`).join(", ")}, version = ? WHERE key = ?`, ...Object.values(changes), this.nextVersion(), key);
        if (keysChange) this.keys.record(key, next, by, Date.now(), by === "agent" ? (patch.keyChangeSignature ?? null) : null);
      });
      const refused = await this.pushOrUndo(key, row, changes, keysChange ? () => this.keys.forgetLast(key) : undefined);
      if (refused) return refused;
    }
    const record = this.record(key)!;
    return webhookSecret === undefined ? { record } : { record, webhookSecret };
  }

  /** A new API key; the inbox refuses the old one as soon as this returns. */
  async rotateKey(key: string): Promise<{ apiKey: string; keyHash: string; oldKeyHash: string } | Failure> {
    this.meter.count();
    const { apiKey, keyHash } = await newApiKey();
    const row = this.sql.exec<Row>("SELECT * FROM agents WHERE key = ?", key).toArray()[0];
    if (!row) return failures.noSuchAgent;
    this.sql.exec("UPDATE agents SET key_hash = ?, version = ? WHERE key = ?", keyHash, this.nextVersion(), key);
    // Undone if the inbox cannot take it: it would go on accepting the old key and refuse the new one.
    const refused = await this.pushOrUndo(key, row, { key_hash: keyHash });
    return refused ?? { apiKey, keyHash, oldKeyHash: row.key_hash as string };
  }

  /** A new webhook secret; the previous one keeps signing beside it for the overlap period. */
  async rotateWebhookSecret(key: string): Promise<{ webhookSecret: string; previousSecretValidUntil: string } | Failure> {
    this.meter.count();
    const row = this.sql.exec<Row>("SELECT * FROM agents WHERE key = ?", key).toArray()[0];
    if (!row) return failures.noSuchAgent;
    const webhookSecret = newWebhookSecret();
    const until = Date.now() + this.limits.webhookSecretOverlapS * 1000;
    this.sql.exec(
      "UPDATE agents SET webhook_secret = ?, previous_secret = ?, previous_secret_until = ?, version = ? WHERE key = ?",
      webhookSecret, row.webhook_secret, until, this.nextVersion(), key,
    );
    const refused = await this.pushOrUndo(key, row, { webhook_secret: webhookSecret, previous_secret: row.webhook_secret ?? null, previous_secret_until: until });
    return refused ?? { webhookSecret, previousSecretValidUntil: isoTime(until) };
  }

  /** The agent's endpoint answered 410 Gone: its webhook is off until a URL is set again. */
  async disableWebhook(key: string, reason: string): Promise<void> {
    this.meter.count();
    const changed = this.sql
      .exec("UPDATE agents SET webhook_disabled = ?, version = ? WHERE key = ? AND webhook_url IS NOT NULL RETURNING key", reason, this.nextVersion(), key)
      .toArray();
    if (changed.length > 0) await this.pushConfig(key);
  }

  /** Removes the agent, its key and its inbox. */
  async remove(key: string): Promise<{ keyHash: string } | Failure> {
    this.meter.count();
    // Deleted first, so no concurrent change can find the record while the inbox goes.
    const row = this.sql.exec<Row>("DELETE FROM agents WHERE key = ? RETURNING *", key).toArray()[0];
    if (!row) return failures.noSuchAgent;
    const history = this.keys.list(key);
    this.keys.forget(key);
    try {
      // Stamped with a new version, so a config push still in flight cannot revive the inbox.
      await inboxStub(this.env, key).destroy(this.nextVersion());
    } catch (error) {
      insertRow(this.sql, row);
      for (const entry of history) this.keys.record(key, entry, entry.by, Date.parse(entry.since), entry.signature ?? null);
      throw error;
    }
    return { keyHash: row.key_hash as string };
  }

  /** GET /agents/:name/keys: every key the agent has had, oldest first; null for no such agent. */
  async keyHistory(key: string): Promise<KeyHistoryEntry[] | null> {
    this.meter.count();
    if (this.sql.exec("SELECT 1 FROM agents WHERE key = ?", key).toArray().length === 0) return null;
    return this.keys.list(key);
  }

  // ---- Invites ----

  async createInvite(request: InviteRequest): Promise<Invite> {
    this.meter.count();
    return this.invites.create(request, Date.now());
  }

  async listInvites(): Promise<Invite[]> {
    this.meter.count();
    return this.invites.list();
  }

  async deleteInvite(code: string): Promise<boolean> {
    this.meter.count();
    return this.invites.delete(code);
  }

  // ---- Internals ----

  private record(key: string): AgentRecord | null {
    const row = this.sql.exec<Row>("SELECT * FROM agents WHERE key = ?", key).toArray()[0];
    return row ? toRecord(row) : null;
  }

  private nextVersion(): number {
    return nextVersion(this.sql);
  }

  /**
   * Pushes the agent's settings after a change that set the columns in `after`. If the inbox cannot
   * take them the change is undone, so the record never says what the inbox does not enforce: the
   * columns get `before`'s values back (unless a later change replaced ours), stamped anew and
   * pushed again in case a concurrent change carried ours there, and the answer is a 503.
   */
  private async pushOrUndo(key: string, before: Row, after: Record<string, SqlStorageValue>, undoAlso?: () => void): Promise<Failure | null> {
    try {
      await this.pushConfig(key);
      return null;
    } catch (error) {
      const columns = Object.keys(after);
      this.ctx.storage.transactionSync(() => {
        const undone = this.sql.exec(
          `UPDATE agents SET ${columns.map((c) => `${c} = ?`).join(", ")}, version = ? WHERE key = ? AND ${columns.map((c) => `${c} IS ?`).join(" AND ")} RETURNING key`,
          ...columns.map((c) => before[c] ?? null), this.nextVersion(), key, ...columns.map((c) => after[c] ?? null),
        ).toArray();
        if (undone.length > 0) undoAlso?.();
      });
      console.error(`the inbox of ${before.name as string} could not take a change: ${describeError(error)}`);
      await this.pushConfig(key).catch(() => undefined);
      return failures.agentInboxUnavailable(before.name as string);
    }
  }

  /** Sends the agent's current settings to its inbox (read after the change, so never stale). */
  private async pushConfig(key: string): Promise<void> {
    const row = this.sql.exec<Row>("SELECT * FROM agents WHERE key = ?", key).toArray()[0];
    if (row) await inboxStub(this.env, key).configure(toConfig(row));
  }
}
