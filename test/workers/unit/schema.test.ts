// durable-objects/schema.ts: each unit's steps run once per object, in order, also when a later
// version adds steps; the recorded steps are read once per storage; after the storage is wiped
// (an agent's deletion) forgetSchema makes the next migrate create the tables again.

import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { forgetSchema, migrate } from "../../../durable-objects/schema.js";

/** A fresh object's storage to migrate by hand (an Inbox object no agent owns). */
const scratchObject = () => env.INBOX.getByName(`schema-test-${crypto.randomUUID()}`);

const tables = (sql: SqlStorage) =>
  sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'unit_test_%' ORDER BY name").toArray().map((row) => row.name);

describe("migrate", () => {
  it("runs each step once, and only the new steps when a unit gains some", async () => {
    const ran = await runInDurableObject(scratchObject(), (_instance, state) => {
      const sql = state.storage.sql;
      const v1 = ["CREATE TABLE unit_test_a (x INTEGER)"];
      const v2 = [...v1, "ALTER TABLE unit_test_a ADD COLUMN y INTEGER", "CREATE TABLE unit_test_b (z INTEGER)"];
      migrate(sql, "unit_test", v1);
      migrate(sql, "unit_test", v1); // a plain CREATE TABLE would throw if it ran twice
      migrate(sql, "unit_test", v2);
      migrate(sql, "unit_test", v2);
      sql.exec("INSERT INTO unit_test_a (x, y) VALUES (1, 2)");
      const steps = sql.exec<{ steps: number }>("SELECT steps FROM schema_versions WHERE unit = 'unit_test'").one().steps;
      return { tables: tables(sql), steps };
    });
    expect(ran).toEqual({ tables: ["unit_test_a", "unit_test_b"], steps: 3 });
  });

  it("creates the tables again after the storage was wiped and forgetSchema was told", async () => {
    const steps = ["CREATE TABLE unit_test_c (x INTEGER)"];
    const after = await runInDurableObject(scratchObject(), async (_instance, state) => {
      migrate(state.storage.sql, "unit_test_c", steps);
      await state.storage.deleteAll();
      forgetSchema(state.storage.sql);
      migrate(state.storage.sql, "unit_test_c", steps);
      return tables(state.storage.sql);
    });
    expect(after).toEqual(["unit_test_c"]);
  });
});
