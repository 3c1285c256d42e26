/**
 * A calls table whose one `call_id` column holds Twilio's Call SID for outbound calls and OpenAI's realtime
 * call id for inbound ones, and tables without one provider's column: on real PostgreSQL and both
 * simulators, wired as the daemon wires it. Each id is asked of its own provider and of no other.
 */
import { afterEach, describe, expect, it } from "vitest";
import { reportTable } from "../../src/cli/report.js";
import { missingColumnMessage } from "../../src/db/schema-hints.js";
import { PgCallStore } from "../../src/db/store.js";
import { passOutcome } from "../../src/reconcile/pass.js";
import { activeRow, type Matrix, rtc, sid, startMatrix, whole } from "../helpers/matrix.js";

const NOW = Date.now();
const MIN = 60_000;
const started = (minutesAgo: number) => whole(NOW - minutesAgo * MIN);
const ONE_COLUMN = {
  CALLS_COL_ID: "call_id",
  CALLS_COL_TWILIO_SID: "call_id",
  CALLS_COL_OPENAI_ID: "call_id",
};

/** A Twilio call over at Twilio, whose row is still active. */
function twilioZombie(m: Matrix, id: string, startedAt: Date) {
  const endedAt = whole(startedAt.getTime() + 90_000);
  m.twilio.upsertCall({
    sid: id,
    status: "completed",
    startTime: startedAt,
    endTime: endedAt,
    duration: "90",
  });
  return endedAt;
}

async function counter(
  m: Matrix,
  name: string,
): Promise<{ labels: Record<string, unknown>; value: number }[]> {
  const metric = (await m.metrics.registry.getMetricsAsJSON()).find((x) => x.name === name);
  return (metric?.values ?? []).map((v) => ({ labels: v.labels, value: v.value }));
}

/** No provider answered with an error, no row check failed, and no breaker moved. */
async function expectNoProviderFailure(m: Matrix): Promise<void> {
  const requests = await counter(m, "call_reconciler_provider_requests_total");
  expect(
    requests.filter((r) => !["ok", "not_found"].includes(String(r.labels.outcome)) && r.value > 0),
  ).toEqual([]);
  expect(requests.filter((r) => r.labels.outcome === "not_found" && r.value > 0)).toEqual([]);
  expect((await counter(m, "call_reconciler_row_check_failures_total")).filter((r) => r.value > 0)).toEqual(
    [],
  );
  expect(
    (await counter(m, "call_reconciler_circuit_breaker_transitions_total")).filter((r) => r.value > 0),
  ).toEqual([]);
}

async function columnsOf(m: Matrix): Promise<string[]> {
  const { rows } = await m.db.pool.query<{ column_name: string }>(
    "SELECT column_name FROM information_schema.columns WHERE table_name = 'calls' ORDER BY ordinal_position",
  );
  return rows.map((r) => r.column_name);
}

/** The checks `run` and `doctor` make at start-up: they must not look for a column the table does not have. */
async function expectSchemaAccepted(m: Matrix): Promise<void> {
  await new PgCallStore(m.db.pool, m.config.calls, m.config.activeStatuses).schema.verify();
  expect(await missingColumnMessage(m.db.pool, m.config.calls)).toBeNull();
}

