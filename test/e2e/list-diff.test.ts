import { afterEach, describe, expect, it } from "vitest";
import type { SeedCall } from "../../src/dev/seed.js";
import type { SimTwilioCall } from "../../src/sim/twilio-sim.js";
import { activeRow, type Matrix, sid, startMatrix, whole } from "../helpers/matrix.js";

const NOW = Date.now();
const START = whole(NOW - 2 * 3600_000);
const endOf = (i: number) => whole(START.getTime() + (60 + i) * 1000);

/** `live` in-progress calls (plus a few queued/ringing) and `zombies` completed ones, all with SIDs. */
function population(live: number, zombies: number): { rows: SeedCall[]; calls: SimTwilioCall[] } {
  const rows: SeedCall[] = [];
  const calls: SimTwilioCall[] = [];
  for (let i = 0; i < live; i++) {
    const id = `live-${i}`;
    const status = i % 100 === 1 ? "ringing" : i % 100 === 2 ? "queued" : "in-progress";
    // Spread over 10 minutes, as calls are: the listing is cut into slices where the rows' start times say.
    const startedAt = whole(START.getTime() + (i % 600) * 1000);
    rows.push(activeRow(id, startedAt, { sid: sid(id) }));
    calls.push({ sid: sid(id), status, startTime: startedAt, endTime: null, duration: null });
  }
  for (let i = 0; i < zombies; i++) {
    const id = `zombie-${i}`;
    rows.push(activeRow(id, START, { sid: sid(id) }));
    calls.push({
      sid: sid(id),
      status: "completed",
      startTime: START,
      endTime: endOf(i),
      duration: String(60 + i),
    });
  }
  return { rows, calls };
}

async function expectExactlyTheZombiesEnded(m: Matrix, live: number, zombies: number): Promise<void> {
  const ids = [
    ...Array.from({ length: live }, (_, i) => `live-${i}`),
    ...Array.from({ length: zombies }, (_, i) => `zombie-${i}`),
  ];
  const rows = await m.rows(ids);
  for (let i = 0; i < live; i++)
    expect(rows.get(`live-${i}`)).toMatchObject({ status: "active", endedAt: null });
  for (let i = 0; i < zombies; i++)
    expect(rows.get(`zombie-${i}`)).toMatchObject({ status: "completed", endedAt: endOf(i) });
  expect((await m.actions()).length).toBe(zombies);
}

describe("Twilio list-diff (real Postgres, the simulator's list and paging)", () => {
  let m: Matrix | undefined;
  afterEach(async () => {
    await m?.close();
    m = undefined;
  });

  it("lists the live calls across several pages and fetches only the rest; zombies end with their true end time", async () => {
    const { rows, calls } = population(2500, 25);
    m = await startMatrix(rows, {
      TWILIO_STRATEGY: "auto",
      TWILIO_MAX_RPS: "500",
      TWILIO_CONCURRENCY: "8",
      // The request counts below are exact: on a loaded machine a page must not time out and be asked again.
      PROVIDER_TIMEOUT_MS: "60000",
    });
    for (const c of calls) m.twilio.upsertCall(c);
    const r = await m.pass();
    expect(r.twilioStrategy).toBe("list-diff");
    // in-progress: 2,450 calls, 2,525 rows with a SID = 3 slices of one page each; ringing and queued: 1 page each.
    expect(m.twilio.stats.lists).toBe(5);
    expect(r.listRequests).toBe(5);
    expect(m.twilio.stats.fetches).toBe(25);
    expect(r.live).toBe(2500);
    await expectExactlyTheZombiesEnded(m, 2500, 25);
  });

  it("a live call missing from the list is fetched on its own and kept", async () => {
    const { rows, calls } = population(300, 3);
    m = await startMatrix(rows, { TWILIO_STRATEGY: "list-diff" });
    for (const c of calls) m.twilio.upsertCall(c);
    // As for calls over Elastic SIP Trunking: live, but absent from the list.
    const hidden = new Set([sid("live-7"), sid("live-8")]);
    const probe = m.deps.probes.twilio;
    if (!probe) throw new Error("Twilio not configured");
    m.deps.probes.twilio = {
      fetchCall: probe.fetchCall,
      listCallsPage: async (status, uri, signal) => {
        const page = await probe.listCallsPage(status, uri, signal);
        return page.kind === "page" ? { ...page, calls: page.calls.filter((c) => !hidden.has(c.sid)) } : page;
      },
    };
    const r = await m.pass();
    expect(r.twilioStrategy).toBe("list-diff");
    expect(m.twilio.stats.fetches).toBe(3 + 2);
    await expectExactlyTheZombiesEnded(m, 300, 3);
  });

  it("falls back to asking per call when the list cannot be had, and still ends only the zombies", async () => {
    const { rows, calls } = population(150, 3);
    m = await startMatrix(rows, { TWILIO_STRATEGY: "list-diff" });
    for (const c of calls) m.twilio.upsertCall(c);
    const probe = m.deps.probes.twilio;
    if (!probe) throw new Error("Twilio not configured");
    m.deps.probes.twilio = {
      fetchCall: probe.fetchCall,
      listCallsPage: async () => ({ kind: "error", reason: "malformed_response", detail: "truncated list" }),
    };
    const r = await m.pass();
    expect(r.twilioStrategy).toBe("per-call");
    expect(m.twilio.stats.fetches).toBe(153);
    await expectExactlyTheZombiesEnded(m, 150, 3);
  });

  it("per-call stays available, and auto does not list for a handful of calls", async () => {
    const { rows, calls } = population(150, 2);
    m = await startMatrix(rows, { TWILIO_STRATEGY: "per-call" });
    for (const c of calls) m.twilio.upsertCall(c);
    const r = await m.pass();
    expect(r.twilioStrategy).toBe("per-call");
    expect(m.twilio.stats.lists).toBe(0);
    expect(m.twilio.stats.fetches).toBe(152);
    await expectExactlyTheZombiesEnded(m, 150, 2);
    await m.close();

    const few = population(20, 1);
    m = await startMatrix(few.rows, { TWILIO_STRATEGY: "auto", TWILIO_LIST_DIFF_THRESHOLD: "100" });
    for (const c of few.calls) m.twilio.upsertCall(c);
    const small = await m.pass();
    expect(small.twilioStrategy).toBe("per-call");
    expect(m.twilio.stats.lists).toBe(0);
  });
});
