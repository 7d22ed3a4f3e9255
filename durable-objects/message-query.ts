// The query of GET /messages (SPEC §4.2), as an inbox and the admin feed both answer it: the same
// filters in memory (matchesQuery) and in SQL (messageFilter), so the two can never disagree.

export interface MessageQuery {
  sort: "asc" | "desc";
  after?: number;
  before?: number;
  topic?: string;
  /** Name key (lower case) of the sender. */
  from?: string;
  /** Only copies not yet delivered to their recipient (SPEC §11.1). */
  unread?: boolean;
  limit: number;
}

/** What the filters look at. */
export interface QueryableMessage {
  ts: number;
  topic: string | null;
  sender: string;
  expiresAt: number;
  /** When the copy was first handed to its recipient; null while it is unread. */
  deliveredAt: number | null;
}

export function matchesQuery(m: QueryableMessage, q: MessageQuery, now: number): boolean {
  return (
    m.expiresAt > now &&
    (q.after === undefined || m.ts > q.after) &&
    (q.before === undefined || m.ts < q.before) &&
    (q.topic === undefined || m.topic === q.topic) &&
    (q.from === undefined || m.sender === q.from) &&
    (q.unread !== true || m.deliveredAt === null)
  );
}

/** The WHERE conditions and order of a query, over columns `ts`, `topic`, `sender`. */
export function messageFilter(q: MessageQuery): { sql: string; args: SqlStorageValue[]; order: "ASC" | "DESC" } {
  const conditions = ["1 = 1"];
  const args: SqlStorageValue[] = [];
  const add = (condition: string, value: SqlStorageValue | undefined) => {
    if (value === undefined) return;
    conditions.push(condition);
    args.push(value);
  };
  add("ts > ?", q.after);
  add("ts < ?", q.before);
  add("topic = ?", q.topic);
  add("sender = ?", q.from);
  if (q.unread === true) conditions.push("delivered_at IS NULL");
  return { sql: conditions.join(" AND "), args, order: q.sort === "asc" ? "ASC" : "DESC" };
}
