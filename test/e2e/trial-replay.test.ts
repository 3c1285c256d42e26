/**
 * An operator's trial, replayed in order on one database shaped like theirs: an app table of its own
 * (`telephony."PhoneCalls"`: uuid ids, a camel-case SID column, an enum status, an update trigger) full of
 * history, an owner and a separate least-privilege runtime role as the README prescribes, and the Twilio
 * simulator knowing the active rows. Each step is what the operator typed; the mistakes they made on the way
 * each get one line naming the fix, and the 3,000 finished rows come out of it byte for byte as they went in.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fakeCallSid } from "../../src/sim/demo-scenario.js";
import { startTwilioSimulator, type TwilioSimulator } from "../../src/sim/twilio-sim.js";
import { type CliResult, runCli } from "../helpers/cli.js";
import { type FreshDatabase, freshDatabase, withAdminClient } from "../helpers/db.js";
import { readmeGrants } from "../helpers/markdown.js";

const ACCOUNT = `AC${"7".repeat(32)}`;
const TOKEN = "trial-auth-token-not-a-secret";
const FINISHED = 3000;

/**
 * The README's runtime GRANTs, as an operator adapts them to their table: `public.calls` with the default
 * column names becomes telephony."PhoneCalls" with its own end column; the role gets its own name.
 */
function adaptedGrants(role: string): string {
  const adapted = readmeGrants()
    .replace(/ON SCHEMA public\b/g, "ON SCHEMA telephony")
    .replace(
      /SELECT \(call_id, twilio_call_sid, openai_call_id, status, started_at, ended_at\), UPDATE \(status, ended_at\) ON public\.calls\b/g,
      'SELECT (id, "twilioSid", "openaiCallId", status, begun_at, finished_at), UPDATE (status, finished_at) ON telephony."PhoneCalls"',
    )
    .replace(/\breconciler\b/g, role);
  // The adaptation must have found what it replaces, or the grants would silently be the README's own.
  expect(adapted).toContain('telephony."PhoneCalls"');
  expect(adapted).toContain("ON SCHEMA telephony");
  return adapted;
}

/** Whole seconds: Twilio's times have second precision, so the written end times can be compared exactly. */
const wholeSecondsAgo = (now: number, s: number) => new Date(Math.floor(now / 1000) * 1000 - s * 1000);

interface ActiveCall {
  id: string;
  sid: string;
  begunAt: Date;
  /** What Twilio says: its status and true end time, or live. */
  twilio: { status: "completed" | "no-answer" | "busy"; endTime: Date } | { status: "in-progress" };
  /** For a zombie: the enum value that must be written (after STATUS_MAP). */
  mapped?: string;
}

/** 40 active rows: 28 that Twilio ended (completed, no-answer, busy), 12 still live. */
function activeCalls(now: number): ActiveCall[] {
  const calls: ActiveCall[] = [];
  for (let i = 0; i < 40; i++) {
    const begunAt = wholeSecondsAgo(now, 900 + i * 300);
    const id = `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`;
    const sid = fakeCallSid(`trial-${i}`);
    const endTime = new Date(begunAt.getTime() + (60 + i * 7) * 1000);
    if (i < 20)
      calls.push({ id, sid, begunAt, twilio: { status: "completed", endTime }, mapped: "completed" });
    else if (i < 26)
      calls.push({ id, sid, begunAt, twilio: { status: "no-answer", endTime }, mapped: "no_answer" });
    else if (i < 28) calls.push({ id, sid, begunAt, twilio: { status: "busy", endTime }, mapped: "busy" });
    else calls.push({ id, sid, begunAt, twilio: { status: "in-progress" } });
  }
  return calls;
}

/** Nothing on stderr may ever be a stack trace, whatever the step. */
function noStack(r: CliResult): void {
  expect(r.stderr, r.stderr).not.toMatch(/^\s+at /m);
}

/** One line on stderr, exit 2, and that line. */
function oneLine(r: CliResult): string {
  noStack(r);
  expect(r.code, r.stderr + r.stdout).toBe(2);
  const lines = r.stderr.trim().split("\n");
  expect(lines, r.stderr).toHaveLength(1);
  return lines[0] as string;
}

