// Timestamps on the wire are ISO-8601 UTC with milliseconds; inside the relay they are epoch ms.

export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

const ISO_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** Epoch ms of an ISO-8601 timestamp with a zone, or null when it is not one. */
export function parseIsoTime(value: string): number | null {
  if (!ISO_PATTERN.test(value)) return null;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : null;
}
