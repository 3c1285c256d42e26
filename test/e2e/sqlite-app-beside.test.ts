/**
 * The daemon (`run`) ending zombies in the app's SQLite file while the app itself writes it, as its Python code
 * does (test/helpers/app-writer.py: a connection per operation, sqlite3's defaults): the app meets no error, every
 * call the app ends keeps the app's own end, each zombie is ended once with Twilio's end, and the daemon never
 * fails a pass on the app's lock (it waits for it).
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { seedAppFile } from "../../src/dev/app-sqlite.js";
import type { AppCall } from "../../src/dev/app-table.js";
import { startTwilioSimulator, type TwilioSimulator } from "../../src/sim/twilio-sim.js";
import { runCli } from "../helpers/cli.js";
import { type Replica, startReplica } from "../helpers/replica.js";
import { actionRows, asWritten, type E2eFile, e2eFile } from "../helpers/sqlite-e2e.js";
import { until } from "../helpers/wait.js";

const WRITER = fileURLToPath(new URL("../helpers/app-writer.py", import.meta.url));
const ACCOUNT = `AC${"f".repeat(32)}`;
const TOKEN = "sqlite-beside-token-0123456789";
const ZOMBIES = 120;
const APP_CALLS = 80;

/** Runs the app's writer to its end: what it printed (the errors it met, the end each call got). */
function appWrites(path: string): Promise<{ errors: string[]; ended: Record<string, string> }> {
  return new Promise((resolve, reject) => {
    const child = spawn("python3", [WRITER, path, String(APP_CALLS), `CA${"e".repeat(22)}`, "4"]);
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`app-writer.py exited ${code}: ${err}`)),
    );
  });
}

describe("the daemon beside the app writing its SQLite file (built CLI, the Python app's writes)", () => {
  let f: E2eFile | undefined;
  let twilio: TwilioSimulator | undefined;
  let daemon: Replica | undefined;
  afterAll(async () => {
    daemon?.child.kill("SIGKILL");
    await daemon?.done.catch(() => undefined);
    await twilio?.close();
    f?.remove();
  });

  it("the app meets no error and keeps its own ends; each zombie is ended once; no pass fails on the lock", async () => {
    f = e2eFile("sqlite-beside-e2e-");
    const file = f;
    const base = Math.floor(Date.now() / 1000) * 1000 - 3600_000;
    const zombies: AppCall[] = Array.from({ length: ZOMBIES }, (_, i) => ({
      callId: `CA${"f".repeat(22)}${String(i).padStart(10, "0")}`,
      callType: "outbound",
      status: "active",
      startedAt: new Date(base - i * 1000 + 250),
      endedAt: null,
      durationSeconds: null,
    }));
    seedAppFile(file.path, zombies);
    twilio = await startTwilioSimulator({ accountSid: ACCOUNT, authToken: TOKEN });
    const endOf = (z: AppCall) => new Date(Math.floor(z.startedAt.getTime() / 1000) * 1000 + 61_000);
    for (const z of zombies) {
      twilio.upsertCall({
        sid: z.callId,
        status: "completed",
        startTime: new Date(endOf(z).getTime() - 60_000),
        endTime: endOf(z),
        duration: "60",
      });
      // Answers spread over the app's writes.
      twilio.setFault(z.callId, { kind: "delay", ms: 20 });
    }
    const env = {
      ...file.env,
      TWILIO_ACCOUNT_SID: ACCOUNT,
      TWILIO_AUTH_TOKEN: TOKEN,
      TWILIO_API_BASE_URL: twilio.url,
      TWILIO_STRATEGY: "per-call",
      TWILIO_CONCURRENCY: "4",
      OPENAI_PROBE: "off",
      DIAGNOSIS_REQUEST_SHARE: "0",
      RECONCILE_INTERVAL_SECONDS: "1",
      LEADER_LEASE_SECONDS: "30",
      DB_PAGE_SIZE: "10",
      LOG_LEVEL: "info",
    };
    expect((await runCli(["migrate"], env)).code).toBe(0);

    daemon = startReplica(env, 120_000);
    const written = await appWrites(file.path);
    await until("every zombie ended", () => actionRows(file).length >= ZOMBIES, 60_000);
    daemon.child.kill("SIGTERM");
    expect((await daemon.done).code).toBe(0);

    expect(written.errors).toEqual([]);
    expect(Object.keys(written.ended)).toHaveLength(APP_CALLS);
    const rows = new Map(
      file
        .query<{ call_id: string; status: string; ended_at: string | null; duration_seconds: number | null }>(
          "SELECT call_id, status, ended_at, duration_seconds FROM calls",
        )
        .map((r) => [r.call_id, { ...r }]),
    );
    for (const [id, end] of Object.entries(written.ended))
      expect(rows.get(id), id).toMatchObject({ status: "completed", ended_at: end });
    for (const z of zombies)
      expect(rows.get(z.callId), z.callId).toEqual({
        call_id: z.callId,
        status: "completed",
        ended_at: asWritten(endOf(z)),
        duration_seconds: 60,
      });
    const audits = actionRows(file);
    expect(audits).toHaveLength(ZOMBIES);
    expect(new Set(audits.map((a) => a.call_id)).size).toBe(ZOMBIES);
    expect(audits.filter((a) => !a.call_id.startsWith(`CA${"f".repeat(22)}`))).toEqual([]);
    // The app's lock was waited for: no pass failed on it, no statement met it unexplained.
    const lines = daemon.lines();
    expect(lines.filter((l) => l.msg === "pass failed; retrying next interval")).toEqual([]);
    expect(lines.filter((l) => JSON.stringify(l).includes('"database is locked"'))).toEqual([]);
  });
});
