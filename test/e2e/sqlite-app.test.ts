/**
 * The app's own SQLite file, as its Python code creates and writes it (its exact DDL, text times as
 * `isoformat()` writes them, one id column for `CA…` and `rtc_…` ids, a REAL duration, its own status words),
 * reconciled by the built CLI against both simulators: migrate and doctor, audit and audit --apply, the
 * realtime ends at the session cap, revert, release and report. Every check reads the file itself.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedAppFile } from "../../src/dev/app-sqlite.js";
import { type AppCall, pythonIsoformat } from "../../src/dev/app-table.js";
import { fakeCallSid } from "../../src/sim/demo-scenario.js";
import { type OpenAISimulator, startOpenAISimulator } from "../../src/sim/openai-sim.js";
import { startTwilioSimulator, type TwilioSimulator } from "../../src/sim/twilio-sim.js";
import { type CliResult, runCli, startCli } from "../helpers/cli.js";
import { actionRows, appSchema, asWritten, type E2eFile, e2eFile } from "../helpers/sqlite-e2e.js";
import { until } from "../helpers/wait.js";

const ACCOUNT = `AC${"b".repeat(32)}`;
const TOKEN = "sqlite-app-token-0123456789";
const OPENAI_KEY = "sk-sqlite-app-0123456789";
const MIN = 60_000;
const CAP_SECONDS = 5400;

const NOW = Date.now();
/** A time the app stamped: milliseconds included (never 0), as `datetime.utcnow()` has them. */
const stamped = (minutesAgo: number) => new Date(Math.floor((NOW - minutesAgo * MIN) / 1000) * 1000 + 683);
/** A time Twilio gives: whole seconds. */
const twilioTime = (ms: number) => new Date(Math.floor(ms / 1000) * 1000);

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
  const row = active(fakeCallSid(`sqlite-${name}`), stamped(minutesAgo));
  const twilioStart = twilioTime(row.startedAt.getTime() + 3000);
  const connected = twilioStatus === "completed";
  const end = twilioTime(twilioStart.getTime() + (connected ? seconds * 1000 : 25_000));
  return { row, twilioStatus, twilioStart: connected ? twilioStart : null, end, duration: seconds };
}
const talked = twilioZombie("talked", "completed", 185, 50);
const noAnswer = twilioZombie("no-answer", "no-answer", 0, 60);
const busy = twilioZombie("busy", "busy", 0, 70);
const canceled = twilioZombie("canceled", "canceled", 0, 80);
const zombies = [talked, noAnswer, busy, canceled];
const appWord: Record<string, string> = {
  completed: "completed",
  "no-answer": "failed",
  busy: "failed",
  canceled: "cancelled",
};

// Over at Twilio, listed by the dry run, then ended by the app's own webhook before --apply.
const between = twilioZombie("between", "completed", 42, 55);
const betweenByApp = {
  endedAt: pythonIsoformat(new Date(between.row.startedAt.getTime() + 44_250)),
  duration: 44.25,
};
// Over at Twilio too, but the app's own webhook ends it while --apply waits on Twilio's answer.
const raced = twilioZombie("raced", "completed", 118, 45);
const racedByApp = {
  endedAt: pythonIsoformat(new Date(raced.row.startedAt.getTime() + 118_500)),
  duration: 118.5,
};
const liveSid = active(fakeCallSid("sqlite-live"), stamped(40));
// Inbound realtime calls: two gone past the session cap, one live and young, and one gone whose first answer
// (at the dry run) is an error: --apply sees it gone first.
const goneRtc = [active("rtc_sqlite_gone_1", stamped(150)), active("rtc_sqlite_gone_2", stamped(400))];
const lateRtc = active("rtc_sqlite_gone_late", stamped(200));
const liveRtc = active("rtc_sqlite_live", stamped(20));
// Finished by the app, in each of its status words.
const finished: AppCall[] = [
  { ...active(fakeCallSid("sqlite-done"), stamped(300)), status: "completed", durationSeconds: 61.5 },
  { ...active("rtc_sqlite_done", stamped(320)), status: "completed", durationSeconds: 240.25 },
  { ...active(fakeCallSid("sqlite-unanswered"), stamped(330)), status: "failed", durationSeconds: 0 },
  { ...active(fakeCallSid("sqlite-hung-up"), stamped(340)), status: "cancelled", durationSeconds: 0 },
].map((c) => ({ ...c, endedAt: new Date(c.startedAt.getTime() + (c.durationSeconds ?? 0) * 1000 + 123) }));

