// The `clawtalk` command line (SPEC §6): `clawtalk <command> [options]`.
//
// Exit codes: 0 success; 1 a usage or configuration error; 2 an error from the relay or the
// network. Every failure prints one line on stderr. This file holds the help texts and the
// dispatch; the command table is cli-table.ts, the commands are in cli-registration.ts,
// cli-commands.ts, cli-keys.ts, cli-watch.ts, cli-receipts.ts, cli-audit.ts and cli-mcp.ts.

import { parseArgs } from "node:util";
import { Args, describeFailure, UsageError, warn } from "./cli-config.js";
import { COMMANDS, type Command } from "./cli-table.js";

function overview(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length)) + 2;
  return [
    "Usage: clawtalk <command> [options]",
    "",
    "Commands:",
    ...Object.entries(COMMANDS).map(([name, command]) => `  ${name.padEnd(width)}${command.summary}`),
    "",
    "Configuration: CLAWTALK_URL, CLAWTALK_AGENT, CLAWTALK_KEY_FILE, CLAWTALK_API_KEY, CLAWTALK_ADMIN_KEY, CLAWTALK_AUDIT_KEY_FILE",
    "(or --url, --agent, --key-file, --api-key, --admin-key, --secret-key-file). Key files, pins and cursors live in",
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
