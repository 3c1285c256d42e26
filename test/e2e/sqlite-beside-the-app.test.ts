/**
 * The daemon beside the app, on one SQLite file, while the app writes: the app's writer (app-writer.py, Python's
 * sqlite3 with its defaults: a connection per operation, a 5 s busy timeout, the rollback journal) inserts
 * calls, their transcript rows and their ends, hundreds of times, while `run` passes every second against the
 * Twilio simulator.
 *
 * The simulator says the writer's own calls are over too, with an end of its own: a pass that lists one while
 * the writer is on it tries to end it, and its conditional UPDATE finds the writer's end already there. Once,
 * the writer is stopped on a call (as a real call lasts) until the daemon has ended it; resumed, the writer ends
 * it with its own UPDATE, which is the app's right. And the file holds real zombies that Twilio says ended a
 * group at a pass, so the daemon writes ends, audit rows and causes all through the writer's run.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "@photostructure/sqlite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  APP_SQLITE_LISTING_INDEX_SQL,
  createAppFile,
  readAppFile,
  seedAppFile,
} from "../../src/dev/app-sqlite.js";
import { APP_TABLE_SETTINGS, type AppCall, pythonIsoformat } from "../../src/dev/app-table.js";
import { fakeCallSid } from "../../src/sim/demo-scenario.js";
import { startTwilioSimulator, type TwilioSimulator } from "../../src/sim/twilio-sim.js";
import { pythonMissing, pythonSeconds, startAppWriter, type WriterReport } from "../helpers/app-writer.js";
import { type CliResult, runCli, startCli, watchOutput } from "../helpers/cli.js";
import { canFreeze, freezeOnACall } from "../helpers/freeze-writer.js";
import { until } from "../helpers/wait.js";
import { type WriterCallsAtTwilio, writerCallsAtTwilio } from "../helpers/writer-calls-at-twilio.js";

const ACCOUNT = `AC${"b".repeat(32)}`;
const TOKEN = "beside-the-app-token-0123456789";
/** The writer runs in rounds of this many calls (each a process of its own, as the app restarts)… */
const ROUND_CALLS = 100;
/** …at least this many in all, and on until the daemon has ended every zombie and raced the writer. */
const MIN_CALLS = 300;
const MAX_ROUNDS = 40;
const TRANSCRIPT_ROWS = 3;
/** A writer id: this, the round in 2 digits and the call's number in 10 (a Call SID). */
const WRITER_BASE = `CA${"feed".repeat(5)}`;
const roundPrefix = (round: number) => `${WRITER_BASE}${String(round).padStart(2, "0")}`;
const isWriters = (id: string) => id.startsWith(WRITER_BASE);
const MIN = 60_000;
const NOW = Date.now();
const stamped = (minutesAgo: number) => new Date(Math.floor((NOW - minutesAgo * MIN) / 1000) * 1000 + 417);
const wholeSecond = (ms: number) => new Date(Math.floor(ms / 1000) * 1000);
const active = (callId: string, startedAt: Date): AppCall => ({
  callId,
  callType: "outbound",
  status: "active",
  startedAt,
  endedAt: null,
  durationSeconds: null,
});
/** The column's six-digit fraction, written even when it is zero (as app-table.test.ts shows). */
const asWritten = (d: Date) => {
  const text = pythonIsoformat(d);
  return text.length === 19 ? `${text}.000000` : text;
};

// Zombies of the app's past, over at Twilio one after another as the writer goes on: the daemon ends them
// during the writer's run, not all in its first pass.
const TWILIO_STATUSES = ["completed", "no-answer", "busy", "canceled"] as const;
const WRITTEN_STATUS: Record<string, string> = {
  completed: "completed",
  "no-answer": "failed",
  busy: "failed",
  canceled: "cancelled",
};
/** In groups, one group more over at Twilio at each pass after the writer began: ends pass after pass. */
const ZOMBIE_GROUPS = 4;
const zombies = Array.from({ length: 24 }, (_, k) => {
  const row = active(fakeCallSid(`beside-zombie-${k}`), stamped(20 + k));
  const twilioStatus = TWILIO_STATUSES[k % TWILIO_STATUSES.length] ?? "completed";
  const connected = twilioStatus === "completed";
  const twilioStart = wholeSecond(row.startedAt.getTime() + 2000);
  const duration = connected ? 30 + k : 0;
  const end = new Date(twilioStart.getTime() + (connected ? duration * 1000 : 20_000));
  return {
    row,
    twilioStatus,
    twilioStart: connected ? twilioStart : null,
    end,
    duration,
    group: k % ZOMBIE_GROUPS,
  };
});
const liveCall = active(fakeCallSid("beside-live"), stamped(9));
const finished: AppCall[] = [1, 2, 3].map((k) => ({
  ...active(fakeCallSid(`beside-done-${k}`), stamped(100 + k)),
  status: "completed",
  endedAt: new Date(stamped(100 + k).getTime() + 42_000 + k),
  durationSeconds: 42 + k / 1000,
}));
const seededIds = [...zombies.map((z) => z.row.callId), liveCall.callId, ...finished.map((c) => c.callId)];

