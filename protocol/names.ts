// Names and topics (SPEC §3, §4): the grammar every part of ClawTalk agrees on.

export const NAME_PATTERN = /^[A-Za-z0-9_-]{2,32}$/;
export const TOPIC_PATTERN = /^[A-Za-z0-9_.:/-]{1,64}$/;

/**
 * Words that may not be agent names: they mean something in `to` or in paths (and `__proto__`
 * is not a safe key for the objects that map names to values).
 */
export const RESERVED_NAMES: ReadonlySet<string> = new Set(["broadcast", "me", "admin", "__proto__"]);

/** Names are unique case-insensitively; this is the form used as a key everywhere. */
export function nameKey(name: string): string {
  return name.toLowerCase();
}

export function isValidName(name: string): boolean {
  return NAME_PATTERN.test(name) && !RESERVED_NAMES.has(nameKey(name));
}

export const API_KEY_PREFIX = "ct_";
export const WEBHOOK_SECRET_PREFIX = "whsec_";

/**
 * The look-alike form of a name (SPEC §12): two names with the same form could pass for each
 * other, so a registration whose form equals an existing agent's is refused. Case is folded; `0`
 * reads as `o`; `1`, `I`, `i` and `l` all read as `l` (after folding, an uppercase I is an i, so
 * i must join them for `aIice` and `ALICE` to meet `alice`); `rn` reads as `m` and `vv` as `w`.
 */
export function lookalikeForm(name: string): string {
  return name.toLowerCase().replace(/[1il]/g, "l").replace(/0/g, "o").replace(/rn/g, "m").replace(/vv/g, "w");
}
