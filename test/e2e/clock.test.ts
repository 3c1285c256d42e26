/**
 * One clock: decisions use the database's clock, never the host's. Run the built CLI under
 * libfaketime with the host 3 h ahead: a 22 h-old call whose Twilio check fails must not be ended by the
 * 24 h age bound (the host would read it as 25 h old), and a real zombie still ends at Twilio's end time.
 */
import { spawnSync } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { type ChaosWorld, chaosWorld, zombie } from "../helpers/chaos-world.js";
import { runUnder } from "../helpers/cli.js";

const faketimeMissing = spawnSync("faketime", ["-f", "+0", "true"]).status !== 0;
const why = "faketime is not on PATH (apt-get install faketime); with CI set this fails instead";

describe("one clock: the database's", () => {
  let w: ChaosWorld | undefined;
  afterEach(async () => {
    await w?.close();
    w = undefined;
  });

  it.skipIf(faketimeMissing && process.env.CI !== "true")(
    `a host clock 3 h ahead changes no decision${faketimeMissing ? ` (skipped: ${why})` : ""}`,
    async () => {
      expect(faketimeMissing, why).toBe(false);
      const old = zombie("old-1", 22 * 60, {
        status: "in-progress",
        endTime: null,
        duration: null,
        fault: { kind: "http", status: 500 },
      });
      const done = zombie("zombie-1", 100);
      const all = [old, done];
      w = await chaosWorld(
        all.map((c) => c.row),
        all.map((c) => c.call),
        { env: { PROVIDER_MAX_ATTEMPTS: "1", LOG_LEVEL: "warn" } },
      );
      // Asynchronously: the simulator answers from this process. Only the wall clock is ahead, as on a host
      // whose NTP is off; timers run on the monotonic clock.
      const r = await runUnder(["faketime", "-f", "+3h"], ["audit", "--apply", "--json"], {
        ...w.env,
        FAKETIME_DONT_FAKE_MONOTONIC: "1",
      });
      expect(r.stderr).not.toMatch(/\n\s+at /);
      // The skew is noticed and said, and no decision used the host's clock.
      expect(r.stderr).toMatch(/clock disagrees with the database/);
      expect(r.code).toBe(3);
      const report = JSON.parse(r.stdout);
      const oldFinding = report.calls.find((c: { callId: string }) => c.callId === "old-1");
      expect(oldFinding).toMatchObject({ decision: "unverified", reason: "server_error" });
      expect(oldFinding.ageSeconds).toBeLessThan(23 * 3600);
      const rows = await w.rows(["old-1", "zombie-1"]);
      expect(rows.get("old-1")).toMatchObject({ status: "active", endedAt: null });
      expect(rows.get("zombie-1")).toMatchObject({ status: "completed", endedAt: done.endedAt });
    },
  );
});
