/**
 * `npm run bench -- --diagnosis`: 10,000 active rows (by default), 100 of them zombies of mixed causes at the
 * Twilio simulator (latency and a hard rate limit). The first pass ends them; it and the passes after it
 * diagnose them within DIAGNOSIS_REQUEST_SHARE of the budget. Prints, per pass, the ends, the causes settled
 * and the requests each cost, and checks every cause against the truth.
 */
import { performance } from "node:perf_hooks";
import { Writable } from "node:stream";
import { runCausesReport } from "../src/cli/causes-report.js";
import { passDepsFor } from "../src/cli/runtime.js";
import { loadConfig } from "../src/config/config.js";
import { pgDiagnosisQueue } from "../src/db/causes.js";
import { daemonTables } from "../src/db/sql.js";
import { PgCallStore } from "../src/db/store.js";
import { createLogger } from "../src/log.js";
import { createMetrics } from "../src/metrics/metrics.js";
import { rawProviders } from "../src/providers/guarded.js";
import { runPass } from "../src/reconcile/pass.js";
import { startTwilioSimulator } from "../src/sim/twilio-sim.js";
import { type CallbackCause, withCause } from "../src/sim/twilio-sim-causes.js";
import { createDatabase, seedDataset, simulatorCalls } from "./dataset.js";

const ACCOUNT_SID = `AC${"c".repeat(32)}`;
const AUTH_TOKEN = "bench-auth-token-0123456789";
/** The causes dealt in turn to the zombies, and the cause each must be diagnosed as. */
const DEAL: [CallbackCause, string][] = [
  ["acknowledged", "callback_acknowledged"],
  ["acknowledged", "callback_acknowledged"],
  ["failed", "callback_failed"],
  ["not_requested", "callback_not_requested"],
  ["inbound_no_callback", "callback_not_requested"],
];

export interface DiagnosisPass {
  pass: number;
  ended: number;
  settled: Record<string, number>;
  diagnosisRequests: number;
  requests: number;
  wallMs: number;
}

export interface DiagnosisSummary {
  rows: number;
  zombies: number;
  budgetPerPass: number;
  passes: DiagnosisPass[];
  expected: Record<string, number>;
  found: Record<string, number>;
  ok: boolean;
}

export async function runDiagnosisBench(
  adminUrl: string,
  o: { rows: number; zombies: number; limitRps: number; latencyMs: number; intervalSeconds: number },
  log: (line: string) => void,
): Promise<DiagnosisSummary> {
  const db = await createDatabase(adminUrl, "diagnosis");
  const mapping = loadConfig({}).calls;
  try {
    const { zombies } = await seedDataset(db, mapping, o.rows, (100 * o.zombies) / o.rows);
    const expected: Record<string, number> = {};
    let k = 0;
    const calls = (await simulatorCalls(db)).map((c) => {
      if (c.status !== "completed") return c;
      const [cause, diagnosed] = DEAL[k++ % DEAL.length] as [CallbackCause, string];
      expected[diagnosed] = (expected[diagnosed] ?? 0) + 1;
      return withCause(c, cause);
    });
    const sim = await startTwilioSimulator({
      accountSid: ACCOUNT_SID,
      authToken: AUTH_TOKEN,
      calls,
      maxRps: o.limitRps,
      latencyMs: o.latencyMs,
      recordsAvailableAfterMs: 0,
    });
    try {
      const config = loadConfig({
        DATABASE_URL: db.url,
        TWILIO_ACCOUNT_SID: ACCOUNT_SID,
        TWILIO_AUTH_TOKEN: AUTH_TOKEN,
        TWILIO_API_BASE_URL: sim.url,
        TWILIO_MAX_RPS: String(o.limitRps),
        RECONCILE_INTERVAL_SECONDS: String(o.intervalSeconds),
        LOG_LEVEL: "warn",
      });
      const store = new PgCallStore(db.pool, config.calls, config.activeStatuses);
      const deps = passDepsFor(config, {
        store,
        metrics: createMetrics(),
        logger: createLogger("warn"),
        raw: rawProviders(config),
        diagnoses: pgDiagnosisQueue(db.pool, daemonTables()),
      });
      const budgetPerPass = deps.diagnosis?.maxRequests ?? 0;
      const passes: DiagnosisPass[] = [];
      for (let n = 1; n <= 20; n++) {
        const before = sim.stats.requests;
        const t0 = performance.now();
        const r = await runPass(deps, { runId: crypto.randomUUID(), dryRun: false, diagnose: true });
        passes.push({
          pass: n,
          ended: r.ended,
          settled: r.diagnoses.settled,
          diagnosisRequests: r.diagnoses.requests,
          requests: sim.stats.requests - before,
          wallMs: performance.now() - t0,
        });
        log(`diagnosis: pass ${n}: ended ${r.ended}, diagnosis requests ${r.diagnoses.requests}`);
        if ((await deps.diagnosis?.queue.backlog())?.queued === 0 && n > 1) break;
      }
      // What `report --json` counts, read the way the command reads it.
      let text = "";
      const out = new Writable({
        write(chunk, _enc, done) {
          text += String(chunk);
          done();
        },
      });
      await runCausesReport(config, { json: true, out });
      const found = (JSON.parse(text) as { byCause: Record<string, number> }).byCause;
      const ok = Object.entries(expected).every(([c, n]) => found[c] === n) && found.pending === undefined;
      return { rows: o.rows, zombies, budgetPerPass, passes, expected, found, ok };
    } finally {
      await sim.close();
    }
  } finally {
    await db.drop();
  }
}

export function renderDiagnosis(s: DiagnosisSummary): string {
  const lines = [
    `Diagnosis: ${s.rows} active rows, ${s.zombies} zombies of mixed causes; up to ${s.budgetPerPass} diagnosis requests a pass`,
    "",
    "| pass | ended | causes settled | diagnosis requests | all Twilio requests | wall |",
    "|---:|---:|---|---:|---:|---:|",
    ...s.passes.map(
      (p) =>
        `| ${p.pass} | ${p.ended} | ${
          Object.entries(p.settled)
            .map(([c, n]) => `${c} ${n}`)
            .join(", ") || "-"
        } | ${p.diagnosisRequests} | ${p.requests} | ${(p.wallMs / 1000).toFixed(1)} s |`,
    ),
    "",
    `diagnosis requests in all: ${s.passes.reduce((a, p) => a + p.diagnosisRequests, 0)} for ${s.zombies} zombies`,
    `causes: ${JSON.stringify(s.found)} (expected ${JSON.stringify(s.expected)}): ${s.ok ? "exact" : "MISMATCH"}`,
  ];
  return lines.join("\n");
}
