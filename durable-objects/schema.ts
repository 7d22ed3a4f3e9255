// Schema migrations for the SQLite storage of an object. Each storage unit lists its steps; step
// 0 is the schema as first released, later steps change it. A unit records how many of its steps
// ran, so objects created by an earlier version of the relay are brought forward the first time
// this version opens them, and a fresh object runs every step once.

const TABLE = "CREATE TABLE IF NOT EXISTS schema_versions (unit TEXT PRIMARY KEY, steps INTEGER NOT NULL)";

export function migrate(sql: SqlStorage, unit: string, steps: readonly string[]): void {
  sql.exec(TABLE);
  const done = sql.exec<{ steps: number }>("SELECT steps FROM schema_versions WHERE unit = ?", unit).toArray()[0]?.steps ?? 0;
  if (done >= steps.length) return;
  for (let i = done; i < steps.length; i++) sql.exec(steps[i]!);
  sql.exec(
    "INSERT INTO schema_versions (unit, steps) VALUES (?, ?) ON CONFLICT(unit) DO UPDATE SET steps = excluded.steps",
    unit, steps.length,
  );
}
