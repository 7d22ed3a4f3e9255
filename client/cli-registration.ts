// The CLI commands that make and change an agent: `keygen`, `register`, `update`.
//
// `register` can be run again: when its key file already holds that agent's API key and the relay
// still accepts it, it changes nothing (or applies the given settings) and exits 0, so a quick
// start or a setup script works twice in a row. An API key is shown once, so a key file holding
// another agent's key, or the same agent's key for another relay, is never overwritten.

import { existsSync } from "node:fs";
import type { AgentPatch, AgentPrivate, Registration } from "../protocol/envelope.js";
import { nameKey } from "../protocol/names.js";
import { ensureAgentFilesDir } from "./agent-files.js";
import { ClawTalkClient, ClawTalkError } from "./client.js";
import { generateKeys } from "./crypto.js";
import {
  adminClient,
  adminKey,
  agentSession,
  fetchWithTimeout,
  keyFilePath,
  readKeyFile,
  relayUrl,
  UsageError,
  warn,
  writeKeyFile,
  type Args,
  type LoadedKeyFile,
} from "./cli-config.js";
import { auditKeygenCommand } from "./cli-audit.js";
import { printFields, printJson, printRecord } from "./cli-output.js";

export async function keygenCommand(args: Args): Promise<number> {
  if (args.flag("audit")) return auditKeygenCommand(args);
  const choice = args.string("out") === undefined ? keyFilePath(args) : undefined;
  const path = args.string("out") ?? choice?.path;
  if (path === undefined) throw new UsageError("where to? give --agent NAME (a key file in the per-user directory) or --out FILE");
  if (existsSync(path) && !args.flag("force")) throw new UsageError(`${path} exists; pass --force to replace it (its keys and API key are lost)`);
  if (choice?.inAgentDir) ensureAgentFilesDir();
  const keys = generateKeys();
  writeKeyFile(path, keys, { exclusive: !args.flag("force") });
  warn(`wrote ${path} (mode 0600): keep it secret`);
  if (args.flag("json")) printJson({ file: path, publicKey: keys.publicKey, signingKey: keys.signingKey });
  else printFields({ publicKey: keys.publicKey, signingKey: keys.signingKey });
  return 0;
}

export async function registerCommand(args: Args): Promise<number> {
  const name = onePositional(args, "NAME");
  const settings = registrationSettings(args);
  const invite = args.string("invite");
  if (invite === undefined) adminKey(args); // before any file is written
  if (args.flag("no-keys")) {
    if (invite !== undefined) throw new UsageError("--invite registers with keys; drop --no-keys (or register without keys by curl, POST /register)");
    if (args.string("key-file") !== undefined || args.string("agent") !== undefined) throw new UsageError("--no-keys writes no key file: drop --key-file/--agent");
    const registration = await adminClient(args).request<Registration>("POST", "/agents", { name, ...settings });
    warn("no key file: this agent has no keys (plaintext only); keep the API key, it is shown once");
    printRegistration(args, registration);
    return 0;
  }
  // One command from nothing to an agent: the key file is made first when it does not exist yet.
  const choice = keyFilePath(args, { registerName: name })!;
  if (!existsSync(choice.path)) {
    if (choice.inAgentDir) ensureAgentFilesDir();
    writeKeyFile(choice.path, generateKeys(), { exclusive: true });
    warn(`generated new keys in ${choice.path}`);
  }
  const keyFile = readKeyFile(choice.path);
  const { data } = keyFile;
  const registeredBefore = data.apiKey !== undefined && data.name !== undefined;
  if (registeredBefore && nameKey(data.name!) !== nameKey(name)) {
    throw new UsageError(`key file ${keyFile.path} already belongs to ${data.name}; use another one (--agent ${name} or --key-file FILE)`);
  }
  const url = relayUrl(args, keyFile);
  // With an invite code the agent registers itself (POST /register) and changes its own record later.
  const admin = invite === undefined ? adminClient(args, keyFile) : null;
  if (registeredBefore) {
    if (data.url !== undefined && data.url !== url) {
      throw new UsageError(`key file ${keyFile.path} holds ${data.name}'s API key for ${data.url}; for ${url} use another key file (--agent OTHER or --key-file FILE)`);
    }
    if (await stillRegistered(url, keyFile)) return reuse(args, admin ?? ownClient(url, keyFile), keyFile, settings, admin === null);
    warn(`the relay at ${url} refuses the API key in ${keyFile.path} (a new relay?): registering ${name} again with the same keys`);
  }
  const body = { name, ...settings, publicKey: data.publicKey, signingKey: data.signingKey };
  const registration = admin
    ? await admin.request<Registration>("POST", "/agents", body)
    : await new ClawTalkClient({ baseUrl: url, apiKey: "", fetch: fetchWithTimeout() }).request<Registration>("POST", "/register", { invite, ...body });
  writeKeyFile(keyFile.path, { ...data, name: registration.name, apiKey: registration.apiKey, url });
  warn(`saved the name, API key and relay URL to ${keyFile.path}`);
  printRegistration(args, registration);
  return 0;
}

