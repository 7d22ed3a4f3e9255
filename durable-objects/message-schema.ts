// The tables of an inbox's messages and their migrations (schema.ts): step 0 as first released,
// each later step a change, never edited once released. MessageStore (message-store.ts) holds the
// statements that use them.

export const MESSAGE_STEPS = [
  // 0: as first released.
  `CREATE TABLE IF NOT EXISTS messages (
     ts INTEGER PRIMARY KEY,
     id TEXT NOT NULL UNIQUE,
     sender TEXT NOT NULL,
     topic TEXT,
     body_hash TEXT NOT NULL,
     expires_at INTEGER NOT NULL,
     envelope TEXT NOT NULL
   );
   CREATE INDEX IF NOT EXISTS messages_by_topic ON messages(topic, ts);
   CREATE INDEX IF NOT EXISTS messages_by_sender ON messages(sender, ts);
   CREATE INDEX IF NOT EXISTS messages_by_expiry ON messages(expires_at);
   -- Ids of deleted messages, kept until the message would have expired, so a replay after an
   -- ack is still recognised (SPEC §4.1).
   CREATE TABLE IF NOT EXISTS deleted_ids (
     id TEXT PRIMARY KEY,
     ts INTEGER NOT NULL,
     body_hash TEXT NOT NULL,
     expires_at INTEGER NOT NULL
   );
   CREATE INDEX IF NOT EXISTS deleted_ids_by_expiry ON deleted_ids(expires_at);
   -- A sender's Idempotency-Key -> the relay-generated id it produced.
   CREATE TABLE IF NOT EXISTS idempotency_keys (
     key TEXT PRIMARY KEY,
     id TEXT NOT NULL,
     ts INTEGER NOT NULL,
     body_hash TEXT NOT NULL,
     expires_at INTEGER NOT NULL
   );
   CREATE INDEX IF NOT EXISTS idempotency_keys_by_expiry ON idempotency_keys(expires_at);
   CREATE TABLE IF NOT EXISTS channels (
     topic TEXT PRIMARY KEY,
     last_ts INTEGER NOT NULL,
     count INTEGER NOT NULL
   );
   CREATE INDEX IF NOT EXISTS channels_by_recency ON channels(last_ts);
   CREATE TABLE IF NOT EXISTS state (
     key TEXT PRIMARY KEY,
     value TEXT NOT NULL
   );`,
  // 1: a channel's message count was written on every send and never read.
  "ALTER TABLE channels DROP COLUMN count",
  // 2: a topic's recency is kept by the insert itself, so storing a message is one statement.
  `CREATE TRIGGER IF NOT EXISTS messages_channels AFTER INSERT ON messages WHEN NEW.topic IS NOT NULL BEGIN
     INSERT INTO channels (topic, last_ts) VALUES (NEW.topic, NEW.ts) ON CONFLICT(topic) DO UPDATE SET last_ts = excluded.last_ts;
   END`,
  // 3: delivery state (SPEC §11.1). \`reported\` is what the copy's sender has heard of (0 nothing,
  // 1 stored, 2 delivered); acks and expiries, whose rows go, are kept as events until reported.
  `ALTER TABLE messages ADD COLUMN delivered_at INTEGER;
   ALTER TABLE messages ADD COLUMN via TEXT;
   ALTER TABLE messages ADD COLUMN reported INTEGER NOT NULL DEFAULT 0;
   CREATE TABLE IF NOT EXISTS state_events (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     sender TEXT NOT NULL,
     event TEXT NOT NULL
   );`,
  // 4: the loop guard (SPEC §12): each message's reply depth, remembered after deletion too.
  `ALTER TABLE messages ADD COLUMN depth INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE deleted_ids ADD COLUMN depth INTEGER NOT NULL DEFAULT 0;`,
  // 5: the oldest copy not yet delivered, for the admin's backlog view (views.ts), found in one
  // index step however many delivered copies wait for their ack. Partial: an entry exists only
  // while its copy is unread (one small index write when stored, one when first delivered).
  "CREATE INDEX IF NOT EXISTS messages_undelivered ON messages(ts) WHERE delivered_at IS NULL",
  // 6: the copies whose sender has not heard their latest state, read each time the object opens
  // (unreported()): without an index that read scanned the whole inbox.
  "CREATE INDEX IF NOT EXISTS messages_unreported ON messages(ts) WHERE reported < (CASE WHEN delivered_at IS NULL THEN 1 ELSE 2 END)",
  // 7: the topic index holds only messages with a topic: most have none, and each index is one
  // more b-tree write per stored copy (topic = ? implies topic IS NOT NULL, so filters still use it).
  `DROP INDEX IF EXISTS messages_by_topic;
   CREATE INDEX IF NOT EXISTS messages_with_topic ON messages(topic, ts) WHERE topic IS NOT NULL;`,
];
