// Typed stubs of the relay's Durable Objects, by the name that addresses each. Objects call each
// other through these (Workers RPC), never by importing each other's code, so no object module
// depends on another at run time.

import { nameKey } from "../protocol/names.js";

/** One Inbox per agent, named by the lower-cased agent name. */
export function inboxStub(env: Env, name: string) {
  return env.INBOX.getByName(nameKey(name));
}

/** The one Directory: agent records, key hashes, invites, name uniqueness. */
export function directoryStub(env: Env) {
  return env.DIRECTORY.getByName("directory");
}

/** The one Feed: the admin's views across inboxes. */
export function feedStub(env: Env) {
  return env.FEED.getByName("feed");
}

/** The one Audit log. */
export function auditStub(env: Env) {
  return env.AUDIT.getByName("audit");
}