interface LogLine {
  level: number;
  msg: string;
  time: number;
  ended?: number;
  alreadyEnded?: number;
  writeFailures?: number;
  outcome?: string;
}
interface ActionRow {
  run_id: string;
  call_id: string;
  outcome: string;
  previous_status: string;
  previous_ended_at: string | null;
  previous_duration_seconds: number | null;
  new_status: string;
  provider_status: string;
  ended_at: string;
  duration_seconds: number | null;
  source: string;
  recorded_at: string;
}

const passesIn = (lines: readonly LogLine[]) => lines.filter((l) => l.msg === "pass finished");
/** The daemon's tries at the writer's calls that the writer had already ended: its UPDATE changed nothing. */
const lostRaces = (lines: readonly LogLine[]) =>
  passesIn(lines).reduce((n, l) => n + (l.alreadyEnded ?? 0), 0);

describe.skipIf(pythonMissing && process.env.CI !== "true")(
  "run beside the app writing its SQLite file (writer: app-writer.py, Python's sqlite3 with its defaults)",
  () => {
    let dir: string;
    let path: string;
    let twilio: TwilioSimulator;
    let mirror: WriterCallsAtTwilio | undefined;
    let flipper: NodeJS.Timeout | undefined;
    /** The daemon and the writer's current round, stopped in afterAll if a step before failed. */
    let daemon: ReturnType<typeof startCli> | undefined;
    let writerRun: ReturnType<typeof startAppWriter> | undefined;
    const writer: WriterReport = { errors: [], ended: {} };
    /** When each round of the writer ran (this host's clock, as the daemon's `recorded_at`). */
    const rounds: { from: number; to: number }[] = [];
    /** The writer's call the daemon ended first, and when the writer was stopped on it. */
    let frozen: { callId: string; from: number; to: number } | undefined;
    let writerIds: string[];
    let daemonAlive: boolean;
    let daemonExit: CliResult;
    let logs: LogLine[];
    let actions: ActionRow[];
    let causes: string[];
    let transcripts: number;

    const inFile = <T>(fn: (db: InstanceType<typeof DatabaseSync>) => T): T => {
      const db = new DatabaseSync(path, { timeout: 5_000 });
      try {
        return fn(db);
      } finally {
        db.close();
      }
    };
    const readActions = () =>
      inFile(
        (db) =>
          db.prepare("SELECT * FROM call_reconciler_actions ORDER BY id").all() as unknown as ActionRow[],
      );
    const logLines = (out: string): LogLine[] =>
      out
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as LogLine);

    beforeAll(async () => {
      expect(pythonMissing, "python3 is not on PATH (apt-get install python3)").toBe(false);
      dir = mkdtempSync(join(tmpdir(), "beside-the-app-"));
      path = join(dir, "call_history.db");
      createAppFile(path);
      seedAppFile(path, [...zombies.map((z) => z.row), liveCall, ...finished]);
      // The index doctor advises: the listing reads the active rows only, however many the app has finished.
      inFile((db) => db.exec(APP_SQLITE_LISTING_INDEX_SQL));

      twilio = await startTwilioSimulator({ accountSid: ACCOUNT, authToken: TOKEN });
      for (const z of zombies)
        twilio.upsertCall({
          sid: z.row.callId,
          status: "in-progress",
          startTime: z.twilioStart,
          endTime: null,
          duration: null,
        });
      twilio.upsertCall({
        sid: liveCall.callId,
        status: "in-progress",
        startTime: wholeSecond(liveCall.startedAt.getTime() + 2000),
        endTime: null,
        duration: null,
      });

      const env = {
        ...APP_TABLE_SETTINGS,
        DATABASE_URL: `sqlite://${path}`,
        TWILIO_ACCOUNT_SID: ACCOUNT,
        TWILIO_AUTH_TOKEN: TOKEN,
        TWILIO_API_BASE_URL: twilio.url,
        TWILIO_STRATEGY: "per-call",
        // A pass asks about every row at once: the one the writer is on is asked about while it is still on it.
        TWILIO_MAX_RPS: "1000",
        RECONCILE_INTERVAL_SECONDS: "1",
        // The writer's calls are listed while the writer is still on them.
        MIN_CALL_AGE_SECONDS: "0",
        LEADER_LEASE_SECONDS: "60",
        LOG_LEVEL: "info",
      };
      const migrated = await runCli(["migrate"], { ...env, LOG_LEVEL: "warn" });
      expect(migrated.code, migrated.stderr).toBe(0);

      daemon = startCli(["run"], env, 600_000);
      const out = watchOutput(daemon.child);
      const passes = () => passesIn(logLines(out.stderr())).length;
      await until("the daemon's first pass", () => passes() >= 1, 30_000);

      mirror = writerCallsAtTwilio(path, WRITER_BASE, twilio, 20);
      const passesBefore = passes();
      flipper = setInterval(() => {
        const over = passes() - passesBefore;
        for (const z of zombies)
          if (z.group < over && twilio.getCall(z.row.callId)?.status === "in-progress")
            twilio.upsertCall({
              sid: z.row.callId,
              status: z.twilioStatus,
              startTime: z.twilioStart,
              endTime: z.end,
              duration: String(z.duration),
            });
      }, 20);
      const zombiesEnded = () => readActions().filter((a) => !isWriters(a.call_id)).length >= zombies.length;
      const lostSoFar = () => lostRaces(logLines(out.stderr()));
      while (
        rounds.length < MAX_ROUNDS &&
        (rounds.length * ROUND_CALLS < MIN_CALLS ||
          !zombiesEnded() ||
          lostSoFar() === 0 ||
          (frozen === undefined && canFreeze))
      ) {
        const from = Date.now();
        const prefix = roundPrefix(rounds.length);
        const run = startAppWriter(path, ROUND_CALLS, prefix, TRANSCRIPT_ROWS);
        writerRun = run;
        if (frozen === undefined && canFreeze) {
          // Once, the writer pauses on a call as a real call lasts: the daemon, told by Twilio it is over, ends
          // it first; the writer, resumed, then ends it with its own UPDATE. Tried again next round when the
          // writer finished this one before it was caught on a call holding no lock.
          const stopped = await freezeOnACall(run.child, path, prefix);
          if (stopped !== null) {
            const stoppedAt = Date.now();
            try {
              await until("the daemon ends the call the writer is on", () =>
                readActions().some((a) => a.call_id === stopped.callId),
              );
            } finally {
              stopped.resume();
            }
            frozen = { callId: stopped.callId, from: stoppedAt, to: Date.now() };
          }
        }
        const r = await run.report;
        rounds.push({ from, to: Date.now() });
        writer.errors.push(...r.errors);
        Object.assign(writer.ended, r.ended);
      }
      writerIds = rounds.flatMap((_, round) =>
        Array.from({ length: ROUND_CALLS }, (_, i) => `${roundPrefix(round)}${String(i).padStart(10, "0")}`),
      );
      mirror.stop();
      clearInterval(flipper);

      // Two passes after the writer's last end: nothing of the writer's is left active for the daemon to try.
      const passesSoFar = passes();
      await until("two more passes", () => passes() >= passesSoFar + 2, 30_000);

      daemonAlive = daemon.child.exitCode === null && daemon.child.signalCode === null;
      daemon.child.kill("SIGTERM");
      daemonExit = await daemon.done;
      logs = logLines(daemonExit.stderr);
      actions = readActions();
      causes = inFile((db) =>
        (db.prepare("SELECT call_id FROM call_reconciler_causes").all() as { call_id: string }[]).map(
          (r) => r.call_id,
        ),
      );
      transcripts = inFile((db) =>
        Number((db.prepare("SELECT count(*) AS n FROM transcripts").get() as { n: number | bigint }).n),
      );

      const won = actions.filter((a) => isWriters(a.call_id)).length;
      console.info(
        `writer: app-writer.py (Python's sqlite3), ${rounds.length} rounds of ${ROUND_CALLS} calls in ` +
          `${rounds.reduce((ms, r) => ms + r.to - r.from, 0)} ms; daemon: ${passesIn(logs).length} passes; ` +
          `of the writer's calls it tried to end, it ended ${won} first (the writer then ended them again) ` +
          `and found ${lostRaces(logs)} already ended by the writer`,
      );
    }, 600_000);

    afterAll(async () => {
      // kill() signals only a child still running; a stopped writer is resumed so that SIGTERM is handled.
      writerRun?.child.kill("SIGCONT");
      writerRun?.child.kill("SIGTERM");
      daemon?.child.kill("SIGTERM");
      await daemon?.done.catch(() => undefined);
      mirror?.stop();
      clearInterval(flipper);
      await twilio?.close();
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    });

    it("the writer met no error, and every one of its calls and transcript rows is in the file", () => {
      expect(rounds.length).toBeLessThan(MAX_ROUNDS);
      expect(writer.errors).toEqual([]);
      expect(Object.keys(writer.ended).sort()).toEqual(writerIds);
      expect(transcripts).toBe(writerIds.length * TRANSCRIPT_ROWS);
    });

    it("every writer row holds exactly the end the writer wrote: its status, its end, its duration", () => {
      const rows = readAppFile(path, writerIds);
      expect(rows.map((r) => r.callId)).toEqual(writerIds);
      for (const r of rows)
        expect(r, r.callId).toEqual({
          callId: r.callId,
          status: "completed",
          startedAt: r.startedAt,
          endedAt: writer.ended[r.callId],
          durationSeconds: pythonSeconds(r.startedAt, writer.ended[r.callId] ?? ""),
        });
    });

    it("the daemon raced the writer for its calls, and the audit trail names those it ended first, with Twilio's end", () => {
      const writerActions = actions.filter((a) => isWriters(a.call_id));
      // The daemon listed writer calls still active, Twilio said they were over, and it tried to end them:
      // some it ended first, the others the writer had ended by then (a conditional UPDATE that changed
      // nothing, and no audit row).
      expect(lostRaces(logs)).toBeGreaterThan(0);
      if (canFreeze) expect(writerActions.map((a) => a.call_id)).toContain(frozen?.callId);
      // A row the daemon ended first, the writer's own UPDATE then ended again (the app's right: the row holds
      // the writer's end, above); its audit row keeps what the daemon wrote and what the row was before.
      const starts = new Map(readAppFile(path, writerIds).map((r) => [r.callId, r.startedAt]));
      for (const a of writerActions) {
        // Twilio's end is the whole second the row started in, before the row's start: the end is the start.
        const start = new Date(Date.parse(`${starts.get(a.call_id)}Z`));
        expect(a, a.call_id).toMatchObject({
          outcome: "ended",
          previous_status: "active",
          previous_ended_at: null,
          previous_duration_seconds: null,
          new_status: "completed",
          provider_status: "completed",
          ended_at: start.toISOString(),
          duration_seconds: 0,
          source: "twilio",
        });
      }
    });

    it("the zombies are ended exactly, with Twilio's status, end and duration, while the writer wrote", () => {
      const rows = new Map(readAppFile(path, seededIds).map((r) => [r.callId, r]));
      for (const z of zombies)
        expect(rows.get(z.row.callId), z.twilioStatus).toEqual({
          callId: z.row.callId,
          status: WRITTEN_STATUS[z.twilioStatus],
          startedAt: pythonIsoformat(z.row.startedAt),
          endedAt: asWritten(z.end),
          durationSeconds: z.duration,
        });
      for (const c of [liveCall, ...finished])
        expect(rows.get(c.callId), c.callId).toEqual({
          callId: c.callId,
          status: c.status,
          startedAt: pythonIsoformat(c.startedAt),
          endedAt: c.endedAt === null ? null : pythonIsoformat(c.endedAt),
          durationSeconds: c.durationSeconds,
        });
      const zombieEnds = actions.filter((a) => !isWriters(a.call_id));
      expect(zombieEnds.map((a) => a.call_id).sort()).toEqual(zombies.map((z) => z.row.callId).sort());
      expect(zombieEnds.every((a) => a.source === "twilio")).toBe(true);
      // Over at Twilio a group a pass (the first and the last at least two passes apart, however the passes
      // follow each other), the zombies were ended in several passes, and some while a writer round ran.
      expect(new Set(zombieEnds.map((a) => a.run_id)).size).toBeGreaterThanOrEqual(2);
      const whileWriting = zombieEnds.filter((a) => {
        const at = Date.parse(a.recorded_at);
        const paused = frozen !== undefined && at >= frozen.from && at <= frozen.to;
        return rounds.some((r) => at > r.from && at < r.to) && !paused;
      });
      expect(whileWriting.length).toBeGreaterThan(0);
    });

    it("every end has exactly one audit row and one cause, and nothing was refused", () => {
      const ids = actions.map((a) => a.call_id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(actions.every((a) => a.outcome === "ended")).toBe(true);
      // As many audit rows as the passes counted ends: none written without one, none for a row not ended.
      expect(passesIn(logs).reduce((n, l) => n + (l.ended ?? 0), 0)).toBe(actions.length);
      expect([...causes].sort()).toEqual([...ids].sort());
    });

    it("the daemon ran throughout, every pass finished without a write failure, and it logged no warning", () => {
      expect(daemonAlive).toBe(true);
      expect(daemonExit.code, daemonExit.stderr).toBe(0);
      const passes = passesIn(logs);
      expect(passes.length).toBeGreaterThan(0);
      expect(passes.filter((l) => l.outcome === "failed" || (l.writeFailures ?? 0) > 0)).toEqual([]);
      expect(logs.filter((l) => l.level >= 40)).toEqual([]);
    });
  },
);
