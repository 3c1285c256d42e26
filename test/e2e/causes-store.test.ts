import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.js";
import {
  causeOf,
  causesSince,
  diagnosisBacklog,
  dueDiagnoses,
  retryDiagnosis,
  settleDiagnosis,
} from "../../src/db/causes.js";
import { migrate } from "../../src/db/migrate.js";
import { daemonTables } from "../../src/db/sql.js";
import { PgCallStore } from "../../src/db/store.js";
import { type EndRequest, type EndSource, TWILIO_RECORDS_DELAY_MS } from "../../src/model/index.js";
import { type FreshDatabase, freshDatabase } from "../helpers/db.js";

const DEFAULT = loadConfig({}).calls;
const TABLES = daemonTables();
const ACCOUNT = `AC${"a".repeat(32)}`;
const SUB = `AC${"b".repeat(32)}`;
const STARTED = new Date("2026-11-01T00:00:00Z");
const sid = (n: number) => `CA${String(n).padStart(32, "0")}`;

function request(id: string, runId: string, source: EndSource, over: Partial<EndRequest> = {}): EndRequest {
  const twilio = source === "twilio";
  return {
    call: {
      id,
      twilioSid: twilio ? sid(id.length) : null,
      twilioAccount: null,
      openaiId: null,
      status: "active",
      startedAt: STARTED,
    },
    newStatus: "completed",
    endedAt: new Date(STARTED.getTime() + 120_000),
    durationSeconds: 120,
    source,
    runId,
    evidence: twilio
      ? { twilio: { kind: "ended", status: "completed", direction: "outbound-api", asked: { account: SUB } } }
      : { twilio: { kind: "skipped", why: "no_id" } },
    decidedAt: new Date(STARTED.getTime() + 86_400_000),
    ...over,
  };
}

describe("the causes table: written with every end, in its transaction", () => {
  let db: FreshDatabase;
  let store: PgCallStore;

  beforeAll(async () => {
    db = await freshDatabase();
    await migrate(db.pool, { withCallsTable: true, mapping: DEFAULT });
    store = new PgCallStore(db.pool, DEFAULT, ["active"], { twilioAccount: ACCOUNT });
    await store.schema.verify();
  });
  afterAll(async () => {
    await db?.drop();
  });

  const seed = (ids: string[], status = "active") =>
    db.pool.query("INSERT INTO calls (call_id, status, started_at) SELECT unnest($1::text[]), $2, $3", [
      ids,
      status,
      STARTED,
    ]);

  it("a Twilio end waits for its diagnosis; an age-bound or realtime end's cause is its source", async () => {
    const runId = randomUUID();
    await seed(["tw-1", "ab-1", "oa-1"]);
    await store.endCalls([
      request("tw-1", runId, "twilio"),
      request("ab-1", runId, "age_bound", { newStatus: "timeout" }),
      request("oa-1", runId, "openai"),
    ]);
    const rows = await causesSince(db.pool, TABLES, new Date(0));
    expect(rows.map((r) => [r.callId, r.source, r.cause, r.accountSid, r.direction])).toEqual([
      ["ab-1", "age_bound", "age_bound", null, null],
      ["oa-1", "openai", "openai", null, null],
      ["tw-1", "twilio", null, SUB, "outbound-api"],
    ]);
    const tw = await causeOf(db.pool, TABLES, "tw-1");
    expect(tw).toMatchObject({
      callSid: sid(4),
      providerStatus: "completed",
      startedAt: STARTED,
      providerEndedAt: new Date(STARTED.getTime() + 120_000),
      endedHereAt: new Date(STARTED.getTime() + 86_400_000),
    });
    // Its end is a day old: due at once; the queue hands out only Twilio ends.
    expect(await dueDiagnoses(db.pool, TABLES, 10)).toEqual([
      {
        callId: "tw-1",
        callSid: sid(4),
        accountSid: SUB,
        direction: "outbound-api",
        startedAt: STARTED,
        providerEndedAt: new Date(STARTED.getTime() + 120_000),
        attempts: 0,
      },
    ]);
  });

  it("a call ended just now is due when Twilio's records are readable, not before", async () => {
    const runId = randomUUID();
    await seed(["tw-fresh"]);
    const endedAt = new Date();
    await store.endCalls([request("tw-fresh", runId, "twilio", { endedAt, decidedAt: endedAt })]);
    const due = await dueDiagnoses(db.pool, TABLES, 100);
    expect(due.map((d) => d.callId)).not.toContain("tw-fresh");
    const { rows } = await db.pool.query<{ due_at: Date }>(
      "SELECT due_at FROM call_reconciler_causes WHERE call_id = 'tw-fresh'",
    );
    expect(rows[0]?.due_at.getTime()).toBe(endedAt.getTime() + TWILIO_RECORDS_DELAY_MS);
  });

  it("nothing is recorded for a call the end did not change, nor when the end rolls back", async () => {
    const runId = randomUUID();
    await seed(["done-1"], "completed");
    await store.endCalls([request("done-1", runId, "twilio")]);
    expect(await causeOf(db.pool, TABLES, "done-1")).toBeNull();
  });

  it("settled once, never overwritten; a retry moves the due time and counts the attempt", async () => {
    const runId = randomUUID();
    await seed(["tw-2"]);
    await store.endCalls([request("tw-2", runId, "twilio")]);
    const later = new Date(Date.now() + 3_600_000);
    await retryDiagnosis(db.pool, TABLES, "tw-2", later, "HTTP 503");
    expect((await dueDiagnoses(db.pool, TABLES, 100)).map((d) => d.callId)).not.toContain("tw-2");
    expect(await causeOf(db.pool, TABLES, "tw-2")).toMatchObject({
      attempts: 1,
      lastError: "HTTP 503",
      cause: null,
    });
    expect((await diagnosisBacklog(db.pool, TABLES)).queued).toBeGreaterThanOrEqual(2);
    await settleDiagnosis(db.pool, TABLES, "tw-2", "callback_acknowledged", { code: 200 });
    await settleDiagnosis(db.pool, TABLES, "tw-2", "unknown", { reason: "late" });
    expect(await causeOf(db.pool, TABLES, "tw-2")).toMatchObject({
      cause: "callback_acknowledged",
      detail: { code: 200 },
      attempts: 2,
    });
  });
});
