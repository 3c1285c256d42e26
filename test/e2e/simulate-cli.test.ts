import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPool } from "../../src/db/pool.js";
import { type CliResult, runCli, startCli, watchOutput } from "../helpers/cli.js";
import { type FreshDatabase, freshDatabase } from "../helpers/db.js";
import { until } from "../helpers/wait.js";

const SUB_A = `AC${"a".repeat(32)}`;
const SUB_B = `AC${"b".repeat(32)}`;
/** Past TWILIO_LIST_DIFF_THRESHOLD (100): the default strategy lists each account's live calls at the simulator. */
const ROWS = 130;

/** A table whose every name differs from the defaults, with two active statuses and a subaccount column. */
const MAPPING = {
  CALLS_TABLE: "telephony.phone_calls",
  CALLS_COL_ID: "pk",
  CALLS_COL_TWILIO_SID: "sid",
  CALLS_COL_OPENAI_ID: "rt_id",
  CALLS_COL_STATUS: "state",
  CALLS_COL_STARTED_AT: "began",
  CALLS_COL_ENDED_AT: "finished",
  CALLS_COL_TWILIO_ACCOUNT: "acct",
  ACTIVE_STATUSES: "ringing,talking",
};

interface Row {
  pk: string;
  sid: string | null;
  acct: string | null;
}

const sidOf = (pk: string) => `CA${createHash("sha256").update(pk).digest("hex").slice(0, 32)}`;

type Truth = { kind: "live" } | { kind: "unknown" } | { kind: "ended"; endedAt: Date };

/** What the running Twilio simulator says about a row: the ground truth the passes must follow. */
async function askTwilio(vars: Record<string, string>, row: Row): Promise<Truth> {
  const account = row.acct ?? vars.TWILIO_ACCOUNT_SID;
  const res = await fetch(
    `${vars.TWILIO_API_BASE_URL}/2010-04-01/Accounts/${account}/Calls/${row.sid}.json`,
    {
      headers: {
        Authorization: `Basic ${Buffer.from(`${vars.TWILIO_ACCOUNT_SID}:${vars.TWILIO_AUTH_TOKEN}`).toString("base64")}`,
      },
    },
  );
  if (res.status === 404) return { kind: "unknown" };
  const body = (await res.json()) as { status: string; end_time: string | null };
  if (body.status === "in-progress") return { kind: "live" };
  expect(body.status).toBe("completed");
  return { kind: "ended", endedAt: new Date(body.end_time as string) };
}

/** The `export A=1 B=2` line simulate prints, as variables. */
function exported(stdout: string): Record<string, string> {
  const line = /^export (.+)$/m.exec(stdout)?.[1];
  if (line === undefined) throw new Error(`no export line in:\n${stdout}`);
  return Object.fromEntries(line.split(" ").map((kv) => kv.split("=", 2) as [string, string]));
}

function startSimulate(env: Record<string, string>, args: string[] = []) {
  const run = startCli(["simulate", ...args], env);
  const out = watchOutput(run.child);
  const ready = until("simulate's banner", () => out.stdout().includes("# Serving until"), 20_000).then(() =>
    out.stdout(),
  );
  return { ...run, ready };
}

