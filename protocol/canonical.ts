// RFC 8785 JSON Canonicalization Scheme (JCS) for the values JSON.parse produces: object keys
// sorted by UTF-16 code units, no whitespace, numbers and strings as ECMAScript serializes them.
// Used for message signatures (SPEC §5) and for the body hash behind idempotent sends.

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") {
    if (typeof value === "number" && !Number.isFinite(value)) throw new TypeError("JCS: non-finite number");
    const text = JSON.stringify(value);
    if (text === undefined) throw new TypeError(`JCS: cannot encode ${typeof value}`);
    return text;
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record)
    .filter((key) => record[key] !== undefined)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(",")}}`;
}