/** Whether the relay still accepts the key file's API key as that agent (401: it does not). */
async function stillRegistered(url: string, keyFile: LoadedKeyFile): Promise<boolean> {
  const client = new ClawTalkClient({ baseUrl: url, apiKey: keyFile.data.apiKey!, fetch: fetchWithTimeout() });
  try {
    return nameKey((await client.me()).name) === nameKey(keyFile.data.name!);
  } catch (error) {
    if (error instanceof ClawTalkError && error.status === 401) return false;
    throw error;
  }
}

function ownClient(url: string, keyFile: LoadedKeyFile): ClawTalkClient {
  return new ClawTalkClient({ baseUrl: url, apiKey: keyFile.data.apiKey!, fetch: fetchWithTimeout() });
}

/** `register` of an agent the key file already registered: apply the settings given, if any (`own`: with the agent's key). */
async function reuse(args: Args, client: ClawTalkClient, keyFile: LoadedKeyFile, settings: AgentPatch, own = false): Promise<number> {
  const { name, apiKey } = keyFile.data as { name: string; apiKey: string };
  let webhookSecret: string | undefined;
  if (Object.keys(settings).length > 0) {
    const path = `/agents/${own ? "me" : encodeURIComponent(name)}`;
    const updated = await client.request<AgentPrivate & { webhookSecret?: string }>("PATCH", path, settings);
    webhookSecret = updated.webhookSecret;
    warn(`${name} was already registered with ${keyFile.path}: updated its settings`);
  } else {
    warn(`${name} is already registered with ${keyFile.path}: nothing to do`);
  }
  if (args.flag("json")) printJson({ name, apiKey, ...(webhookSecret ? { webhookSecret } : {}), reused: true });
  else printFields({ name, apiKey, webhookSecret });
  return 0;
}

function printRegistration(args: Args, registration: Registration): void {
  if (args.flag("json")) printJson(registration);
  else printFields({ name: registration.name, apiKey: registration.apiKey, webhookSecret: registration.webhookSecret });
}

/** --owner, --webhook-url, --capabilities as the fields of POST /agents (and PATCH). */
function registrationSettings(args: Args): AgentPatch {
  const settings: AgentPatch = {};
  const owner = args.string("owner");
  const webhookUrl = args.string("webhook-url");
  const capabilities = args.list("capabilities");
  if (owner !== undefined) settings.owner = owner;
  if (webhookUrl !== undefined) settings.webhookUrl = webhookUrl;
  if (capabilities !== undefined) settings.capabilities = capabilities;
  return settings;
}

/**
 * `update [NAME]`: PATCH the agent's own record with its API key, or, with NAME, any agent's
 * record with the admin key.
 */
export async function updateCommand(args: Args): Promise<number> {
  if (args.positionals.length > 1) throw new UsageError("give at most one NAME (with the admin key)");
  const name = args.positionals[0];
  const changes = updateChanges(args);
  const client = name === undefined ? agentSession(args).client : adminClient(args);
  const path = `/agents/${name === undefined ? "me" : encodeURIComponent(name)}`;
  const updated = await client.request<AgentPrivate & { webhookSecret?: string }>("PATCH", path, changes);
  if (args.flag("json")) {
    printJson(updated);
  } else {
    printRecord(updated);
    if (updated.webhookSecret !== undefined) printFields({ webhookSecret: updated.webhookSecret });
  }
  if (updated.webhookSecret !== undefined) warn("the webhook URL changed, so deliveries are signed with the new webhookSecret from now on");
  return 0;
}

function updateChanges(args: Args): AgentPatch {
  const changes: AgentPatch = {};
  const webhookUrl = args.string("webhook-url");
  if (webhookUrl !== undefined && args.flag("no-webhook")) throw new UsageError("give --webhook-url or --no-webhook, not both");
  if (webhookUrl !== undefined) changes.webhookUrl = webhookUrl;
  if (args.flag("no-webhook")) changes.webhookUrl = null;
  // An empty list clears the capabilities.
  const capabilities = args.string("capabilities");
  if (capabilities !== undefined) changes.capabilities = capabilities.trim() === "" ? [] : args.list("capabilities")!;
  if (args.flag("delete-on-delivery") && args.flag("no-delete-on-delivery")) {
    throw new UsageError("give --delete-on-delivery or --no-delete-on-delivery, not both");
  }
  if (args.flag("delete-on-delivery")) changes.deleteOnDelivery = true;
  if (args.flag("no-delete-on-delivery")) changes.deleteOnDelivery = false;
  const owner = args.string("owner");
  if (owner !== undefined) changes.owner = owner;
  if (Object.keys(changes).length === 0) {
    throw new UsageError("nothing to change: give --webhook-url U, --no-webhook, --capabilities a,b, --[no-]delete-on-delivery or --owner O");
  }
  return changes;
}

function onePositional(args: Args, what: string): string {
  if (args.positionals.length !== 1) throw new UsageError(`give exactly one ${what}`);
  return args.positionals[0]!;
}
