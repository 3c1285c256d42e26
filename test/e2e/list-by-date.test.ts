import { afterEach, describe, expect, it } from "vitest";
import type { SeedCall } from "../../src/dev/seed.js";
import type { SimTwilioCall } from "../../src/sim/twilio-sim.js";
import { activeRow, type Matrix, sid, startMatrix, whole } from "../helpers/matrix.js";

// Noon of a past day (UTC): every call of the population starts within that one day.
const DAY = new Date(Date.now() - 86_400_000);
const NOON = whole(Date.UTC(DAY.getUTCFullYear(), DAY.getUTCMonth(), DAY.getUTCDate(), 12));
const LIVE = 6000;
const ZOMBIES = 10;
/** One unsliced listing: a page per 1,000 in-progress calls, and one each for queued and ringing. */
const UNSLICED = Math.ceil(LIVE / 1000) + 2;

function population(): { rows: SeedCall[]; calls: SimTwilioCall[] } {
  const rows: SeedCall[] = [];
  const calls: SimTwilioCall[] = [];
  for (let i = 0; i < LIVE; i++) {
    const id = `live-${i}`;
    const startedAt = whole(NOON.getTime() + (i % 3600) * 1000);
    rows.push(activeRow(id, startedAt, { sid: sid(id) }));
    calls.push({ sid: sid(id), status: "in-progress", startTime: startedAt, endTime: null, duration: null });
  }
  for (let i = 0; i < ZOMBIES; i++) {
    const id = `zombie-${i}`;
    const endTime = whole(NOON.getTime() + 600_000 + i * 1000);
    rows.push(activeRow(id, NOON, { sid: sid(id) }));
    calls.push({ sid: sid(id), status: "completed", startTime: NOON, endTime, duration: "600" });
  }
  return { rows, calls };
}

const ENV = {
  TWILIO_STRATEGY: "list-diff",
  TWILIO_MAX_RPS: "500",
  TWILIO_CONCURRENCY: "8",
  MAX_CALL_DURATION_SECONDS: "172800",
};

describe("StartTime honoured by the date only, as Twilio documents it (real Postgres, the simulator)", () => {
  let m: Matrix | undefined;
  afterEach(async () => {
    await m?.close();
    m = undefined;
  });

  it("the slices are seen to be ignored, the account is listed whole from then on, and the cost does not multiply", async () => {
    const { rows, calls } = population();
    m = await startMatrix(rows, ENV, { startTimeByDate: true });
    for (const c of calls) m.twilio.upsertCall(c);
    const first = await m.pass();
    expect(first.ended).toBe(ZOMBIES);
    expect(first.live).toBe(LIVE);
    // The slices asked before the answers showed it are the only extra, once.
    expect(first.listRequests).toBeGreaterThan(UNSLICED);
    expect(first.listRequests).toBeLessThanOrEqual(UNSLICED + 16);
    const warned = m.logs.filter((l) => String(l.msg).includes("StartTime's date only"));
    expect(warned).toHaveLength(1);
    expect(
      await m.metrics.registry.getSingleMetricAsString("call_reconciler_twilio_accounts_listed_by_date"),
    ).toMatch(/ 1$/m);
    const second = await m.pass();
    expect(second.listRequests).toBe(UNSLICED);
    expect(second.live).toBe(LIVE);
    expect(m.logs.filter((l) => String(l.msg).includes("StartTime's date only"))).toHaveLength(1);
  });

  it("a provider that honours the seconds keeps its slices", async () => {
    const { rows, calls } = population();
    m = await startMatrix(rows, ENV);
    for (const c of calls) m.twilio.upsertCall(c);
    const r = await m.pass();
    expect(r.ended).toBe(ZOMBIES);
    // Six slices of about a page each, plus queued and ringing: about one unsliced listing's pages.
    expect(r.listRequests).toBeLessThanOrEqual(UNSLICED + 6);
    expect(m.logs.filter((l) => String(l.msg).includes("StartTime's date only"))).toHaveLength(0);
    expect(
      await m.metrics.registry.getSingleMetricAsString("call_reconciler_twilio_accounts_listed_by_date"),
    ).toMatch(/ 0$/m);
  });
});