/** Where OpenAI's session cap puts the end of a realtime call seen gone past it. */
const atCap = (c: AppCall) => new Date(c.startedAt.getTime() + CAP_SECONDS * 1000);
const twilioEnds = [...zombies, between, raced];
const activeSids = [
  ...zombies.map((z) => z.row.callId),
  between.row.callId,
  raced.row.callId,
  liveSid.callId,
];

type Row = Record<string, unknown> & { call_id: string; status: string; ended_at: string | null };

describe("the app's own SQLite file, reconciled as it is (built CLI, both simulators)", () => {
  let f: E2eFile;
  let twilio: TwilioSimulator;
  let openai: OpenAISimulator;
  let env: Record<string, string>;
  let before: Map<string, Row>;
  let schemaBefore: ReturnType<typeof appSchema>;
  let firstRun = "";

  /** Every column of every row, as the file holds it. */
  const rows = () =>
    new Map(f.query<Row>("SELECT * FROM calls ORDER BY call_id").map((r) => [r.call_id, { ...r }]));

  const holds = () =>
    f
      .query<{ call_id: string; run_id: string | null }>(
        "SELECT call_id, run_id FROM call_reconciler_holds WHERE released_at IS NULL ORDER BY call_id",
      )
      .map((h) => [h.call_id, h.run_id]);

  /** The first absence of each of these calls is a pass interval (1 s) old, on this host's clock. */
  const sightingsDue = (calls: readonly AppCall[]) =>
    until("the first absences are a pass interval old", () => {
      const seen = f.query<{ first_gone_at: string | null }>(
        `SELECT first_gone_at FROM call_reconciler_sightings WHERE realtime_call_id IN (${calls.map(() => "?").join(", ")})`,
        ...calls.map((c) => c.callId),
      );
      return (
        seen.length === calls.length &&
        seen.every((s) => s.first_gone_at !== null && Date.now() >= Date.parse(s.first_gone_at) + 1000)
      );
    });

  beforeAll(async () => {
    f = e2eFile("sqlite-app-e2e-");
    seedAppFile(f.path, [
      ...[...zombies, between, raced].map((z) => z.row),
      liveSid,
      ...goneRtc,
      lateRtc,
      liveRtc,
      ...finished,
    ]);
    f.exec(
      "INSERT INTO transcripts (call_id, speaker, text, created_at) VALUES (?, 'agent', 'Hello', ?)",
      talked.row.callId,
      pythonIsoformat(talked.row.startedAt),
    );
    before = rows();
    schemaBefore = appSchema(f);

    twilio = await startTwilioSimulator({ accountSid: ACCOUNT, authToken: TOKEN });
    openai = await startOpenAISimulator({ apiKey: OPENAI_KEY });
    for (const z of [...zombies, between, raced])
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
    for (const c of goneRtc) openai.upsertSession({ callId: c.callId, live: false });
    openai.upsertSession({ callId: liveRtc.callId, live: true });
    openai.upsertSession({ callId: lateRtc.callId, live: false });
    openai.setFault(lateRtc.callId, { kind: "http", status: 500 });

    env = {
      ...f.env,
      TWILIO_ACCOUNT_SID: ACCOUNT,
      TWILIO_AUTH_TOKEN: TOKEN,
      TWILIO_API_BASE_URL: twilio.url,
      TWILIO_STRATEGY: "per-call",
      OPENAI_API_KEY: OPENAI_KEY,
      OPENAI_BASE_URL: openai.url,
      OPENAI_MAX_SESSION_SECONDS: String(CAP_SECONDS),
      RECONCILE_INTERVAL_SECONDS: "1",
      DIAGNOSIS_REQUEST_SHARE: "0",
      LOG_LEVEL: "warn",
    };
  });
  afterAll(async () => {
    await twilio?.close();
    await openai?.close();
    f?.remove();
  });

  it("migrate adds the daemon's tables and never alters the app's; doctor passes the file and advises the listing index", async () => {
    const migrated = await runCli(["migrate"], env);
    noStack(migrated);
    expect(migrated.code, migrated.stderr).toBe(0);
    expect(appSchema(f)).toEqual(schemaBefore);
    expect(rows()).toEqual(before);
    const own = f
      .query<{ name: string }>(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'call_reconciler%' ORDER BY name",
      )
      .map((r) => r.name);
    expect(own).toEqual([
      "call_reconciler_actions",
      "call_reconciler_binding",
      "call_reconciler_causes",
      "call_reconciler_holds",
      "call_reconciler_leases",
      "call_reconciler_migrations",
      "call_reconciler_sightings",
    ]);
    // Twice is once.
    expect((await runCli(["migrate"], env)).code).toBe(0);
    expect(appSchema(f)).toEqual(schemaBefore);

    const doctor = async () => {
      const r = await runCli(["doctor", "--json"], env);
      noStack(r);
      return (JSON.parse(r.stdout) as { checks: { name: string; state: string; detail: string }[] }).checks;
    };
    const checks = await doctor();
    const check = (name: string) => checks.find((c) => c.name === name);
    for (const name of ["database", "file", "journal mode", "tables", "state", "duration", "active rows"])
      expect(check(name)?.state, `${name}: ${check(name)?.detail}`).toBe("pass");
    expect(checks.filter((c) => c.state === "fail")).toEqual([]);
    // The app's own index on started_at does not serve the listing: doctor gives the statement that does.
    const advice = check("listing index");
    expect(advice?.state).toBe("warn");
    const statement = /CREATE INDEX IF NOT EXISTS .+$/.exec(advice?.detail ?? "")?.[0] ?? "";
    expect(statement).toMatch(/ON "calls" \("started_at", "call_id"\) WHERE "status" = 'active'$/);
    expect(rows()).toEqual(before);

    // The operator runs the advice on the file: doctor then finds it serving the listing.
    f.exec(statement);
    expect((await doctor()).find((c) => c.name === "listing index")?.state).toBe("pass");
    expect(appSchema(f).filter((o) => o.name !== "call_reconciler_calls_active_idx")).toEqual(schemaBefore);
  });

  it("audit lists the zombies with the end times it would write, and writes nothing to the calls", async () => {
    const r = await runCli(["audit", "--json"], env, 60_000);
    noStack(r);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as AuditReport;
    expect(report.dryRun).toBe(true);
    const wouldEnd = report.calls.filter((c) => c.outcome === "would_end");
    expect(wouldEnd.map((c) => [c.callId, c.newStatus, c.endedAt, c.source]).sort()).toEqual(
      twilioEnds.map((z) => [z.row.callId, appWord[z.twilioStatus], z.end.toISOString(), "twilio"]).sort(),
    );
    // A realtime absence is confirmed only by a second sighting a pass interval later.
    expect(
      report.calls
        .filter((c) => c.reason === "absence_unconfirmed")
        .map((c) => c.callId)
        .sort(),
    ).toEqual(goneRtc.map((c) => c.callId).sort());
    const table = await runCli(["audit"], env, 60_000);
    for (const z of twilioEnds) {
      const line = table.stdout.split("\n").find((l) => l.startsWith(z.row.callId)) ?? "";
      expect(line, z.row.callId).toContain(`would end → ${appWord[z.twilioStatus]} (twilio)`);
      expect(line).toContain(z.end.toISOString().replace(".000Z", "Z"));
    }
    expect(rows()).toEqual(before);
    expect(actionRows(f)).toEqual([]);
  });

  it("audit --apply ends the zombies with the provider's end and duration, in the app's format, and never a row the app ended", async () => {
    // The app's webhook ends one listed zombie between the dry run and --apply.
    f.exec(
      "UPDATE calls SET status = 'completed', ended_at = ?, duration_seconds = ? WHERE call_id = ?",
      betweenByApp.endedAt,
      betweenByApp.duration,
      between.row.callId,
    );
    const beforeApply = rows();
    openai.setFault(lateRtc.callId, undefined);
    await sightingsDue(goneRtc);
    twilio.resetStats();
    openai.resetStats();
    // Twilio answers about the raced call only after the app has ended it.
    twilio.setFault(raced.row.callId, { kind: "delay", ms: 4000 });
    const audit = startCli(["audit", "--apply", "--json"], env, 60_000);
    // Every active Call SID has been asked about: the raced one waits.
    await until(
      "Twilio asked about every active Call SID",
      () => twilio.stats.fetches >= activeSids.length - 1,
    );
    f.exec(
      "UPDATE calls SET status = 'completed', ended_at = ?, duration_seconds = ? WHERE call_id = ?",
      racedByApp.endedAt,
      racedByApp.duration,
      raced.row.callId,
    );
    const r = await audit.done;
    noStack(r);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(3);
    const report = JSON.parse(r.stdout) as AuditReport;
    firstRun = report.runId;
    expect(report.summary).toMatchObject({
      ended: 6,
      alreadyEnded: 1,
      zombies: { twilio: 5, openai: 2, age_bound: 0, total: 7 },
      unverified: { absence_unconfirmed: 1 },
    });

    const after = rows();
    for (const z of zombies)
      expect(after.get(z.row.callId), z.twilioStatus).toEqual({
        ...before.get(z.row.callId),
        status: appWord[z.twilioStatus],
        ended_at: asWritten(z.end),
        duration_seconds: z.duration,
      });
    // Python's isoformat, the column's own shape.
    expect(after.get(talked.row.callId)?.ended_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
    // Gone realtime calls: ended at the session cap, the cap as their length.
    for (const c of goneRtc)
      expect(after.get(c.callId), c.callId).toEqual({
        ...before.get(c.callId),
        status: "completed",
        ended_at: pythonIsoformat(atCap(c)),
        duration_seconds: CAP_SECONDS,
      });
    // What the app wrote, as it wrote it.
    expect(after.get(between.row.callId)).toEqual(beforeApply.get(between.row.callId));
    expect(after.get(between.row.callId)).toMatchObject({
      ended_at: betweenByApp.endedAt,
      duration_seconds: betweenByApp.duration,
    });
    expect(after.get(raced.row.callId)).toEqual({
      ...before.get(raced.row.callId),
      status: "completed",
      ended_at: racedByApp.endedAt,
      duration_seconds: racedByApp.duration,
    });
    // Live, finished and not yet confirmed: as they were, byte for byte.
    for (const id of [liveSid.callId, liveRtc.callId, lateRtc.callId, ...finished.map((c) => c.callId)])
      expect(after.get(id), id).toEqual(before.get(id));

    // One audit row per end, of this run, with what it replaced.
    const audits = actionRows(f);
    expect(audits.map((a) => [a.call_id, a.outcome, a.run_id]).sort()).toEqual(
      [...zombies.map((z) => z.row.callId), ...goneRtc.map((c) => c.callId)]
        .map((id) => [id, "ended", firstRun])
        .sort(),
    );
    for (const z of zombies)
      expect(
        audits.find((a) => a.call_id === z.row.callId),
        z.twilioStatus,
      ).toMatchObject({
        previous_status: "active",
        previous_ended_at: null,
        new_status: appWord[z.twilioStatus],
        provider_status: z.twilioStatus,
        ended_at: z.end.toISOString(),
        duration_seconds: z.duration,
        previous_duration_seconds: null,
        source: "twilio",
        forced: 0,
      });
    for (const c of goneRtc)
      expect(
        audits.find((a) => a.call_id === c.callId),
        c.callId,
      ).toMatchObject({
        new_status: "completed",
        ended_at: atCap(c).toISOString(),
        duration_seconds: CAP_SECONDS,
        source: "openai",
      });
    // Each Twilio end waits for its diagnosis; a realtime end's cause is OpenAI's word.
    expect(
      f
        .query<{ call_id: string; cause: string | null }>(
          "SELECT call_id, cause FROM call_reconciler_causes ORDER BY call_id",
        )
        .map((c) => [c.call_id, c.cause]),
    ).toEqual(
      [...zombies.map((z) => [z.row.callId, null]), ...goneRtc.map((c) => [c.callId, "openai"])].sort(),
    );
    // Never a Call SID asked of OpenAI.
    for (const id of activeSids) expect(openai.handshakesFor(id), id).toBe(0);
    expect(openai.stats.hangups).toBe(0);
  });

  it("a later pass ends the realtime call first seen gone by the last one, at the session cap", async () => {
    await sightingsDue([lateRtc]);
    const r = await runCli(["audit", "--apply", "--json"], env, 60_000);
    noStack(r);
    const report = JSON.parse(r.stdout) as AuditReport;
    expect(report.summary).toMatchObject({ ended: 1, zombies: { twilio: 0, openai: 1, total: 1 } });
    const after = rows();
    expect(after.get(lateRtc.callId)).toEqual({
      ...before.get(lateRtc.callId),
      status: "completed",
      ended_at: pythonIsoformat(atCap(lateRtc)),
      duration_seconds: CAP_SECONDS,
    });
    expect(after.get(liveRtc.callId)).toEqual(before.get(liveRtc.callId));
    expect(after.get(liveSid.callId)).toEqual(before.get(liveSid.callId));
    expect(
      actionRows(f)
        .filter((a) => a.run_id === report.runId)
        .map((a) => [a.call_id, a.source, a.outcome]),
    ).toEqual([[lateRtc.callId, "openai", "ended"]]);
  });

  it("revert --run restores that run's ends exactly and holds them; release frees one; report shows the causes", async () => {
    const ended = rows();
    const runEnds = [...zombies.map((z) => z.row.callId), ...goneRtc.map((c) => c.callId)].sort();
    const dry = await runCli(["revert", "--run", firstRun, "--json"], env);
    noStack(dry);
    expect(dry.code).toBe(1);
    expect(JSON.parse(dry.stdout)).toMatchObject({
      dryRun: true,
      summary: { would_restore: runEnds.length },
    });
    expect(rows()).toEqual(ended);

    const r = await runCli(["revert", "--run", firstRun, "--apply", "--json"], env);
    noStack(r);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const after = rows();
    for (const id of runEnds) expect(after.get(id), id).toEqual(before.get(id));
    for (const id of [...after.keys()].filter((id) => !runEnds.includes(id)))
      expect(after.get(id), id).toEqual(ended.get(id));
    const reverted = actionRows(f).filter((a) => a.outcome === "reverted");
    expect(reverted.map((a) => a.call_id).sort()).toEqual(runEnds);
    expect(holds()).toEqual(runEnds.map((id) => [id, firstRun]));

    // Held: still over at the providers, yet neither asked about nor ended.
    twilio.resetStats();
    const held = await runCli(["audit", "--apply", "--json"], env, 60_000);
    noStack(held);
    expect((JSON.parse(held.stdout) as AuditReport).summary).toMatchObject({
      ended: 0,
      unverified: { held: runEnds.length },
    });
    expect(twilio.stats.fetches).toBe(1);
    for (const id of runEnds) expect(rows().get(id), id).toEqual(before.get(id));

    const release = await runCli(["release", talked.row.callId], env);
    noStack(release);
    expect(release.code).toBe(0);
    expect(release.stdout).toContain(`call ${talked.row.callId} released`);
    expect(holds()).toEqual(runEnds.filter((id) => id !== talked.row.callId).map((id) => [id, firstRun]));
    const next = await runCli(["audit", "--apply", "--json"], env, 60_000);
    expect((JSON.parse(next.stdout) as AuditReport).summary).toMatchObject({
      ended: 1,
      unverified: { held: runEnds.length - 1 },
    });
    expect(rows().get(talked.row.callId)).toEqual({
      ...before.get(talked.row.callId),
      status: "completed",
      ended_at: asWritten(talked.end),
      duration_seconds: talked.duration,
    });

    // The daemon reads Twilio's records of the call it ended again and settles why its end was lost (a pass
    // interval long enough for the diagnosis' share of the request budget).
    const daemon = startCli(["run"], {
      ...env,
      RECONCILE_INTERVAL_SECONDS: "30",
      DIAGNOSIS_REQUEST_SHARE: "0.1",
    });
    const cause = await until("the call's cause settled", () => {
      const [c] = f.query<{ cause: string | null }>(
        "SELECT cause FROM call_reconciler_causes WHERE call_id = ?",
        talked.row.callId,
      );
      return c?.cause ?? undefined;
    });
    daemon.child.kill("SIGTERM");
    expect((await daemon.done).code).toBe(0);
    expect(cause).toBe("callback_not_requested");

    const report = await runCli(["report", "--json"], env);
    noStack(report);
    expect(report.code).toBe(0);
    // By call, its last end: kept, the late realtime end and the released call's new end; reverted, the rest of
    // the run's ends.
    expect(JSON.parse(report.stdout)).toMatchObject({
      zombies: 2,
      reverted: runEnds.length - 1,
      byCause: { openai: 1, callback_not_requested: 1 },
    });
    const text = await runCli(["report"], env);
    expect(text.stdout).toMatch(/^By cause: .*callback_not_requested 1/m);
    expect(text.stdout).toMatch(/^By cause: .*openai 1/m);
    expect(text.stdout).toContain("no status callback is configured for them");
    const story = await runCli(["report", "--call", canceled.row.callId], env);
    noStack(story);
    expect(story.code).toBe(0);
    expect(story.stdout.split("\n")[0]).toMatch(/\(end reverted\)$/);
  });
});

interface AuditReport {
  runId: string;
  dryRun: boolean;
  summary: Record<string, unknown>;
  calls: {
    callId: string;
    outcome: string;
    reason?: string;
    newStatus?: string;
    endedAt?: string;
    source?: string;
  }[];
}