describe("call-reconciler simulate (the built CLI, real Postgres)", () => {
  let db: FreshDatabase;
  let env: Record<string, string>;
  const rows: Row[] = [];

  beforeAll(async () => {
    db = await freshDatabase();
    env = { DATABASE_URL: db.url, ...MAPPING, TWILIO_MAX_RPS: "200", OPENAI_MAX_RPS: "200" };
    await db.pool.query(`CREATE SCHEMA telephony;
      CREATE TABLE telephony.phone_calls (pk text PRIMARY KEY, sid text, rt_id text, state text NOT NULL,
        began timestamptz NOT NULL, finished timestamptz, acct text)`);
    const now = Date.now();
    for (let i = 0; i < ROWS; i++) {
      const pk = `call-${i}`;
      const acct = i % 3 === 0 ? SUB_A : i % 3 === 1 ? SUB_B : null;
      rows.push({ pk, sid: sidOf(pk), acct });
      // Ten minutes to 23 hours old, milliseconds included: younger than the age bound, older than MIN_CALL_AGE.
      await db.pool.query(
        "INSERT INTO telephony.phone_calls (pk, sid, rt_id, state, began, acct) VALUES ($1, $2, $3, $4, $5, $6)",
        [
          pk,
          sidOf(pk),
          i % 4 === 0 ? `rtc_${pk}` : null,
          i % 2 === 0 ? "talking" : "ringing",
          new Date(now - 600_000 - i * 617_123),
          acct,
        ],
      );
    }
    await db.pool.query(`INSERT INTO telephony.phone_calls (pk, sid, state, began, finished) VALUES
      ('no-ids', NULL, 'talking', now() - interval '1 hour', NULL),
      ('over', '${sidOf("over")}', 'hung-up', now() - interval '2 hours', now() - interval '1 hour')`);
    const migrated = await runCli(["migrate"], env);
    expect(migrated.code, migrated.stderr).toBe(0);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it("serves the active rows as live, ended or unknown; audit --apply ends exactly the ended ones at the simulator's end time", async () => {
    const sim = startSimulate(env);
    const twin = startSimulate(env);
    try {
      const banner = await sim.ready;
      const vars = exported(banner);
      expect(Object.keys(vars).sort()).toEqual([
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "TWILIO_ACCOUNT_SID",
        "TWILIO_API_BASE_URL",
        "TWILIO_AUTH_TOKEN",
      ]);
      expect(new URL(vars.TWILIO_API_BASE_URL as string).hostname).toBe("127.0.0.1");
      expect(new URL(vars.OPENAI_BASE_URL as string).hostname).toBe("127.0.0.1");
      expect(banner).toMatch(/^# simulating 130 active rows of telephony\.phone_calls/m);
      expect(banner).toMatch(/1 more rows have no Twilio SID or OpenAI id/);
      expect(banner).toMatch(/2 Twilio \(sub\)accounts/);

      // A second instance over the same rows gives every row the same kind.
      const twinBanner = await twin.ready;
      const twinVars = exported(twinBanner);
      const tally = (b: string) => b.split("\n").filter((l) => /^# {3}(live|ended|unknown) /.test(l));
      expect(tally(twinBanner)).toEqual(tally(banner));

      const truth = new Map<string, Truth>();
      for (const row of rows) {
        const t = await askTwilio(vars, row);
        truth.set(row.pk, t);
        expect(await askTwilio(twinVars, row)).toEqual(t);
      }
      // The rows not active, or without any id, are not served.
      expect(await askTwilio(vars, { pk: "over", sid: sidOf("over"), acct: null })).toEqual({
        kind: "unknown",
      });
      const ofKind = (kind: Truth["kind"]) => rows.filter((r) => truth.get(r.pk)?.kind === kind);
      const [live, ended, unknown] = [ofKind("live"), ofKind("ended"), ofKind("unknown")];
      for (const k of [live, ended, unknown]) expect(k.length).toBeGreaterThan(0);
      expect(banner).toContain(`#   ended ${ended.length}:`);
      // A subaccount's call is served under that account only.
      const subEnded = ended.find((r) => r.acct !== null) as Row;
      expect(await askTwilio(vars, { ...subEnded, acct: null })).toEqual({ kind: "unknown" });

      const withSims = { ...env, ...vars };
      const dry = await runCli(["audit", "--json"], withSims);
      expect(dry.code, dry.stderr).toBe(1);
      const dryReport = JSON.parse(dry.stdout) as {
        calls: { callId: string; decision: string; endedAt?: string; source?: string; reason?: string }[];
      };
      const wouldEnd = dryReport.calls.filter((c) => c.decision === "end");
      expect(wouldEnd.map((c) => c.callId).sort()).toEqual(ended.map((r) => r.pk).sort());
      for (const c of wouldEnd) {
        const t = truth.get(c.callId) as Truth & { endedAt: Date };
        expect(c).toMatchObject({ source: "twilio", endedAt: t.endedAt.toISOString() });
      }
      expect(
        (await db.pool.query("SELECT 1 FROM telephony.phone_calls WHERE finished IS NOT NULL")).rowCount,
      ).toBe(1);

      const applied: CliResult = await runCli(["audit", "--apply", "--json"], withSims);
      // 3: the unknown rows (and the row without ids) are left unverified.
      expect(applied.code, applied.stderr).toBe(3);
      const report = JSON.parse(applied.stdout) as typeof dryReport;
      const unverified = report.calls.filter((c) => c.decision === "unverified").map((c) => c.callId);
      expect(unverified.sort()).toEqual([...unknown.map((r) => r.pk), "no-ids"].sort());

      const { rows: stored } = await db.pool.query<{ pk: string; state: string; finished: Date | null }>(
        "SELECT pk, state, finished FROM telephony.phone_calls",
      );
      const byPk = new Map(stored.map((r) => [r.pk, r]));
      for (const r of ended) {
        const t = truth.get(r.pk) as Truth & { endedAt: Date };
        expect(byPk.get(r.pk)).toMatchObject({ state: "completed", finished: t.endedAt });
      }
      for (const r of [...live, ...unknown]) {
        expect(byPk.get(r.pk)?.finished, r.pk).toBeNull();
        expect(["talking", "ringing"]).toContain(byPk.get(r.pk)?.state);
      }
    } finally {
      for (const s of [sim, twin]) s.child.kill("SIGTERM");
    }
    for (const s of [sim, twin]) {
      const done = await s.done;
      expect(done.code, done.stderr).toBe(0);
      expect(done.stdout).toContain("# simulators stopped");
    }
  }, 60_000);

  it("needs only the calls table: it mirrors a table whose database the daemon never migrated", async () => {
    const bare = await freshDatabase();
    try {
      await bare.pool.query(`CREATE SCHEMA telephony;
        CREATE TABLE telephony.phone_calls (pk text PRIMARY KEY, sid text, rt_id text, state text NOT NULL,
          began timestamptz NOT NULL, finished timestamptz, acct text);
        INSERT INTO telephony.phone_calls (pk, sid, state, began) VALUES
          ('bare-1', '${sidOf("bare-1")}', 'talking', now() - interval '1 hour')`);
      const sim = startSimulate({ ...env, DATABASE_URL: bare.url }, ["--ended", "1"]);
      expect(await sim.ready).toMatch(/^# {3}ended 1:/m);
      sim.child.kill("SIGINT");
      expect((await sim.done).code).toBe(0);
    } finally {
      await bare.drop();
    }
  });

  it("writes nothing to the table: its session is read-only", async () => {
    const before = await db.pool.query("SELECT * FROM telephony.phone_calls ORDER BY pk");
    const sim = startSimulate(env, ["--ended", "1"]);
    const banner = await sim.ready;
    expect(banner).toMatch(/^# {3}live 0:/m);
    sim.child.kill("SIGINT");
    expect((await sim.done).code).toBe(0);
    expect((await db.pool.query("SELECT * FROM telephony.phone_calls ORDER BY pk")).rows).toEqual(
      before.rows,
    );
    // The server itself refuses a write on such a session.
    const readOnly = createPool(db.url, { max: 1, readOnly: true });
    try {
      await expect(readOnly.query("UPDATE telephony.phone_calls SET state = 'x'")).rejects.toMatchObject({
        code: "25006",
      });
    } finally {
      await readOnly.end();
    }
  });

  it("answers --help, and refuses bad shares, ports and a non-loopback host with one line and exit 2", async () => {
    const help = await runCli(["simulate", "--help"], {});
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: call-reconciler simulate/);
    const cases: [string[], RegExp][] = [
      [["--live", "0.5", "--ended", "0.4"], /must add up to 1 \(got 0\.5 \+ 0\.4 \+ 0 = 0\.9\)/],
      [["--live", "1.5"], /--live must be a share between 0 and 1/],
      [["--ended", "x"], /--ended must be a share/],
      [["--twilio-port", "70000"], /--twilio-port must be a port number/],
      [["--openai-port=-1"], /--openai-port must be a port number/],
      [["--openai-port", "-1"], /--openai-port.* argument is ambiguous/],
      [["--host", "0.0.0.0"], /--host must be a loopback address/],
      [["--host", "192.168.1.10"], /--host must be a loopback address/],
      [["--bogus"], /simulate: Unknown option '--bogus'/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(["simulate", ...args], env);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr.trim().split("\n"), args.join(" ")).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
    // A port already taken: one line, exit 2, nothing left running.
    const holder = startSimulate(env);
    const port = new URL(exported(await holder.ready).TWILIO_API_BASE_URL as string).port;
    const taken = await runCli(["simulate", "--twilio-port", port], env);
    holder.child.kill("SIGTERM");
    await holder.done;
    expect(taken.code).toBe(2);
    expect(taken.stderr).toMatch(/^call-reconciler: simulate: cannot listen on 127\.0\.0\.1 .*EADDRINUSE/);
  });
});
