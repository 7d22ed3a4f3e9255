// Timestamps on the wire are ISO-8601 UTC with milliseconds; inside the relay they are epoch ms.

export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

const ISO_PATTERN = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-](\d{2}):(\d{2}))$/;

/**
 * Epoch ms of an ISO-8601 timestamp with a zone, or null when it is not one. Strict: every field
 * must be in range for its calendar (Date.parse rolls 2026-02-31 over to March 3).
 */
export function parseIsoTime(value: string): number | null {
  const m = ISO_PATTERN.exec(value);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? "0"].map(Number) as number[];
  const daysInMonth = new Date(Date.UTC(year!, month!, 0)).getUTCDate();
  if (month! < 1 || month! > 12 || day! < 1 || day! > daysInMonth) return null;
  if (hour! > 23 || minute! > 59 || second! > 59) return null;
  if (m[8] !== "Z" && (Number(m[9]) > 23 || Number(m[10]) > 59)) return null;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : null;
}
