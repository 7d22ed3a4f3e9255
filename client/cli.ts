// The `clawtalk` command line (SPEC §6): `clawtalk <command> [options]`.
//
// Exit codes: 0 success; 1 a usage or configuration error; 2 an error from the relay or the
// network. Every failure prints one line on stderr. This file holds the command table, the help
// texts and the dispatch; the commands are in cli-registration.ts, cli-commands.ts, cli-watch.ts,
// cli-receipts.ts and cli-audit.ts.

import { parseArgs } from "node:util";
import { Args, describeFailure, UsageError, warn } from "./cli-config.js";
import {
  ackCommand,
  agentsCommand,
  deliveriesCommand,
  inboxCommand,
  rotateKeyCommand,
  sendCommand,
  webhookTestCommand,
  whoamiCommand,
} from "./cli-commands.js";
import { auditCommand } from "./cli-audit.js";
import { mcpCommand } from "./cli-mcp.js";
import { statusCommand } from "./cli-receipts.js";
import { keygenCommand, registerCommand, updateCommand } from "./cli-registration.js";
import { watchCommand } from "./cli-watch.js";

interface Option {
  type: "string" | "boolean";
  /** The value's placeholder in the help, for string options. */
  value?: string;
  help: string;
}

interface Command {
  /** What follows `clawtalk <command>` in the usage line. */
  usage: string;
  summary: string;
  options: Record<string, Option>;
  positionals: boolean;
  run(args: Args): Promise<number>;
}

const AGENT: Option = {
  type: "string",
  value: "NAME",
  help: "use the key file NAME.json in ~/.config/clawtalk (CLAWTALK_AGENT; default: the only one there)",
};
const KEY_FILE: Option = { type: "string", value: "FILE", help: "use the key file at this path instead (CLAWTALK_KEY_FILE)" };
const ADMIN_KEY: Option = { type: "string", value: "KEY", help: "the relay's admin key (CLAWTALK_ADMIN_KEY)" };
const CONNECTION: Record<string, Option> = {
  url: { type: "string", value: "URL", help: "relay URL (CLAWTALK_URL; default: the key file's, else http://127.0.0.1:8787)" },
  "api-key": { type: "string", value: "KEY", help: "the agent's API key (CLAWTALK_API_KEY, or the key file's apiKey)" },
  agent: AGENT,
  "key-file": KEY_FILE,
};
const JSON_OUTPUT: Record<string, Option> = { json: { type: "boolean", help: "print JSON on stdout" } };

