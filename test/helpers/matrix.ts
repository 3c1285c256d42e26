import { Writable } from "node:stream";
import { passDepsFor } from "../../src/cli/runtime.js";
import { type Config, loadConfig } from "../../src/config/config.js";
import { pgDiagnosisQueue } from "../../src/db/causes.js";
import { migrate } from "../../src/db/migrate.js";
import { daemonTables } from "../../src/db/sql.js";
import { PgCallStore } from "../../src/db/store.js";
import { readActions, readCalls, type SeedCall, type StoredCall, seedCalls } from "../../src/dev/seed.js";
import { createLogger } from "../../src/log.js";
import { createMetrics, type Metrics } from "../../src/metrics/metrics.js";
import { rawProviders } from "../../src/providers/guarded.js";
import { type PassDeps, type PassResult, runPass } from "../../src/reconcile/pass.js";
import { fakeCallSid } from "../../src/sim/demo-scenario.js";
import { type OpenAISimulator, startOpenAISimulator } from "../../src/sim/openai-sim.js";
import { startTwilioSimulator, type TwilioSimulator } from "../../src/sim/twilio-sim.js";
import { type FreshDatabase, freshDatabase } from "./db.js";

export const ACCOUNT_SID = `AC${"f".repeat(32)}`;
export const AUTH_TOKEN = "matrix-token-0123456789";
export const OPENAI_KEY = "sk-matrix-key-0123456789";

export const whole = (ms: number) => new Date(Math.floor(ms / 1000) * 1000);
export const sid = fakeCallSid;
export const rtc = (name: string) => `rtc_m_${name}`;

/**
 * A real database, both simulators and the in-process pass wired exactly as the daemon wires it (policies,
 * metrics, logs), with a clock the test can move to play several passes one interval apart.
 */
export interface Matrix {
  db: FreshDatabase;
  twilio: TwilioSimulator;
  openai: OpenAISimulator;
  config: Config;
  metrics: Metrics;
  logs: Record<string, unknown>[];
  clockOffsetMs: number;
  /** The pass's dependencies, as the daemon wires them: tests may wrap a probe. */
  deps: PassDeps;
  /** `signal`: the pass's own, as the daemon gives it (shutdown, PASS_DEADLINE_SECONDS). */
  pass(opts?: { dryRun?: boolean; signal?: AbortSignal }): Promise<PassResult>;
  rows(ids: string[]): Promise<Map<string, StoredCall>>;
  actions(): ReturnType<typeof readActions>;
  close(): Promise<void>;
}

export async function startMatrix(
  rows: SeedCall[],
  env: Record<string, string> = {},
  sim: {
    twilioMaxRps?: number;
    twilioSubaccounts?: string[];
    openaiOtherProjectKeys?: string[];
    /** false: the OpenAI account has no Live surface (its sideband path answers "Invalid URL"). */
    openaiLiveSurface?: boolean;
    /** The simulator honours StartTime by the date only, as Twilio documents it. */
    startTimeByDate?: boolean;
    /** Twilio's records readable at once, and passes that diagnose the Twilio ends (off: request counts stay exact). */
    diagnoses?: boolean;
  } = {},
): Promise<Matrix> {
  const db = await freshDatabase();
  const twilio = await startTwilioSimulator({
    accountSid: ACCOUNT_SID,
    authToken: AUTH_TOKEN,
    ...(sim.twilioMaxRps !== undefined ? { maxRps: sim.twilioMaxRps } : {}),
    ...(sim.twilioSubaccounts !== undefined ? { subaccounts: sim.twilioSubaccounts } : {}),
    ...(sim.diagnoses === true ? { recordsAvailableAfterMs: 0 } : {}),
    ...(sim.startTimeByDate === true ? { startTimeByDate: true } : {}),
  });
  const openai = await startOpenAISimulator({
    apiKey: OPENAI_KEY,
    ...(sim.openaiOtherProjectKeys ? { otherProjectKeys: sim.openaiOtherProjectKeys } : {}),
    ...(sim.openaiLiveSurface === false ? { liveSurface: false } : {}),
  });
  const config = loadConfig({
    DATABASE_URL: db.url,
    TWILIO_ACCOUNT_SID: ACCOUNT_SID,
    TWILIO_AUTH_TOKEN: AUTH_TOKEN,
    TWILIO_API_BASE_URL: twilio.url,
    OPENAI_API_KEY: OPENAI_KEY,
    OPENAI_BASE_URL: openai.url,
    PROVIDER_TIMEOUT_MS: "500",
    TWILIO_MAX_RPS: "50",
    OPENAI_MAX_RPS: "50",
    LOG_LEVEL: "debug",
    ...env,
  });
  await migrate(db.pool, { withCallsTable: true, mapping: config.calls });
  await seedCalls(db.pool, config.calls, rows);
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split("\n")) if (line.trim() !== "") logs.push(JSON.parse(line));
      done();
    },
  });
  const logger = createLogger(config.logLevel, sink);
  const metrics = createMetrics();
  const store = new PgCallStore(db.pool, config.calls, config.activeStatuses, {
    statusMap: config.statusMap,
  });
  const matrix: Matrix = {
    db,
    twilio,
    openai,
    config,
    metrics,
    logs,
    clockOffsetMs: 0,
    deps: undefined as unknown as PassDeps,
    pass: async () => {
      throw new Error("replaced below");
    },
    rows: async (ids) => new Map((await readCalls(db.pool, config.calls, ids)).map((r) => [r.id, r])),
    actions: () => readActions(db.pool, config.calls),
    close: async () => {
      await twilio.close();
      await openai.close();
      await db.drop();
    },
  };
  // The database's clock, moved by the test to play passes an interval apart.
  const movedClock = Object.assign(Object.create(store) as PgCallStore, {
    now: async () => new Date((await store.now()).getTime() + matrix.clockOffsetMs),
  });
  const deps = passDepsFor(config, {
    store: movedClock,
    metrics,
    logger,
    raw: rawProviders(config, { twilioKeepAlive: false }),
    ...(sim.diagnoses === true
      ? { diagnoses: pgDiagnosisQueue(db.pool, daemonTables(config.calls.daemonSchema)) }
      : {}),
  });
  matrix.deps = deps;
  let n = 0;
  matrix.pass = (opts = {}) =>
    runPass(matrix.deps, {
      runId: `00000000-0000-4000-8000-${String(++n).padStart(12, "0")}`,
      dryRun: opts.dryRun ?? false,
      diagnose: true,
      ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
    });
  return matrix;
}

export function activeRow(
  id: string,
  startedAt: Date,
  ids: { sid?: string | null; rtc?: string | null; account?: string | null },
): SeedCall {
  return {
    id,
    twilioAccount: ids.account ?? null,
    twilioSid: ids.sid ?? null,
    openaiId: ids.rtc ?? null,
    status: "active",
    startedAt,
    endedAt: null,
  };
}
