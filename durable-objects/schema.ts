// Schema migrations for the SQLite storage of an object. Each storage unit lists its steps; step
// 0 is the schema as first released, later steps change it. A unit records how many of its steps
// ran, so objects created by an earlier version of the relay are brought forward the first time
// this version opens them, and a fresh object runs every step once.
//
// An object opens several units, and a broadcast opens a thousand cold objects at once: the
// recorded steps of every unit are read in one statement per object (remembered per storage), so
// opening an up-to-date unit runs no SQL at all. `forgetSchema` drops that memory once the
// storage was wiped (deleteAll), so the next open recreates the tables.

const TABLE = "CREATE TABLE IF NOT EXISTS schema_versions (unit TEXT PRIMARY KEY, steps INTEGER NOT NULL)";

const recorded = new WeakMap<SqlStorage, Map<string, number>>();

function stepsDone(sql: SqlStorage): Map<string, number> {
  let done = recorded.get(sql);
  if (done) return done;
  done = new Map();
  sql.exec(TABLE);
  for (const row of sql.exec<{ unit: string; steps: number }>("SELECT unit, steps FROM schema_versions")) done.set(row.unit, row.steps);
  recorded.set(sql, done);
  return done;
}

export function migrate(sql: SqlStorage, unit: string, steps: readonly string[]): void {
  const units = stepsDone(sql);
  const done = units.get(unit) ?? 0;
  if (done >= steps.length) return;
  for (let i = done; i < steps.length; i++) sql.exec(steps[i]!);
  sql.exec(
    "INSERT INTO schema_versions (unit, steps) VALUES (?, ?) ON CONFLICT(unit) DO UPDATE SET steps = excluded.steps",
    unit, steps.length,
  );
  units.set(unit, steps.length);
}

/** The storage was wiped: its tables are gone, and the next `migrate` creates them again. */
export function forgetSchema(sql: SqlStorage): void {
  recorded.delete(sql);
}