describe("the operator's trial, replayed on one telephony database", () => {
  let db: FreshDatabase;
  let sim: TwilioSimulator;
  let owner: pg.Pool;
  let calls: ActiveCall[];
  const suffix = randomBytes(4).toString("hex");
  const ownerRole = `trial_owner_${suffix}`;
  const role = `reconciler_${suffix}`;
  const readOnlyRole = `reconciler_ro_${suffix}`;
  const passwords: Record<string, string> = Object.fromEntries(
    [ownerRole, role, readOnlyRole].map((r) => [r, randomBytes(12).toString("hex")]),
  );
  const urlAs = (who: string) => {
    const url = new URL(db.url);
    url.username = who;
    url.password = passwords[who] as string;
    return url.toString();
  };
  /** Everything the operator exported for their table, as the runtime role. */
  let mapping: Record<string, string>;
  const finishedSnapshot = async () =>
    (
      await db.pool.query<{ n: string; sum: string }>(
        `SELECT count(*) AS n, md5(string_agg(p::text, '|' ORDER BY p.id)) AS sum
           FROM telephony."PhoneCalls" p WHERE p.finished_at IS NOT NULL AND p.id <> ALL($1::uuid[])`,
        [calls.map((c) => c.id)],
      )
    ).rows[0];
  let finishedBefore: { n: string; sum: string } | undefined;

  beforeAll(async () => {
    const now = Date.now();
    calls = activeCalls(now);
    db = await freshDatabase();
    await withAdminClient(async (c) => {
      for (const r of [ownerRole, role, readOnlyRole])
        await c.query(`CREATE ROLE ${r} LOGIN PASSWORD '${passwords[r]}'`);
    });
    // PostgreSQL 15's default, spelt out for the older servers tests may run on.
    await db.pool.query("REVOKE CREATE ON SCHEMA public FROM PUBLIC");
    await db.pool.query(`GRANT CREATE ON DATABASE "${db.name}" TO ${ownerRole}`);

    owner = new pg.Pool({ connectionString: urlAs(ownerRole), max: 2 });
    owner.on("error", () => {});
    await owner.query(`CREATE SCHEMA telephony`);
    await owner.query(`CREATE TYPE telephony.call_status AS ENUM
      ('ringing', 'in_progress', 'completed', 'no_answer', 'timed_out', 'busy', 'failed', 'canceled')`);
    await owner.query(`CREATE TABLE telephony."PhoneCalls" (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      "twilioSid" text,
      "openaiCallId" text,
      status telephony.call_status NOT NULL,
      begun_at timestamptz NOT NULL,
      finished_at timestamptz,
      updated_at timestamptz NOT NULL DEFAULT now())`);
    await owner.query(`CREATE FUNCTION telephony.touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS
      $$ BEGIN NEW.updated_at := clock_timestamp(); RETURN NEW; END $$`);
    await owner.query(`CREATE TRIGGER phone_calls_touch BEFORE UPDATE ON telephony."PhoneCalls"
      FOR EACH ROW EXECUTE FUNCTION telephony.touch_updated_at()`);
    // History: a month of finished calls, all far past the age bound, so that reading any as live would show.
    await owner.query(
      `INSERT INTO telephony."PhoneCalls" ("twilioSid", status, begun_at, finished_at, updated_at)
       SELECT 'CA' || md5(g::text), 'completed', now() - g * interval '14 minutes',
              now() - g * interval '14 minutes' + interval '3 minutes', now() - g * interval '14 minutes'
         FROM generate_series(1, $1::int) AS g`,
      [FINISHED],
    );
    for (const c of calls) {
      await owner.query(
        `INSERT INTO telephony."PhoneCalls" (id, "twilioSid", status, begun_at) VALUES ($1, $2, 'in_progress', $3)`,
        [c.id, c.sid, c.begunAt],
      );
    }
    await owner.query(`CREATE INDEX phone_calls_active_idx ON telephony."PhoneCalls" (begun_at, id)
      WHERE status IN ('in_progress', 'ringing')`);
    finishedBefore = await finishedSnapshot();

    sim = await startTwilioSimulator({
      accountSid: ACCOUNT,
      authToken: TOKEN,
      calls: calls.map((c) =>
        c.twilio.status === "in-progress"
          ? { sid: c.sid, status: "in-progress", startTime: c.begunAt, endTime: null, duration: null }
          : {
              sid: c.sid,
              status: c.twilio.status,
              startTime: c.begunAt,
              endTime: c.twilio.endTime,
              duration: String((c.twilio.endTime.getTime() - c.begunAt.getTime()) / 1000),
            },
      ),
    });
    mapping = {
      DATABASE_URL: urlAs(role),
      RECONCILER_SCHEMA: "call_reconciler",
      CALLS_TABLE: "telephony.PhoneCalls",
      CALLS_COL_ID: "id",
      CALLS_COL_TWILIO_SID: "twilioSid",
      CALLS_COL_OPENAI_ID: "openaiCallId",
      CALLS_COL_STATUS: "status",
      CALLS_COL_STARTED_AT: "begun_at",
      CALLS_COL_ENDED_AT: "finished_at",
      ACTIVE_STATUSES: "in_progress,ringing",
      STATUS_MAP: "no-answer:no_answer,timeout:timed_out",
      TWILIO_ACCOUNT_SID: ACCOUNT,
      TWILIO_AUTH_TOKEN: TOKEN,
      TWILIO_API_BASE_URL: sim.url,
      TWILIO_MAX_RPS: "200",
      LOG_LEVEL: "warn",
    };
  });
  afterAll(async () => {
    await owner?.end().catch(() => {});
    await sim?.close();
    await db?.drop();
    await withAdminClient(async (c) => {
      for (const r of [ownerRole, role, readOnlyRole]) await c.query(`DROP ROLE IF EXISTS ${r}`);
    });
  });

  it("1. migrate, once as the owner into RECONCILER_SCHEMA, says where it wrote", async () => {
    const r = await runCli(["migrate"], {
      DATABASE_URL: urlAs(ownerRole),
      RECONCILER_SCHEMA: "call_reconciler",
    });
    noStack(r);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^created schema call_reconciler$/m);
    expect(r.stdout).toMatch(/applied migrations: [\d, ]+ in schema call_reconciler/);
    // The owner then grants the runtime role exactly the README's privileges, adapted to the table.
    await owner.query(adaptedGrants(role));
  });

  it("2. doctor as the runtime role passes every database check; only the unconfigured OpenAI probe warns", async () => {
    const r = await runCli(["doctor"], mapping);
    noStack(r);
    expect(r.stderr).toBe("");
    const lines = r.stdout.trim().split("\n");
    for (const name of [
      "configuration",
      "database",
      "clock",
      "privileges",
      "tables",
      "state",
      "status values",
      "listing index",
      "active rows",
      "twilio",
    ]) {
      expect(
        lines.find((l) => l.includes(` ${name} `)),
        `${name}\n${r.stdout}`,
      ).toMatch(/^✓ /);
    }
    expect(r.stdout).toMatch(new RegExp(`reachable as role ${role}\\b`));
    expect(r.stdout).toMatch(
      /would write completed→completed, busy→busy, no-answer→no_answer, canceled→canceled, failed→failed, timeout→timed_out \(the column's enum accepts them\)/,
    );
    expect(r.stdout).toMatch(/40 rows hold ACTIVE_STATUSES \(in_progress,ringing\)/);
    expect(
      lines.filter((l) => !l.startsWith("✓ ")),
      r.stdout,
    ).toEqual([expect.stringMatching(/^! openai +probe off/)]);
    expect(r.code).toBe(1);
    expect(await finishedSnapshot()).toEqual(finishedBefore);
  });

  it("3. the dry run shows the mapped enum values it would write, and writes nothing", async () => {
    const r = await runCli(["audit"], mapping);
    noStack(r);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/DRY RUN, nothing was written/);
    for (const c of calls.filter((c) => c.mapped !== undefined)) {
      expect(r.stdout).toMatch(new RegExp(`^${c.id} .*would end → ${c.mapped} \\(twilio\\)`, "m"));
    }
    expect(r.stdout).not.toMatch(/would end → no-answer/);
    expect(r.stdout).toMatch(
      /checked 40 active calls, 12 live, 28 zombies \(twilio 28\), 0 ended \(dry run\)/,
    );
    const json = await runCli(["audit", "--json"], mapping);
    const byId = new Map(
      (JSON.parse(json.stdout).calls as { callId: string; newStatus?: string }[]).map((c) => [c.callId, c]),
    );
    expect(byId.get(calls[20]?.id as string)).toMatchObject({ newStatus: "no_answer", outcome: "would_end" });
    const { rows } = await db.pool.query(
      `SELECT count(*)::int AS n FROM telephony."PhoneCalls" WHERE status = 'in_progress'`,
    );
    expect(rows).toEqual([{ n: 40 }]);
  });

  it("4. audit --apply ends exactly Twilio's confirmed zombies, with its end times and the mapped values", async () => {
    const r = await runCli(["audit", "--apply"], mapping);
    noStack(r);
    expect(r.stderr).toBe("");
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/APPLIED \(run [0-9a-f-]{36}\)/);
    expect(r.stdout).toMatch(/checked 40 active calls, 12 live, 28 zombies \(twilio 28\), 28 ended/);

    const { rows } = await db.pool.query<{ id: string; status: string; finished_at: Date | null }>(
      `SELECT id::text, status::text, finished_at FROM telephony."PhoneCalls" WHERE id = ANY($1::uuid[])`,
      [calls.map((c) => c.id)],
    );
    const got = new Map(rows.map((row) => [row.id, row]));
    for (const c of calls) {
      const row = got.get(c.id);
      if (c.twilio.status === "in-progress") {
        expect(row, c.id).toEqual({ id: c.id, status: "in_progress", finished_at: null });
      } else {
        expect(row, c.id).toEqual({ id: c.id, status: c.mapped, finished_at: c.twilio.endTime });
      }
    }
    const trail = await db.pool.query<{ n: number; sources: string[]; previous: string[] }>(
      `SELECT count(*)::int AS n, array_agg(DISTINCT source) AS sources, array_agg(DISTINCT previous_status) AS previous
         FROM call_reconciler.call_reconciler_actions WHERE outcome = 'ended'`,
    );
    expect(trail.rows).toEqual([{ n: 28, sources: ["twilio"], previous: ["in_progress"] }]);
    // Not a single finished row was touched: the update trigger would have moved updated_at of any it was.
    expect(await finishedSnapshot()).toEqual(finishedBefore);
    expect(finishedBefore?.n).toBe(String(FINISHED));

    // Run again: nothing left to end, nothing written twice.
    const again = await runCli(["audit", "--apply"], mapping);
    noStack(again);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/checked 12 active calls, 12 live, 0 zombies, 0 ended/);
  });

  it("5a. ACTIVE_STATUSES with an end status is refused in one line", async () => {
    const line = oneLine(
      await runCli(["audit"], { ...mapping, ACTIVE_STATUSES: "in_progress,ringing,completed" }),
    );
    expect(line).toMatch(/ACTIVE_STATUSES includes "completed".*remove it from ACTIVE_STATUSES/);
  });

  it("5b. CALLS_COL_TWILIO_SID=twiliosid names the column the table has", async () => {
    const line = oneLine(await runCli(["audit"], { ...mapping, CALLS_COL_TWILIO_SID: "twiliosid" }));
    expect(line).toMatch(/CALLS_COL_TWILIO_SID/);
    expect(line).toMatch(/did you mean CALLS_COL_TWILIO_SID=twilioSid\?/);
  });

  it("5c. a quoted CALLS_TABLE, and one in the wrong case, get the spelling that works", async () => {
    const quoted = oneLine(await runCli(["audit"], { ...mapping, CALLS_TABLE: 'telephony."PhoneCalls"' }));
    expect(quoted).toMatch(/CALLS_TABLE/);
    expect(quoted).toMatch(/case-sensitive/);
    expect(quoted).toMatch(/write telephony\.PhoneCalls without quotes/);
    const folded = oneLine(await runCli(["audit"], { ...mapping, CALLS_TABLE: "telephony.phonecalls" }));
    expect(folded).toMatch(/CALLS_TABLE: table telephony\.phonecalls does not exist/);
    expect(folded).toMatch(/case-sensitive.*did you mean CALLS_TABLE=telephony\.PhoneCalls\?/);
  });

  it("5d. a misspelt setting gets a did-you-mean", async () => {
    const line = oneLine(await runCli(["audit"], { ...mapping, MIN_CALL_AGE_SECOND: "3600" }));
    expect(line).toMatch(
      /MIN_CALL_AGE_SECOND is not a setting of call-reconciler: did you mean MIN_CALL_AGE_SECONDS\?/,
    );
  });

  it('5e. "1m" for a seconds setting is one clear line with the form expected', async () => {
    const line = oneLine(await runCli(["audit"], { ...mapping, MIN_CALL_AGE_SECONDS: "1m" }));
    expect(line).toMatch(/MIN_CALL_AGE_SECONDS must be a whole number of seconds.*\(got "1m"\)/);
  });

  it("5f. audit as a role without UPDATE names the GRANT, and writes nothing", async () => {
    const grants = adaptedGrants(readOnlyRole)
      .split("\n")
      .filter((l) => !/^GRANT SELECT \(.*\), UPDATE \(status, finished_at\)/.test(l))
      .join("\n");
    await owner.query(`${grants}\nGRANT SELECT ON telephony."PhoneCalls" TO ${readOnlyRole};`);
    const line = oneLine(
      await runCli(["audit", "--apply"], { ...mapping, DATABASE_URL: urlAs(readOnlyRole) }),
    );
    expect(line).toMatch(
      new RegExp(
        `the database role ${readOnlyRole} lacks UPDATE \\(status, finished_at\\) on telephony\\.PhoneCalls`,
      ),
    );
    expect(line).toContain(
      `GRANT UPDATE ("status", "finished_at") ON "telephony"."PhoneCalls" TO "${readOnlyRole}"`,
    );
    expect(await finishedSnapshot()).toEqual(finishedBefore);
  });
});
