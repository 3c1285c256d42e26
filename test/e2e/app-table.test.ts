/**
 * The app's own calls table, as its Python code creates it and without any change (text naive-UTC times, one id
 * column holding `CA…` Call SIDs and `rtc_…` realtime ids, a REAL duration, its own status words), reconciled by
 * the built CLI running as a least-privilege role: column-level SELECT and UPDATE on the calls table and the
 * README's grants on the daemon's schema. On real PostgreSQL, both simulators.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  APP_CALLS_TABLE_SQL,
  APP_LISTING_INDEX_SQL,
  APP_TABLE_SETTINGS,
  type AppCall,
  pythonIsoformat,
  readAppCalls,
  type StoredAppCall,
  seedAppCalls,
} from "../../src/dev/app-table.js";
import { fakeCallSid } from "../../src/sim/demo-scenario.js";
import { type OpenAISimulator, startOpenAISimulator } from "../../src/sim/openai-sim.js";
import { startTwilioSimulator, type TwilioSimulator } from "../../src/sim/twilio-sim.js";
import { type CliResult, runCli, startCli } from "../helpers/cli.js";
import { type FreshDatabase, freshDatabase, withAdminClient } from "../helpers/db.js";
import { readmeGrants } from "../helpers/markdown.js";
import { until } from "../helpers/wait.js";

const ACCOUNT = `AC${"a".repeat(32)}`;
const TOKEN = "app-table-token-0123456789";
const OPENAI_KEY = "sk-app-table-0123456789";
const SCHEMA = "call_reconciler";
const MIN = 60_000;
const CAP_MS = 3600_000; // OPENAI_MAX_SESSION_SECONDS' default

const NOW = Date.now();
/** A time the app stamped: milliseconds included (never 0), as `datetime.utcnow()` has them. */
const stamped = (minutesAgo: number) => new Date(Math.floor((NOW - minutesAgo * MIN) / 1000) * 1000 + 683);
/** A time Twilio gives: whole seconds. */
const twilioTime = (ms: number) => new Date(Math.floor(ms / 1000) * 1000);

/**
 * The end the daemon writes into this column: Python's `isoformat()` with the column's six-digit fraction,
 * written even when it is zero (docs/operations.md, "The end written"); Python's `fromisoformat` reads both.
 */
const asWritten = (d: Date) => {
  const text = pythonIsoformat(d);
  return text.length === 19 ? `${text}.000000` : text;
};

const noStack = (r: CliResult) => expect(r.stderr, r.stderr).not.toMatch(/^\s+at /m);

const active = (callId: string, startedAt: Date): AppCall => ({
  callId,
  callType: callId.startsWith("CA") ? "outbound" : "inbound",
  status: "active",
  startedAt,
  endedAt: null,
  durationSeconds: null,
});

/** An outbound call over at Twilio with Twilio's status `twilioStatus`, while its row is still active. */
function twilioZombie(name: string, twilioStatus: string, seconds: number, minutesAgo: number) {
  const row = active(fakeCallSid(`app-${name}`), stamped(minutesAgo));
  const twilioStart = twilioTime(row.startedAt.getTime() + 3000);
  // A call that never connected has no start at Twilio, only the end of its ringing.
  const connected = twilioStatus === "completed";
  const end = twilioTime(twilioStart.getTime() + (connected ? seconds * 1000 : 25_000));
  return { row, twilioStatus, twilioStart: connected ? twilioStart : null, end, duration: seconds };
}
const talked = twilioZombie("talked", "completed", 185, 50);
const noAnswer = twilioZombie("no-answer", "no-answer", 0, 60);
const busy = twilioZombie("busy", "busy", 0, 70);
const canceled = twilioZombie("canceled", "canceled", 0, 80);
const zombies = [talked, noAnswer, busy, canceled];

const liveSid = active(fakeCallSid("app-live"), stamped(40));
// Over at Twilio too, but the app's own webhook ends it while the pass waits on Twilio's answer.
const raced = active(fakeCallSid("app-raced"), stamped(45));
const racedTwilioEnd = twilioTime(raced.startedAt.getTime() + 120_000);
const racedByApp = {
  endedAt: pythonIsoformat(new Date(raced.startedAt.getTime() + 118_500)),
  duration: 118.5,
};
// Inbound realtime calls: two gone past OpenAI's session cap, one live and young.
const goneRtc = [active("rtc_app_gone_1", stamped(150)), active("rtc_app_gone_2", stamped(400))];
const liveRtc = active("rtc_app_live", stamped(20));
// Finished by the app, in each of its status words: a call that never connected failed or was cancelled.
const finished: AppCall[] = [
  { ...active(fakeCallSid("app-done"), stamped(300)), status: "completed", durationSeconds: 61.5 },
  { ...active("rtc_app_done", stamped(320)), status: "completed", durationSeconds: 240.25 },
  { ...active(fakeCallSid("app-unanswered"), stamped(330)), status: "failed", durationSeconds: 0 },
  { ...active(fakeCallSid("app-hung-up"), stamped(340)), status: "cancelled", durationSeconds: 0 },
].map((c) => ({ ...c, endedAt: new Date(c.startedAt.getTime() + (c.durationSeconds ?? 0) * 1000 + 123) }));
// February has no 30th: text of the app's shape that names no time.
const badStart = { callId: fakeCallSid("app-feb30"), startedAt: "2026-02-30T10:00:00" };

