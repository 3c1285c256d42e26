/**
 * A least-privilege runtime role: the README's GRANTs (on the calls table, SELECT on the mapped columns only)
 * are exactly enough for `audit --apply`, `hold` and `revert`; without them every command names the missing privilege and its GRANT in one line, before anything
 * is read or written; and the role can append to the audit trail but never rewrite it.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { type FreshDatabase, freshDatabase, withAdminClient } from "../helpers/db.js";
import { readmeGrants } from "../helpers/markdown.js";

/** The README's runtime GRANTs, for the role `role`. */
const grantsFor = (role: string): string => readmeGrants().replace(/\breconciler\b/g, role);

describe("the runtime role's privileges", () => {
  let db: FreshDatabase;
  const role = `rec_${randomBytes(4).toString("hex")}`;
  const password = randomBytes(12).toString("hex");
  let asRole: Record<string, string>;

  beforeAll(async () => {
    db = await freshDatabase();
    await withAdminClient((c) => c.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`));
    await db.pool.query("REVOKE CREATE ON SCHEMA public FROM PUBLIC");
    const url = new URL(db.url);
    url.username = role;
    url.password = password;
    asRole = { DATABASE_URL: url.toString(), RECONCILER_SCHEMA: "call_reconciler", LOG_LEVEL: "error" };
    // Once, as the owner.
    const migrated = await runCli(["migrate", "--with-calls-table"], {
      DATABASE_URL: db.url,
      RECONCILER_SCHEMA: "call_reconciler",
    });
    expect(migrated.code).toBe(0);
    // A column the daemon never reads, which the role must not need to read.
    await db.pool.query("ALTER TABLE calls ADD COLUMN caller_number text");
    await db.pool.query(
      `INSERT INTO calls (call_id, status, started_at, caller_number)
       VALUES ('old', 'active', now() - interval '2 days', '+15550100')`,
    );
  });
  afterAll(async () => {
    await db?.drop();
    await withAdminClient((c) => c.query(`DROP ROLE IF EXISTS ${role}`));
  });

  it("without the GRANTs, each command names what is missing and the GRANT, in one line, and writes nothing", async () => {
    for (const args of [["audit"], ["audit", "--apply"], ["hold", "old"], ["revert", "--call", "old"]]) {
      const r = await runCli(args, asRole);
      expect(r.code, args.join(" ")).toBe(2);
      const lines = r.stderr.trim().split("\n");
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(
        new RegExp(
          `the database role ${role} lacks SELECT \\(call_id, twilio_call_sid, openai_call_id, status, started_at, ended_at\\), UPDATE \\(status, ended_at\\) on public\\.calls; USAGE on schema call_reconciler; SELECT, INSERT on call_reconciler\\.call_reconciler_actions;`,
        ),
      );
      expect(lines[0]).toMatch(new RegExp(`GRANT USAGE ON SCHEMA "call_reconciler" TO "${role}"`));
      expect(lines[0]).toContain(
        `GRANT SELECT ("call_id", "twilio_call_sid", "openai_call_id", "status", "started_at", "ended_at"), UPDATE ("status", "ended_at") ON "public"."calls" TO "${role}"`,
      );
    }
    const { rows } = await db.pool.query("SELECT status FROM calls");
    expect(rows).toEqual([{ status: "active" }]);
    const doctor = await runCli(["doctor"], asRole);
    expect(doctor.code).toBe(2);
    expect(doctor.stdout).toMatch(
      /✗ privileges +as the tables' owner, run: GRANT SELECT \("call_id", "twilio_call_sid", /,
    );
  });

  it("migrate as the runtime role: one line saying who runs migrate", async () => {
    const r = await runCli(["migrate"], { ...asRole, RECONCILER_SCHEMA: "public" });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/the database role may not do this \(permission denied for schema public\)/);
    expect(r.stderr).toMatch(/`migrate` runs as the owner of the daemon's tables/);
  });

  it("one privilege short: names just that one", async () => {
    await db.pool.query(grantsFor(role));
    await db.pool.query(`REVOKE INSERT ON call_reconciler.call_reconciler_actions FROM ${role}`);
    const r = await runCli(["audit"], asRole);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      `call-reconciler: the database role ${role} lacks INSERT on call_reconciler.call_reconciler_actions. As the tables' owner, run: GRANT INSERT ON "call_reconciler"."call_reconciler_actions" TO "${role}"`,
    );
  });

  it("SELECT on the mapped columns short of one: names that column and its column-level GRANT", async () => {
    await db.pool.query(grantsFor(role));
    await db.pool.query(`REVOKE SELECT (openai_call_id) ON calls FROM ${role}`);
    const r = await runCli(["audit"], asRole);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      `call-reconciler: the database role ${role} lacks SELECT (openai_call_id) on public.calls. As the tables' owner, run: GRANT SELECT ("openai_call_id") ON "public"."calls" TO "${role}"`,
    );
  });

  it("with the README's GRANTs: audit --apply, hold and revert work, and the audit trail is append-only", async () => {
    await db.pool.query(grantsFor(role));
    // Column-level SELECT only: the row's other columns stay out of the role's reach, and doctor is content.
    const table = await db.pool.query<{ granted: boolean }>(
      "SELECT has_table_privilege($1, 'public.calls', 'SELECT') AS granted",
      [role],
    );
    expect(table.rows).toEqual([{ granted: false }]);
    const doctor = await runCli(["doctor", "--json"], { ...asRole, OPENAI_PROBE: "off" });
    const checks = (JSON.parse(doctor.stdout) as { checks: { name: string; state: string }[] }).checks;
    for (const name of ["privileges", "tables", "state", "status values"])
      expect(checks.find((c) => c.name === name)?.state, name).toBe("pass");
    const audit = await runCli(["audit", "--apply"], asRole);
    expect(audit.stderr).toBe("");
    expect(audit.code).toBe(0);
    const ended = await db.pool.query("SELECT status FROM calls WHERE call_id = 'old'");
    expect(ended.rows).toEqual([{ status: "timeout" }]);
    const revert = await runCli(["revert", "--call", "old", "--apply"], asRole);
    expect(revert.stderr).toBe("");
    expect(revert.code).toBe(0);
    const release = await runCli(["release", "old"], asRole);
    expect(release.stderr).toBe("");
    expect(release.code).toBe(0);

    const client = new pg.Client({ connectionString: asRole.DATABASE_URL });
    await client.connect();
    try {
      for (const sql of [
        "UPDATE call_reconciler.call_reconciler_actions SET new_status = 'x'",
        "DELETE FROM call_reconciler.call_reconciler_actions",
        "UPDATE public.calls SET call_id = 'renamed'",
        "SELECT caller_number FROM public.calls",
      ]) {
        await expect(client.query(sql), sql).rejects.toMatchObject({ code: "42501" });
      }
    } finally {
      await client.end();
    }
  });
});