const COMMANDS: Record<string, Command> = {
  keygen: {
    usage: "keygen (--agent NAME | --out FILE) [--force] | keygen --audit [--out FILE]",
    summary: "Generate encryption and signing keys into a key file (mode 0600); --audit: the operator's audit key pair",
    options: {
      agent: { type: "string", value: "NAME", help: "write ~/.config/clawtalk/NAME.json (CLAWTALK_AGENT)" },
      out: { type: "string", value: "FILE", help: "write FILE (or --key-file FILE, CLAWTALK_KEY_FILE; with --audit default ~/.config/clawtalk/audit-key.json)" },
      force: { type: "boolean", help: "replace an existing key file" },
      audit: { type: "boolean", help: "make the operator's audit key pair instead: the relay gets its publicKey as AUDIT_PUBLIC_KEY" },
      "key-file": KEY_FILE,
      ...JSON_OUTPUT,
    },
    positionals: false,
    run: keygenCommand,
  },
  register: {
    usage: "register NAME [--invite CODE] [--owner O] [--webhook-url U] [--capabilities a,b] [--agent N | --key-file F | --no-keys]",
    summary:
      "Register an agent (admin key, or --invite CODE) with the keys of its key file (~/.config/clawtalk/NAME.json unless --agent or --key-file says otherwise; made first when missing) and save its API key there; run again, it reuses that registration",
    options: {
      owner: { type: "string", value: "O", help: "the agent's owner" },
      "webhook-url": { type: "string", value: "U", help: "deliver messages to this URL too" },
      capabilities: { type: "string", value: "a,b", help: "comma-separated capabilities" },
      "admin-key": ADMIN_KEY,
      invite: { type: "string", value: "CODE", help: "register with an invite code (POST /register) instead of the admin key" },
      url: CONNECTION.url!,
      agent: { type: "string", value: "N", help: "use ~/.config/clawtalk/N.json as the key file (default N: the agent's NAME)" },
      "key-file": KEY_FILE,
      "no-keys": { type: "boolean", help: "register without keys or key file (plaintext only); prints the API key once" },
      ...JSON_OUTPUT,
    },
    positionals: true,
    run: registerCommand,
  },
  update: {
    usage: "update [NAME] [--webhook-url U | --no-webhook] [--capabilities a,b] [--delete-on-delivery | --no-delete-on-delivery] [--owner O]",
    summary: "Change this agent's record (its API key), or with NAME any agent's (admin key)",
    options: {
      "webhook-url": { type: "string", value: "U", help: "deliver messages to this URL (a new URL gets a new webhookSecret)" },
      "no-webhook": { type: "boolean", help: "remove the webhook" },
      capabilities: { type: "string", value: "a,b", help: "replace the capabilities (\"\" clears them)" },
      "delete-on-delivery": { type: "boolean", help: "delete each message once its webhook delivery succeeded" },
      "no-delete-on-delivery": { type: "boolean", help: "keep messages after delivery (the default)" },
      owner: { type: "string", value: "O", help: "the agent's owner (admin only)" },
      "admin-key": { type: "string", value: "KEY", help: "with NAME: the relay's admin key (CLAWTALK_ADMIN_KEY)" },
      ...CONNECTION,
      ...JSON_OUTPUT,
    },
    positionals: true,
    run: updateCommand,
  },
  send: {
    usage: "send --to NAME[,NAME...] [--wait-delivery delivered|acked] [options] [MESSAGE]",
    summary: "Send a message: MESSAGE, or --file F, or stdin; --to broadcast reaches every agent; prints its id",
    options: {
      to: { type: "string", value: "NAMES", help: "recipient, comma-separated recipients, or broadcast" },
      encrypt: { type: "boolean", help: "encrypt for each recipient (needs the key file)" },
      topic: { type: "string", value: "T", help: "topic" },
      type: { type: "string", value: "TYPE", help: "request, response or notification (default)" },
      "reply-to": { type: "string", value: "ID", help: "the message this one answers" },
      "correlation-id": { type: "string", value: "C", help: "correlation id" },
      ttl: { type: "string", value: "S", help: "seconds the relay keeps it (default 30 days)" },
      id: { type: "string", value: "ID", help: "message id (a UUID); resending with the same id is idempotent" },
      file: { type: "string", value: "F", help: "read the message from a file" },
      "json-payload": { type: "boolean", help: "parse the message as JSON (an object is sent as an object)" },
      audit: { type: "boolean", help: "also log it in the audit log (sealed when the relay publishes an audit key)" },
      "wait-delivery": {
        type: "string",
        value: "STATE",
        help: "then wait until every recipient's copy is delivered (handed to the agent) or acked (deleted by it); exit 2 if not in time",
      },
      "wait-timeout": { type: "string", value: "S", help: "seconds --wait-delivery waits (default 60)" },
      ...CONNECTION,
      ...JSON_OUTPUT,
    },
    positionals: true,
    run: sendCommand,
  },
  inbox: {
    usage: "inbox [--unread] [--limit N] [--after TS] [--topic T] [--from NAME] [--json]",
    summary: "List messages, oldest first, decrypted and verified (reading deletes nothing; it marks them delivered)",
    options: {
      unread: { type: "boolean", help: "only messages not delivered before (to any reader of this inbox, or its webhook); the seen column says which were" },
      limit: { type: "string", value: "N", help: "at most N messages (relay default 50, max 100)" },
      after: { type: "string", value: "TS", help: "only messages after this ts" },
      topic: { type: "string", value: "T", help: "only this topic" },
      from: { type: "string", value: "NAME", help: "only from this sender" },
      ...CONNECTION,
      ...JSON_OUTPUT,
    },
    positionals: false,
    run: inboxCommand,
  },
  watch: {
    usage: "watch --exec CMD [--cursor-file F] [--topic T] [--from NAME] [--no-ack] [--wait S]",
    summary: "Run CMD for each new message (the message as JSON on its stdin, decrypted and verified: see plaintext, verified); ack after CMD exits 0",
    options: {
      exec: { type: "string", value: "CMD", help: "shell command to run per message; it reads the message from stdin" },
      "cursor-file": { type: "string", value: "F", help: "where the cursor is kept (default ~/.config/clawtalk/<name>.cursor)" },
      topic: { type: "string", value: "T", help: "only this topic" },
      from: { type: "string", value: "NAME", help: "only from this sender" },
      "no-ack": { type: "boolean", help: "leave handled messages in the inbox" },
      wait: { type: "string", value: "S", help: "long-poll seconds per request (default 30)" },
      ...CONNECTION,
    },
    positionals: false,
    run: watchCommand,
  },
  status: {
    usage: "status ID [--wait S] [--until delivered|acked] [--json]",
    summary: "Show what became of a message this agent sent: per recipient stored, delivered (when, via) or acked; counts for a broadcast",
    options: {
      wait: { type: "string", value: "S", help: "hold up to S seconds until every recipient reached --until (receipts lag reads by up to 2 s)" },
      until: { type: "string", value: "STATE", help: "what --wait waits for: delivered (default) or acked" },
      ...CONNECTION,
      ...JSON_OUTPUT,
    },
    positionals: true,
    run: statusCommand,
  },
  ack: {
    usage: "ack ID [ID...]",
    summary: "Delete handled messages from the inbox",
    options: { ...CONNECTION, ...JSON_OUTPUT },
    positionals: true,
    run: ackCommand,
  },
  agents: {
    usage: "agents [--json]",
    summary: "List the agents of the relay",
    options: { ...CONNECTION, ...JSON_OUTPUT },
    positionals: false,
    run: agentsCommand,
  },
  whoami: {
    usage: "whoami [--json]",
    summary: "Show this agent's record",
    options: { ...CONNECTION, ...JSON_OUTPUT },
    positionals: false,
    run: whoamiCommand,
  },
  "rotate-key": {
    usage: "rotate-key",
    summary: "Replace the API key (the old one stops working) and save it to the key file",
    options: { ...CONNECTION, ...JSON_OUTPUT },
    positionals: false,
    run: rotateKeyCommand,
  },
  deliveries: {
    usage: "deliveries [--limit N] [--json]",
    summary: "Show this agent's webhook attempts, newest first",
    options: { limit: { type: "string", value: "N", help: "at most N attempts" }, ...CONNECTION, ...JSON_OUTPUT },
    positionals: false,
    run: deliveriesCommand,
  },
  audit: {
    usage: "audit [--from A] [--to B] [--topic T] [--since TS] [--before TS] [--limit N] [--secret-key-file F] [--json]",
    summary: "List audit entries, newest first (admin key), opening sealed ones with the operator's secret key",
    options: {
      from: { type: "string", value: "NAME", help: "only entries from this sender" },
      to: { type: "string", value: "NAME", help: "only entries to this recipient" },
      topic: { type: "string", value: "T", help: "only this topic" },
      since: { type: "string", value: "TS", help: "only entries logged after this ISO time" },
      before: { type: "string", value: "TS", help: "only entries logged before this ISO time (the cursor of the previous page)" },
      limit: { type: "string", value: "N", help: "at most N entries (relay default 50, max 200)" },
      "secret-key-file": { type: "string", value: "F", help: "the audit key file of keygen --audit (CLAWTALK_AUDIT_KEY_FILE)" },
      "admin-key": { type: "string", value: "KEY", help: "the relay's admin key (CLAWTALK_ADMIN_KEY)" },
      url: CONNECTION.url!,
      ...JSON_OUTPUT,
    },
    positionals: false,
    run: auditCommand,
  },
  mcp: {
    usage: "mcp [--agent NAME | --key-file FILE] [--url URL] [--push]",
    summary: "Run the agent's MCP server on stdio for an MCP host (Claude Code, Cursor, ...): tools to send, receive, wait and ack, encrypted and signed with the key file's keys",
    options: {
      ...CONNECTION,
      push: { type: "boolean", help: "poll for new messages and notify subscribed hosts (resource clawtalk://inbox, notifications/resources/updated)" },
    },
    positionals: false,
    run: mcpCommand,
  },
  "webhook-test": {
    usage: "webhook-test",
    summary: "Send a signed test event to this agent's webhook now",
    options: { ...CONNECTION, ...JSON_OUTPUT },
    positionals: false,
    run: webhookTestCommand,
  },
};