const activeSids = [...zombies.map((z) => z.row.callId), liveSid.callId, raced.callId];
const allIds = [
  ...activeSids,
  ...goneRtc.map((c) => c.callId),
  liveRtc.callId,
  ...finished.map((c) => c.callId),
  badStart.callId,
];

describe("the app's own calls table, reconciled as it is by a least-privilege role (built CLI, real PostgreSQL)", () => {
  let db: FreshDatabase;
  let twilio: TwilioSimulator;
  let openai: OpenAISimulator;
  let asRole: Record<string, string>;
  const role = `app_rec_${randomBytes(4).toString("hex")}`;
  const password = randomBytes(12).toString("hex");
  /** The rows as the test left them before any pass: what "untouched" is compared with. */
  let before: Map<string, StoredAppCall>;
  let firstRun = "";

  const rows = async () => new Map((await readAppCalls(db.pool, allIds)).map((r) => [r.callId, r]));
  const auditRows = async () =>
    (
      await db.pool.query<{ run_id: string; call_id: string; new_status: string; source: string }>(
        `SELECT run_id, call_id, new_status, source FROM ${SCHEMA}.call_reconciler_actions ORDER BY id`,
      )
    ).rows;

  /** OpenAI's sideband was asked about these realtime ids (on each surface), and about nothing else. */
  function expectOpenAIAskedOnly(ids: readonly string[]): void {
    for (const id of ids) expect(openai.handshakesFor(id), id).toBeGreaterThan(0);
    for (const id of allIds.filter((x) => !ids.includes(x))) expect(openai.handshakesFor(id), id).toBe(0);
    expect(openai.stats.handshakes).toBe(ids.reduce((n, id) => n + openai.handshakesFor(id), 0));
    expect(openai.stats.hangups).toBe(0);
  }

  /** `audit --apply --json` as the role: the exit code and the report. */
  async function applyAudit(): Promise<{ code: number | null; report: AuditReport }> {
    const r = await runCli(["audit", "--apply", "--json"], asRole, 60_000);
    noStack(r);
    expect(r.stderr).toBe("");
    return { code: r.code, report: JSON.parse(r.stdout) as AuditReport };
  }

  beforeAll(async () => {
    db = await freshDatabase();
    twilio = await startTwilioSimulator({ accountSid: ACCOUNT, authToken: TOKEN });
    openai = await startOpenAISimulator({ apiKey: OPENAI_KEY });

    // The app's owner creates its table as it always has, then the index doctor recommends.
    await db.pool.query(APP_CALLS_TABLE_SQL);
    await db.pool.query(APP_LISTING_INDEX_SQL);
    await seedAppCalls(db.pool, [
      ...zombies.map((z) => z.row),
      liveSid,
      raced,
      ...goneRtc,
      liveRtc,
      ...finished,
    ]);
    await db.pool.query(
      "INSERT INTO calls (call_id, call_type, started_at, status) VALUES ($1, 'outbound', $2, 'active')",
      [badStart.callId, badStart.startedAt],
    );
    before = await rows();

    for (const z of zombies)
      twilio.upsertCall({
        sid: z.row.callId,
        status: z.twilioStatus,
        startTime: z.twilioStart,
        endTime: z.end,
        duration: String(z.duration),
      });
    twilio.upsertCall({
      sid: liveSid.callId,
      status: "in-progress",
      startTime: twilioTime(liveSid.startedAt.getTime() + 2000),
      endTime: null,
      duration: null,
    });
    twilio.upsertCall({
      sid: raced.callId,
      status: "completed",
      startTime: twilioTime(raced.startedAt.getTime() + 2000),
      endTime: racedTwilioEnd,
      duration: "118",
    });
    // Were it a time, Twilio's word would end it.
    twilio.upsertCall({
      sid: badStart.callId,
      status: "completed",
      startTime: new Date("2026-01-01T10:00:00Z"),
      endTime: new Date("2026-01-01T10:01:00Z"),
      duration: "60",
    });
    for (const c of goneRtc) openai.upsertSession({ callId: c.callId, live: false });
    openai.upsertSession({ callId: liveRtc.callId, live: true });

    const common = {
      ...APP_TABLE_SETTINGS,
      RECONCILER_SCHEMA: SCHEMA,
      TWILIO_ACCOUNT_SID: ACCOUNT,
      TWILIO_AUTH_TOKEN: TOKEN,
      TWILIO_API_BASE_URL: twilio.url,
      TWILIO_STRATEGY: "per-call",
      OPENAI_API_KEY: OPENAI_KEY,
      OPENAI_BASE_URL: openai.url,
      // Two passes a second apart confirm a realtime absence; the lease outlasts a slow machine.
      RECONCILE_INTERVAL_SECONDS: "1",
      LEADER_LEASE_SECONDS: "60",
      // Every Twilio request is then a fetch of one call: the counters say exactly what was asked.
      DIAGNOSIS_REQUEST_SHARE: "0",
      LOG_LEVEL: "warn",
    };
    const migrated = await runCli(["migrate"], { ...common, DATABASE_URL: db.url });
    expect(migrated.code, migrated.stderr).toBe(0);

    await withAdminClient((c) => c.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`));
    // The README's grants on the daemon's schema; on the app's table, only the mapped columns.
    const daemonGrants = readmeGrants()
      .split("\n")
      .filter((line) => line.includes(`${SCHEMA}.`) || line.includes(`SCHEMA ${SCHEMA}`))
      .join("\n")
      .replace(/\breconciler\b/g, role);
    await db.pool.query(`GRANT USAGE ON SCHEMA public TO ${role};
      GRANT SELECT (call_id, status, started_at, ended_at, duration_seconds),
        UPDATE (status, ended_at, duration_seconds) ON calls TO ${role};
      ${daemonGrants}`);
    const url = new URL(db.url);
    url.username = role;
    url.password = password;
    asRole = { ...common, DATABASE_URL: url.toString() };
  });
  afterAll(async () => {
    await twilio?.close();
    await openai?.close();
    await db?.drop();
    await withAdminClient((c) => c.query(`DROP ROLE IF EXISTS ${role}`));
  });

  it("the role reads no column beyond the five, and doctor passes its privileges and names the start that names no time", async () => {
    const { rows: reach } = await db.pool.query<{ column: string; select: boolean }>(
      `SELECT a.attname AS column, has_column_privilege($1, 'calls', a.attname, 'SELECT') AS select
       FROM pg_attribute a WHERE a.attrelid = 'calls'::regclass AND a.attnum > 0 ORDER BY a.attnum`,
      [role],
    );
    expect(reach.filter((c) => c.select).map((c) => c.column)).toEqual([
      "call_id",
      "started_at",
      "ended_at",
      "duration_seconds",
      "status",
    ]);

    const r = await runCli(["doctor", "--json"], asRole);
    noStack(r);
    const checks = (JSON.parse(r.stdout) as { checks: { name: string; state: string; detail: string }[] })
      .checks;
    const check = (name: string) => checks.find((c) => c.name === name);
    for (const name of ["privileges", "tables", "status values", "state", "duration", "listing index"])
      expect(check(name)?.state, `${name}: ${check(name)?.detail}`).toBe("pass");
    // The statuses the daemon writes are the words the app's finished rows carry.
    expect(checks.filter((c) => c.name === "status words" && c.state !== "pass")).toEqual([]);
    expect(check("start times")).toEqual({
      name: "start times",
      state: "warn",
      detail: `1 active rows have a started_at that names no time (e.g. "${badStart.startedAt}"): they are never ended`,
    });
    expect(await rows()).toEqual(before);
  });

  it("audit --apply ends the Twilio zombies with Twilio's end and duration, and leaves a row the app ends meanwhile", async () => {
    twilio.resetStats();
    openai.resetStats();
    // Twilio answers about the raced call only after the app has ended it.
    twilio.setFault(raced.callId, { kind: "delay", ms: 4000 });
    const audit = startCli(["audit", "--apply", "--json"], asRole, 60_000);
    // Every active Call SID has been asked about (the row whose start names no time too): the raced one waits.
    await until(
      "Twilio asked about every active Call SID",
      () => twilio.stats.fetches >= activeSids.length + 1,
    );
    await db.pool.query(
      "UPDATE calls SET status = 'completed', ended_at = $2, duration_seconds = $3 WHERE call_id = $1",
      [raced.callId, racedByApp.endedAt, racedByApp.duration],
    );
    const r = await audit.done;
    noStack(r);
    expect(r.stderr).toBe("");
    // 3: the realtime absences wait for their second sighting, the row with no start time is never judged.
    expect(r.code).toBe(3);
    const report = JSON.parse(r.stdout) as AuditReport;
    firstRun = report.runId;
    expect(report.summary).toMatchObject({
      ended: 4,
      alreadyEnded: 1,
      zombies: { twilio: 5, openai: 0, age_bound: 0, total: 5 },
      unverified: { absence_unconfirmed: 2, within_session_cap: 1, invalid_time: 1, total: 4 },
    });

    const after = await rows();
    const expectEnded = (z: ReturnType<typeof twilioZombie>, status: string) =>
      expect(after.get(z.row.callId), z.twilioStatus).toEqual({
        ...before.get(z.row.callId),
        status,
        endedAt: asWritten(z.end),
        durationSeconds: z.duration,
      });
    expectEnded(talked, "completed");
    expectEnded(noAnswer, "failed");
    expectEnded(busy, "failed");
    expectEnded(canceled, "cancelled");
    expect(after.get(talked.row.callId)?.endedAt?.startsWith(pythonIsoformat(talked.end))).toBe(true);
    // The app's own end of the raced call, as it wrote it.
    expect(after.get(raced.callId)).toEqual({
      ...before.get(raced.callId),
      status: "completed",
      endedAt: racedByApp.endedAt,
      durationSeconds: racedByApp.duration,
    });
    // Live, finished, not yet confirmed, and no time at all: as they were, byte for byte.
    for (const id of [
      liveSid.callId,
      liveRtc.callId,
      ...goneRtc.map((c) => c.callId),
      ...finished.map((c) => c.callId),
      badStart.callId,
    ])
      expect(after.get(id), id).toEqual(before.get(id));

    expect((await auditRows()).map((a) => [a.call_id, a.new_status, a.source]).sort()).toEqual(
      [
        [talked.row.callId, "completed", "twilio"],
        [noAnswer.row.callId, "failed", "twilio"],
        [busy.row.callId, "failed", "twilio"],
        [canceled.row.callId, "cancelled", "twilio"],
      ].sort(),
    );

    // Twilio was asked once about each active Call SID (the one whose start names no time included: it is
    // listed, then left unjudged), never about a realtime id: such a fetch would have been a 404.
    expect(twilio.stats).toMatchObject({
      requests: activeSids.length + 1,
      fetches: activeSids.length + 1,
      responsesByStatus: { 200: activeSids.length + 1 },
    });
    // OpenAI was asked about the realtime calls past its session cap only: never a Call SID, never the young call.
    expectOpenAIAskedOnly(goneRtc.map((c) => c.callId));
  });

  it("a second audit a pass interval later ends the gone realtime calls at the session cap", async () => {
    twilio.resetStats();
    openai.resetStats();
    await until("the first absences are a pass interval old", async () => {
      const { rows: due } = await db.pool.query<{ due: boolean }>(
        `SELECT bool_and(now() >= first_gone_at + interval '1 second') AS due
         FROM ${SCHEMA}.call_reconciler_sightings WHERE realtime_call_id = ANY($1)`,
        [goneRtc.map((c) => c.callId)],
      );
      return due[0]?.due === true;
    });
    const { code, report } = await applyAudit();
    expect(code).toBe(3);
    expect(report.summary).toMatchObject({
      ended: 2,
      zombies: { twilio: 0, openai: 2, age_bound: 0, total: 2 },
      unverified: { within_session_cap: 1, invalid_time: 1, total: 2 },
    });
    const after = await rows();
    for (const c of goneRtc) {
      const end = new Date(c.startedAt.getTime() + CAP_MS);
      expect(after.get(c.callId), c.callId).toEqual({
        ...before.get(c.callId),
        status: "completed",
        endedAt: pythonIsoformat(end),
        durationSeconds: CAP_MS / 1000,
      });
    }
    expect(after.get(liveRtc.callId)).toEqual(before.get(liveRtc.callId));
    expect(after.get(liveSid.callId)).toEqual(before.get(liveSid.callId));
    expect(
      (await auditRows())
        .filter((a) => a.run_id === report.runId)
        .map((a) => [a.call_id, a.source])
        .sort(),
    ).toEqual(goneRtc.map((c) => [c.callId, "openai"]).sort());

    // Twilio: the live call and the unjudged row again, nothing else; OpenAI: the gone calls again.
    expect(twilio.stats).toMatchObject({ requests: 2, fetches: 2, responsesByStatus: { 200: 2 } });
    expectOpenAIAskedOnly(goneRtc.map((c) => c.callId));
  });

  it("revert --run restores status, end and duration of that run's ends, and only those", async () => {
    const ended = await rows();
    const r = await runCli(["revert", "--run", firstRun, "--apply", "--json"], asRole);
    noStack(r);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const after = await rows();
    for (const z of zombies)
      expect(after.get(z.row.callId), z.twilioStatus).toEqual({
        ...before.get(z.row.callId),
        status: "active",
        endedAt: null,
        durationSeconds: null,
      });
    for (const id of allIds.filter((id) => !zombies.some((z) => z.row.callId === id)))
      expect(after.get(id), id).toEqual(ended.get(id));
  });
});

interface AuditReport {
  runId: string;
  summary: Record<string, unknown>;
}