describe("one id column for both providers (real Postgres, both simulators)", () => {
  let m: Matrix | undefined;
  afterEach(async () => {
    await m?.close();
    m = undefined;
  });

  it("ends Twilio zombies on Twilio's word and gone realtime calls on OpenAI's, asking each only its own ids", async () => {
    const zombieSid = sid("outbound-zombie");
    const liveSid = sid("outbound-live");
    const goneRtc = rtc("inbound-gone");
    const youngRtc = rtc("inbound-young");
    const odd = "legacy-000042";
    const rows = [
      activeRow(zombieSid, started(90), { sid: zombieSid, rtc: zombieSid }),
      activeRow(liveSid, started(30), { sid: liveSid, rtc: liveSid }),
      activeRow(goneRtc, started(150), { sid: goneRtc, rtc: goneRtc }),
      activeRow(youngRtc, started(10), { sid: youngRtc, rtc: youngRtc }),
      activeRow(odd, started(90), { sid: odd, rtc: odd }),
    ];
    m = await startMatrix(rows, ONE_COLUMN);
    expect(await columnsOf(m)).toEqual(["call_id", "twilio_account_sid", "status", "started_at", "ended_at"]);
    await expectSchemaAccepted(m);
    const endedAt = twilioZombie(m, zombieSid, started(90));
    m.twilio.upsertCall({
      sid: liveSid,
      status: "in-progress",
      startTime: started(30),
      endTime: null,
      duration: null,
    });
    m.openai.upsertSession({ callId: goneRtc, live: false });
    m.openai.upsertSession({ callId: youngRtc, live: true });

    const first = await m.pass();
    expect(first).toMatchObject({ checked: 5, live: 1, ended: 1, providerErrors: 0 });
    expect(first.zombies).toEqual({ twilio: 1, openai: 0, age_bound: 0 });
    expect(first.unverified).toEqual({ absence_unconfirmed: 1, within_session_cap: 1, unrecognised_id: 1 });
    expect(passOutcome(first)).toBe("success");
    const table = reportTable(first);
    expect(table).toMatch(
      new RegExp(`${odd}\\s+\\S+\\s+unrecognised id\\s+unrecognised id\\s+unverified: unrecognised_id`),
    );
    expect(table).toMatch(new RegExp(`${goneRtc}\\s+\\S+\\s+not its id\\s+gone \\(1st sighting\\)`));
    expect(table).not.toMatch(/bad_request|not_needed/);

    m.clockOffsetMs = 2 * MIN;
    const second = await m.pass();
    expect(second.zombies).toEqual({ twilio: 0, openai: 1, age_bound: 0 });
    expect(second.ended).toBe(1);
    expect(passOutcome(second)).toBe("success");

    const stored = await m.rows(rows.map((r) => r.id));
    expect(stored.get(zombieSid)).toMatchObject({ status: "completed", endedAt });
    // Gone past OpenAI's session cap: ended at the latest time it can have ended.
    expect(stored.get(goneRtc)).toMatchObject({
      status: "completed",
      endedAt: new Date(started(150).getTime() + 3600_000),
    });
    for (const id of [liveSid, youngRtc, odd])
      expect(stored.get(id)).toMatchObject({ status: "active", endedAt: null });

    const actions = await m.actions();
    expect(actions.map((a) => [a.callId, a.source])).toEqual([
      [zombieSid, "twilio"],
      [goneRtc, "openai"],
    ]);
    expect(actions[0]?.evidence).toMatchObject({ openai: { kind: "skipped", why: "other_provider" } });
    expect(actions[1]?.evidence).toMatchObject({
      twilio: { kind: "skipped", why: "other_provider" },
      openai: { kind: "gone" },
    });

    // The listing's slices are cut from the rows Twilio is asked about: the two CA rows, not the rtc_ or odd ones.
    const shares = await new PgCallStore(
      m.db.pool,
      m.config.calls,
      m.config.activeStatuses,
    ).activeStartShares(2);
    expect([...shares.values()].map((s) => s.rows)).toEqual([1]);

    // Twilio was asked about its two calls only (the zombie once, the live call each pass), and answered 200.
    expect(m.twilio.stats).toMatchObject({ fetches: 3, requests: 3, responsesByStatus: { 200: 3 } });
    // OpenAI was connected to for the gone realtime call only: never a CA SID, never the young call, never the odd id.
    expect(m.openai.handshakesFor(goneRtc)).toBeGreaterThan(0);
    expect(m.openai.stats.handshakes).toBe(m.openai.handshakesFor(goneRtc));
    for (const id of [zombieSid, liveSid, youngRtc, odd]) expect(m.openai.handshakesFor(id)).toBe(0);
    expect(m.openai.stats.hangups).toBe(0);
    await expectNoProviderFailure(m);
  });

  it("a table without an OpenAI column: CALLS_COL_OPENAI_ID set empty", async () => {
    const zombieSid = sid("no-rtc-zombie");
    const rows = [
      activeRow("call-1", started(90), { sid: zombieSid }),
      activeRow("call-2", started(150), { sid: null }),
    ];
    m = await startMatrix(rows, { CALLS_COL_OPENAI_ID: "" });
    expect(await columnsOf(m)).not.toContain("openai_call_id");
    await expectSchemaAccepted(m);
    const endedAt = twilioZombie(m, zombieSid, started(90));

    const r = await m.pass();
    expect(r.zombies).toEqual({ twilio: 1, openai: 0, age_bound: 0 });
    expect(r.unverified).toEqual({ no_provider: 1 });
    expect(passOutcome(r)).toBe("success");
    expect((await m.rows(["call-1"])).get("call-1")).toMatchObject({ status: "completed", endedAt });
    expect(m.openai.stats.handshakes).toBe(0);
    await expectNoProviderFailure(m);
  });

  it("a table without a Twilio column: CALLS_COL_TWILIO_SID set empty", async () => {
    const goneRtc = rtc("no-sid-gone");
    m = await startMatrix([activeRow("call-1", started(150), { rtc: goneRtc })], {
      CALLS_COL_TWILIO_SID: "",
    });
    expect(await columnsOf(m)).not.toContain("twilio_call_sid");
    await expectSchemaAccepted(m);
    m.openai.upsertSession({ callId: goneRtc, live: false });

    await m.pass();
    m.clockOffsetMs = 2 * MIN;
    const r = await m.pass();
    expect(r.zombies).toEqual({ twilio: 0, openai: 1, age_bound: 0 });
    expect((await m.rows(["call-1"])).get("call-1")).toMatchObject({ status: "completed" });
    expect(m.twilio.stats.requests).toBe(0);
    await expectNoProviderFailure(m);
  });
});