function overview(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length)) + 2;
  return [
    "Usage: clawtalk <command> [options]",
    "",
    "Commands:",
    ...Object.entries(COMMANDS).map(([name, command]) => `  ${name.padEnd(width)}${command.summary}`),
    "",
    "Configuration: CLAWTALK_URL, CLAWTALK_AGENT, CLAWTALK_KEY_FILE, CLAWTALK_API_KEY, CLAWTALK_ADMIN_KEY, CLAWTALK_AUDIT_KEY_FILE",
    "(or --url, --agent, --key-file, --api-key, --admin-key, --secret-key-file). Key files and cursors live in",
    "$XDG_CONFIG_HOME/clawtalk (default ~/.config/clawtalk). Run `clawtalk <command> --help` for its options.",
    "Exit codes: 0 success, 1 usage or configuration error, 2 relay or network error.",
    "",
  ].join("\n");
}

function commandHelp(command: Command): string {
  const flags = Object.entries(command.options).map(([name, option]) => [`--${name}${option.value ? ` ${option.value}` : ""}`, option.help] as const);
  const width = Math.max(...flags.map(([flag]) => flag.length)) + 2;
  return [
    `Usage: clawtalk ${command.usage}`,
    "",
    command.summary,
    "",
    "Options:",
    ...flags.map(([flag, help]) => `  ${flag.padEnd(width)}${help}`),
    `  ${"--help".padEnd(width)}show this help`,
    "",
  ].join("\n");
}

