import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CheckVerdict, evaluateStatusChecks } from "../../src/db/status-checks.js";
import { type FreshDatabase, freshDatabase, withAdminClient } from "../helpers/db.js";

const WRITES = ["completed", "busy", "no-answer", "canceled", "failed", "timeout", "it's"];

/** A table `name` whose status column is declared as `decl`; the verdicts for WRITES, refused values sorted. */
async function verdictsFor(pool: pg.Pool, name: string, decl: string): Promise<CheckVerdict[]> {
  await pool.query(`CREATE TABLE ${name} (call_id text PRIMARY KEY, status ${decl}, started_at timestamptz,
    ended_at timestamptz)`);
  const verdicts = await evaluateStatusChecks(pool, name, "status", WRITES);
  return verdicts.map((v) => (v.kind === "evaluated" ? { ...v, refused: [...v.refused].sort() } : v));
}

let n = 0;
const table = () => `t${n++}`;

describe("CHECK constraints on the status column, as PostgreSQL evaluates them", () => {
  let db: FreshDatabase;
  beforeAll(async () => {
    db = await freshDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it.each([
    [
      "IN (...)",
      "text CONSTRAINT c CHECK (status IN ('completed', 'busy'))",
      ["canceled", "failed", "it's", "no-answer", "timeout"],
    ],
    [
      "a varchar's IN, a quote in a label",
      "varchar(20) CONSTRAINT c CHECK (status IN ('completed', 'it''s'))",
      ["busy", "canceled", "failed", "no-answer", "timeout"],
    ],
    [
      "= a literal, either way round",
      "text CONSTRAINT c CHECK ('busy' = status)",
      ["canceled", "completed", "failed", "it's", "no-answer", "timeout"],
    ],
    ["<> a literal", "text CONSTRAINT c CHECK (status <> 'busy')", ["busy"]],
    ["NOT IN", "text CONSTRAINT c CHECK (status NOT IN ('busy', 'failed'))", ["busy", "failed"]],
    ["a function of the column", "text CONSTRAINT c CHECK (upper(status) <> 'TIMEOUT')", ["timeout"]],
    [
      "an array literal",
      "text CONSTRAINT c CHECK (status = ANY ('{completed,busy,failed,canceled,timeout,it''s}'::text[]))",
      ["no-answer"],
    ],
    ["a pattern", "text CONSTRAINT c CHECK (status ~ '^[a-z]+$')", ["it's", "no-answer"]],
    ["a collation", "text CONSTRAINT c CHECK (status COLLATE \"C\" <> 'busy')", ["busy"]],
    [
      "a CASE",
      "text CONSTRAINT c CHECK (CASE WHEN length(status) > 7 THEN false ELSE true END)",
      ["canceled", "completed", "no-answer"],
    ],
    [
      "IN (...) AND another rule on it",
      "text CONSTRAINT c CHECK (status IN ('busy', 'no-answer') AND length(status) < 5)",
      ["canceled", "completed", "failed", "it's", "no-answer", "timeout"],
    ],
    // A NULL result passes, as it does for PostgreSQL's own CHECK.
    [
      "a NULL answer",
      "text CONSTRAINT c CHECK (CASE WHEN status = 'busy' THEN NULL ELSE status <> 'failed' END)",
      ["failed"],
    ],
  ])("%s", async (_, decl, refused) => {
    expect(await verdictsFor(db.pool, table(), decl)).toEqual([{ name: "c", kind: "evaluated", refused }]);
  });

  it("a domain's CHECK, and the table's on the same column, each by its name", async () => {
    await db.pool.query(
      "CREATE DOMAIN call_word AS text CONSTRAINT word CHECK (VALUE ~ '^[a-z-]+$') CHECK (VALUE IS NOT NULL)",
    );
    const verdicts = await verdictsFor(
      db.pool,
      table(),
      "call_word CONSTRAINT short CHECK (length(status) < 9)",
    );
    expect(verdicts).toEqual([
      { name: "call_word_check", kind: "evaluated", refused: [] },
      { name: "short", kind: "evaluated", refused: ["completed", "no-answer"] },
      { name: "word", kind: "evaluated", refused: ["it's"] },
    ]);
  });

  it("names that need quoting, and other columns of a domain refusing NULL, are read as they are", async () => {
    await db.pool.query("CREATE DOMAIN required_text AS text NOT NULL");
    await db.pool.query(`CREATE TABLE "Call Log" ("Call ID" text PRIMARY KEY, "Note" required_text,
      "Call State" text CONSTRAINT "State Words" CHECK ("Call State" <> 'busy'))`);
    expect(await evaluateStatusChecks(db.pool, '"Call Log"', "Call State", WRITES)).toEqual([
      { name: "State Words", kind: "evaluated", refused: ["busy"] },
    ]);
  });

  it("a CHECK that also reads another column is not evaluated: its answer depends on each row", async () => {
    const verdicts = await verdictsFor(
      db.pool,
      table(),
      "text, CONSTRAINT ends CHECK ((status = 'active') = (ended_at IS NULL))",
    );
    expect(verdicts).toEqual([{ name: "ends", kind: "unevaluated", why: "it also reads ended_at" }]);
  });

  it("a CHECK calling a function that writes is not evaluated, and nothing is written", async () => {
    await db.pool.query("CREATE TABLE seen (value text)");
    await db.pool.query(`CREATE FUNCTION note(v text) RETURNS boolean LANGUAGE plpgsql AS
      $$ BEGIN INSERT INTO seen VALUES (v); RETURN true; END $$`);
    const [verdict] = await verdictsFor(db.pool, table(), "text CONSTRAINT noted CHECK (note(status))");
    expect(verdict).toMatchObject({
      name: "noted",
      kind: "unevaluated",
      why: expect.stringMatching(/read-only/),
    });
    expect((await db.pool.query("SELECT * FROM seen")).rows).toEqual([]);
  });

  it("a CHECK calling a function the role may not execute is not evaluated, with PostgreSQL's reason", async () => {
    const role = `chk_${randomBytes(4).toString("hex")}`;
    const password = randomBytes(12).toString("hex");
    await withAdminClient((c) => c.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`));
    const name = table();
    try {
      await db.pool.query(
        "CREATE FUNCTION allowed(v text) RETURNS boolean LANGUAGE sql AS $$ SELECT v <> 'busy' $$",
      );
      await db.pool.query("REVOKE EXECUTE ON FUNCTION allowed(text) FROM PUBLIC");
      await db.pool.query(
        `CREATE TABLE ${name} (call_id text, status text CONSTRAINT gate CHECK (allowed(status)))`,
      );
      const url = new URL(db.url);
      url.username = role;
      url.password = password;
      const pool = new pg.Pool({ connectionString: url.toString(), max: 1 });
      try {
        expect(await evaluateStatusChecks(pool, name, "status", WRITES)).toEqual([
          {
            name: "gate",
            kind: "unevaluated",
            why: expect.stringMatching(/permission denied for function allowed/),
          },
        ]);
      } finally {
        await pool.end();
      }
    } finally {
      await db.pool.query(`DROP TABLE ${name}; DROP FUNCTION allowed(text)`);
      await withAdminClient((c) => c.query(`DROP ROLE ${role}`));
    }
  });

  it("a CHECK added NOT VALID is asked too: the rows it was not checked against stay, new writes meet it", async () => {
    const name = table();
    await db.pool.query(`CREATE TABLE ${name} (call_id text, status text)`);
    await db.pool.query(`INSERT INTO ${name} VALUES ('old', 'busy')`);
    await db.pool.query(`ALTER TABLE ${name} ADD CONSTRAINT later CHECK (status <> 'busy') NOT VALID`);
    expect(await evaluateStatusChecks(db.pool, name, "status", WRITES)).toEqual([
      { name: "later", kind: "evaluated", refused: ["busy"] },
    ]);
  });

  it("no CHECK on the column: nothing asked", async () => {
    expect(await verdictsFor(db.pool, table(), "text NOT NULL")).toEqual([]);
  });
});
