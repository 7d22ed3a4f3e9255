// The CLI's commands about keys (SPEC §12): `rotate-keys` (new encryption and signing keys, the
// change signed with the old signing key) and `trust NAME` (pin another agent's current keys after
// they changed unconfirmed).
//
// `rotate-keys` never leaves the agent without the secret keys the relay holds: the new keys are
// written first to FILE.next, the key file is replaced only once the relay accepted the change,
// and FILE.next is removed when the relay refused it. Only when the relay could not be asked
// whether it took them is FILE.next kept, with a line saying what to do.

import { rmSync } from "node:fs";
import { ClawTalkError, type ClawTalkClient } from "./client.js";
import { generateKeys, type AgentKeys } from "./crypto.js";
import { agentSession, UsageError, warn, writeKeyFile, type Args, type KeyFile } from "./cli-config.js";
import { pinsFileFor } from "./cli-pins.js";
import { printFields, printJson } from "./cli-output.js";
import { sameKeys } from "./key-chain.js";
import { isTransient } from "./relay-http.js";

export async function rotateKeysCommand(args: Args): Promise<number> {
  const session = agentSession(args);
  const { client, keyFile } = session;
  if (!keyFile) throw new UsageError("rotate-keys needs the agent's key file, where the new keys are saved: pass --agent NAME or --key-file F");
  if (!session.apiKeyFromFile && keyFile.data.apiKey !== undefined && keyFile.data.apiKey !== client.key) {
    throw new UsageError(`${keyFile.path} holds another API key than the one given, so its keys may be another agent's; nothing was changed`);
  }
  const next = generateKeys();
  const updated: KeyFile = { ...keyFile.data, ...next };
  const pending = `${keyFile.path}.next`;
  writeKeyFile(pending, updated);
  try {
    await client.rotateKeys(next);
  } catch (error) {
    if ((await relayHolds(client, keyFile.path, next, error)) !== true) throw error;
  }
  writeKeyFile(keyFile.path, updated);
  rmSync(pending, { force: true });
  warn(`the relay accepted the new keys; saved them to ${keyFile.path} (the old ones no longer decrypt what is sent from now on)`);
  if (args.flag("json")) printJson({ file: keyFile.path, publicKey: next.publicKey, signingKey: next.signingKey });
  else printFields({ publicKey: next.publicKey, signingKey: next.signingKey });
  return 0;
}

/**
 * After rotateKeys failed: whether the relay holds the new keys all the same (the answer was
 * lost). A refusal by the relay means it does not; otherwise it is asked. FILE.next is removed
 * when the relay does not hold them, and kept (with a line on what to do) when it cannot tell.
 */
async function relayHolds(client: ClawTalkClient, keyFilePath: string, next: AgentKeys, error: unknown): Promise<boolean | "unknown"> {
  const pending = `${keyFilePath}.next`;
  let holds: boolean | "unknown" = false;
  if (!(error instanceof ClawTalkError) || isTransient(error)) {
    try {
      holds = sameKeys(await client.me(), next);
    } catch {
      holds = "unknown";
    }
  }
  if (holds === false) rmSync(pending, { force: true });
  if (holds === "unknown") {
    warn(
      `could not tell whether the relay took the new keys; they are kept in ${pending}. If clawtalk whoami shows publicKey ${next.publicKey}, ` +
        `move ${pending} over ${keyFilePath}; otherwise delete it and run rotate-keys again`,
    );
  }
  return holds;
}

export async function trustCommand(args: Args): Promise<number> {
  if (args.positionals.length !== 1) throw new UsageError("give exactly one NAME: the agent whose current keys to trust");
  const name = args.positionals[0]!;
  const { client, keyFile } = agentSession(args);
  if (!keyFile) throw new UsageError("trust needs the agent's key file, beside which the pins are kept: pass --agent NAME or --key-file F");
  const trusted = await client.trust(name);
  const { previous } = trusted;
  if (args.flag("json")) {
    printJson({ name: trusted.name, publicKey: trusted.publicKey, signingKey: trusted.signingKey, previous });
  } else {
    printFields({
      name: trusted.name,
      publicKey: trusted.publicKey,
      signingKey: trusted.signingKey,
      ...(previous === null ? {} : { previousPublicKey: previous.publicKey, previousSigningKey: previous.signingKey }),
    });
  }
  if (previous !== null && sameKeys(previous, trusted)) warn(`${trusted.name}'s current keys were already pinned; nothing changed`);
  else warn(`pinned ${trusted.name}'s current keys in ${pinsFileFor(keyFile.path)}: its messages verify with them, and encryption to it works`);
  return 0;
}