function parse(name: string, command: Command, argv: string[]): Args | "help" {
  const options = Object.fromEntries(Object.entries(command.options).map(([flag, option]) => [flag, { type: option.type }]));
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...options, help: { type: "boolean" } }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`${error instanceof Error ? error.message : String(error)} (see clawtalk ${name} --help)`);
  }
  if (parsed.values.help === true) return "help";
  if (!command.positionals && parsed.positionals.length > 0) {
    throw new UsageError(`unexpected argument "${parsed.positionals[0]}" (see clawtalk ${name} --help)`);
  }
  const values: Record<string, string | boolean | undefined> = {};
  for (const [flag, value] of Object.entries(parsed.values)) if (!Array.isArray(value)) values[flag] = value;
  return new Args(values, parsed.positionals);
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) throw new UsageError("no command given (see clawtalk --help)");
  if (name === "--help" || name === "-h" || name === "help") {
    const topic = rest[0] === undefined ? undefined : COMMANDS[rest[0]];
    process.stdout.write(topic ? commandHelp(topic) : overview());
    return 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) throw new UsageError(`unknown command "${name}" (see clawtalk --help)`);
  const args = parse(name, command, rest);
  if (args === "help") {
    process.stdout.write(commandHelp(command));
    return 0;
  }
  return command.run(args);
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  const { exitCode, line } = describeFailure(error);
  warn(line);
  process.exitCode = exitCode;
}
