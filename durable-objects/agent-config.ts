// What the Directory tells an agent's Inbox about its agent, pushed on every change of the
// record (durable-objects/directory.ts), and what the Inbox decides from it.

export interface AgentConfig {
  /** The Directory's change sequence: an inbox keeps only the newest config. */
  version: number;
  name: string;
  /** SHA-256 of the agent's current API key: the inbox refuses every other key. */
  keyHash: string;
  webhookUrl: string | null;
  webhookSecret: string;
  /** The secret before the last rotation, signing beside the current one until `previousSecretUntil`. */
  previousSecret: string | null;
  previousSecretUntil: number | null;
  /** Why the webhook is off (a 410 Gone, a URL the policy now refuses), or null. */
  webhookDisabled: string | null;
  deleteOnDelivery: boolean;
  /** Whom the agent accepts messages from (SPEC §12), and with "contacts" the name keys it accepts. */
  accept?: "anyone" | "contacts";
  contacts?: string[];
}

/** Whether the agent accepts a message from `sender` (a name key); it always accepts itself. */
export function accepts(config: AgentConfig, contacts: ReadonlySet<string>, sender: string, self: string): boolean {
  return config.accept !== "contacts" || sender === self || contacts.has(sender);
}

/**
 * The secrets that sign a webhook sent at `now`: the current one, and the previous one only while
 * its rotation's overlap lasts. Decided per delivery, so the overlap ends at its time even though
 * the config was pushed once.
 */
export function signingSecrets(config: AgentConfig, now: number): string[] {
  const overlapping = config.previousSecret !== null && config.previousSecretUntil !== null && now < config.previousSecretUntil;
  return overlapping ? [config.webhookSecret, config.previousSecret!] : [config.webhookSecret];
}

/** A config as stored by this or an earlier version (which kept `webhookSecrets: [current, previous?]`). */
export function readStoredConfig(json: string): AgentConfig {
  const stored = JSON.parse(json) as AgentConfig & { webhookSecrets?: string[] };
  if (stored.webhookSecret === undefined && stored.webhookSecrets !== undefined) {
    const { webhookSecrets, ...rest } = stored;
    return { ...rest, webhookSecret: webhookSecrets[0]!, previousSecret: webhookSecrets[1] ?? null };
  }
  return stored;
}
