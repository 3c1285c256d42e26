import { describe, expect, it } from "vitest";
import { withIncidentRecords } from "../../src/sim/demo-records.js";
import { buildDemoScenario, DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN } from "../../src/sim/demo-scenario.js";
import { startDemoSimulators } from "../../src/sim/demo-simulators.js";
import type { SimTwilioCall } from "../../src/sim/twilio-sim.js";
import { recordsForCause } from "../../src/sim/twilio-sim-causes.js";

const live: SimTwilioCall = {
  sid: `CA${"0".repeat(32)}`,
  status: "in-progress",
  startTime: new Date("2026-11-29T10:00:00Z"),
  endTime: null,
  duration: null,
};

describe("records for a cause", () => {
  it("refuses a call that has not ended, rather than inventing its end", () => {
    expect(() => recordsForCause(live, "acknowledged")).toThrow(/needs an ended call/);
  });

  it("places the completed callback after the end, from start + duration when the end time is missing", () => {
    const records = recordsForCause({ ...live, status: "completed", duration: "120" }, "acknowledged");
    const completed = records.deliveries?.find((d) => d.callStatus === "completed");
    expect(completed?.date).toEqual(new Date("2026-11-29T10:02:01Z"));
    expect(completed).toMatchObject({ responseCode: 200, requestDuration: 80 });
    // No numbers of its own: the call's apply, so records and call never disagree.
    expect(records).not.toHaveProperty("from");
    expect(
      recordsForCause({ ...live, endTime: live.startTime }, "failed", { from: "+33612345678" }).from,
    ).toBe("+33612345678");
  });
});

describe("the demo's incident records", () => {
  const now = new Date("2026-11-29T12:00:00Z");
  const plain = buildDemoScenario(now);
  const seeded = withIncidentRecords(plain);

  it("changes nothing but the records of completed Twilio calls", () => {
    const strip = (c: (typeof seeded)[number]) => {
      const { records: _records, ...twilio } = c.twilio ?? {};
      return { ...c, twilio: c.twilio ? twilio : null };
    };
    expect(seeded.map(strip)).toEqual(plain);
    expect(plain.every((c) => c.twilio?.records === undefined)).toBe(true);
    for (const c of seeded) expect(c.twilio?.records !== undefined).toBe(c.twilio?.status === "completed");
  });

  it("mostly acknowledged callbacks, a few failed, a few never asked for", () => {
    const completed = seeded.flatMap((c) => (c.twilio?.records ? [c.twilio.records] : []));
    const failed = completed.filter((r) => (r.notifications ?? []).length > 0);
    const unasked = completed.filter(
      (r) => r.origin.kind === "api" && !String(r.origin.statusCallbackEvent ?? "").includes("completed"),
    );
    expect(failed.length).toBeGreaterThanOrEqual(2);
    expect(unasked.length).toBeGreaterThanOrEqual(2);
    expect(completed.length - failed.length - unasked.length).toBeGreaterThan(completed.length / 2);
    expect(new Set(failed.map((r) => r.notifications?.[0]?.errorCode))).toEqual(new Set([15003, 11200]));
  });

  it("are served by the demo simulators at once with recordsAvailableAfterMs 0", async () => {
    const sims = await startDemoSimulators(seeded, { recordsAvailableAfterMs: 0, now: () => now });
    try {
      const failed = seeded.find((c) => (c.twilio?.records?.notifications ?? []).length > 0);
      const path = `/2010-04-01/Accounts/${DEMO_ACCOUNT_SID}/Calls/${failed?.twilio?.sid}/Notifications.json`;
      const auth = `Basic ${Buffer.from(`${DEMO_ACCOUNT_SID}:${DEMO_AUTH_TOKEN}`).toString("base64")}`;
      const res = await fetch(`${sims.twilio.url}${path}`, { headers: { authorization: auth } });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { notifications: unknown[] }).notifications).toHaveLength(1);
    } finally {
      await sims.close();
    }
  });
});
