import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { CallsTableMapping } from "../../src/config/config.js";
import { loadConfig } from "../../src/config/config.js";
import { migrate } from "../../src/db/migrate.js";
import { buildStatements, checkedTypeName, ENDED_CHANNEL } from "../../src/db/sql.js";
import { PgCallStore, SchemaMismatchError } from "../../src/db/store.js";
import { readActions, readCalls, type StoredAction } from "../../src/dev/seed.js";
import type { EndBatchResult, EndRequest, EndSource } from "../../src/model/index.js";
import { type FreshDatabase, freshDatabase } from "../helpers/db.js";
import { until } from "../helpers/wait.js";

const DEFAULT = loadConfig({}).calls;
const STARTED = new Date("2026-11-01T00:00:00Z");
const SOURCES: readonly EndSource[] = ["twilio", "openai", "age_bound"];
const STATUSES = ["completed", "busy", "no-answer", "timeout"] as const;
/** The printed comparison of batched and one-by-one ends: rows ended each way. */
const BATCHED = 2_000;
const ONE_BY_ONE = 200;

interface Notified {
  callId: string;
  status: string;
  endedAt: string;
  source: string;
  runId: string;
}

interface Listener {
  client: pg.Client;
  received: Notified[];
  /** Resolves once every NOTIFY committed before the call has arrived: PostgreSQL delivers them in commit order. */
  caughtUp(): Promise<void>;
}

/** A LISTENing connection that keeps every `call_reconciler_ended` payload. */
async function listen(url: string): Promise<Listener> {
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => {});
  const received: Notified[] = [];
  const barriers = new Map<string, () => void>();
  client.on("notification", (n) => {
    if (n.channel !== ENDED_CHANNEL) return;
    const payload = JSON.parse(n.payload ?? "{}") as Notified | { barrier: string };
    if ("barrier" in payload) barriers.get(payload.barrier)?.();
    else received.push(payload);
  });
  await client.connect();
  await client.query(`LISTEN ${ENDED_CHANNEL}`);
  const caughtUp = async () => {
    const barrier = randomUUID();
    const arrived = new Promise<void>((resolve) => barriers.set(barrier, resolve));
    await client.query("SELECT pg_notify($1, $2)", [ENDED_CHANNEL, JSON.stringify({ barrier })]);
    await arrived;
    barriers.delete(barrier);
  };
  return { client, received, caughtUp };
}

/** The notifications of one run, once `expected` have arrived and any extras would have too. */
async function notifiedFor(listener: Listener, runId: string, expected: number): Promise<Notified[]> {
  const mine = () => listener.received.filter((n) => n.runId === runId);
  await until(`${expected} notifications for ${runId}`, () => mine().length >= expected);
  await listener.caughtUp();
  return mine();
}

function request(id: string, runId: string, i = 0, overrides: Partial<EndRequest> = {}): EndRequest {
  return {
    call: { id, twilioSid: null, twilioAccount: null, openaiId: null, status: "active", startedAt: STARTED },
    newStatus: STATUSES[i % STATUSES.length] as string,
    // Distinct per call, with milliseconds, so a mix-up between rows would show.
    endedAt: new Date(STARTED.getTime() + 60_000 + i * 1_001),
    durationSeconds: 60 + i * 1.001,
    source: SOURCES[i % SOURCES.length] as EndSource,
    runId,
    evidence: {
      i,
      kind: "ended",
      note: i % 7 === 0 ? `quotes " \\ back\\slash, {braces}, ünïcode ${i}` : null,
    },
    decidedAt: new Date(STARTED.getTime() + 3_600_000 + i),
    ...overrides,
  };
}

function actionsOf(actions: StoredAction[], runId: string): StoredAction[] {
  return actions.filter((a) => a.runId === runId);
}

function countBy<T>(xs: readonly T[]): Map<T, number> {
  const m = new Map<T, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
}

const ids = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(5, "0")}`);

describe("batched ends on the default schema", () => {
  let db: FreshDatabase;
  let store: PgCallStore;
  let listener: Awaited<ReturnType<typeof listen>>;

  /** One multi-row INSERT: fast enough for tens of thousands of rows. */
  async function seed(callIds: readonly string[], status = "active"): Promise<void> {
    await db.pool.query("INSERT INTO calls (call_id, status, started_at) SELECT unnest($1::text[]), $2, $3", [
      callIds,
      status,
      STARTED,
    ]);
  }

  beforeAll(async () => {
    db = await freshDatabase({ poolMax: 12 });
    await migrate(db.pool, { withCallsTable: true, mapping: DEFAULT });
    store = new PgCallStore(db.pool, DEFAULT, ["active", "ringing"]);
    await store.schema.verify();
    listener = await listen(db.url);
  });
  afterAll(async () => {
    await listener?.client.end().catch(() => {});
    await db?.drop();
  });

  it("ends 2,000 calls in one batch: each once, with its own audit row and NOTIFY", async () => {
    const runId = randomUUID();
    const callIds = ids("big", 2000);
    await seed(callIds);
    const reqs = callIds.map((id, i) => request(id, runId, i));

    const { ended, locked } = await store.endCalls(reqs);
    expect(ended).toEqual(new Set(callIds));
    expect(locked).toEqual(new Set());

    const rows = await readCalls(db.pool, DEFAULT, callIds);
    expect(rows).toHaveLength(2000);
    for (const [i, r] of rows.entries()) {
      const req = reqs[i] as EndRequest;
      expect(r).toEqual({ id: req.call.id, status: req.newStatus, startedAt: STARTED, endedAt: req.endedAt });
    }

    const actions = actionsOf(await readActions(db.pool, DEFAULT), runId);
    expect(actions).toHaveLength(2000);
    const byId = new Map(actions.map((a) => [a.callId, a]));
    expect(byId.size).toBe(2000);
    for (const req of reqs) {
      expect(byId.get(req.call.id)).toEqual({
        id: expect.any(String),
        runId,
        callId: req.call.id,
        previousStatus: "active",
        newStatus: req.newStatus,
        providerStatus: req.newStatus,
        endedAt: req.endedAt,
        source: req.source,
        evidence: req.evidence,
        decidedAt: req.decidedAt,
        outcome: "ended",
        detail: null,
      });
    }

    const notified = await notifiedFor(listener, runId, 2000);
    expect(notified).toHaveLength(2000);
    const notifiedById = new Map(notified.map((n) => [n.callId, n]));
    expect(notifiedById.size).toBe(2000);
    for (const req of reqs) {
      expect(notifiedById.get(req.call.id)).toEqual({
        callId: req.call.id,
        status: req.newStatus,
        endedAt: req.endedAt.toISOString(),
        source: req.source,
        runId,
      });
    }

    // Level-triggered: the same batch again changes nothing, writes nothing, tells no one.
    expect(await store.endCalls(reqs.map((r) => ({ ...r, runId: randomUUID() })))).toEqual({
      ended: new Set(),
      locked: new Set(),
    });
    expect(await readActions(db.pool, DEFAULT)).toHaveLength(2000);
  });

  it("a row still active that already has an end time is neither ended nor reported as locked", async () => {
    const runId = randomUUID();
    const [kept, open] = ids("had-end", 2) as [string, string];
    await seed([kept, open]);
    const earlierEnd = new Date("2026-11-01T00:03:00.456Z");
    await db.pool.query("UPDATE calls SET ended_at = $2 WHERE call_id = $1", [kept, earlierEnd]);
    const result = await store.endCalls([request(kept, runId, 0), request(open, runId, 1)]);
    expect(result).toEqual({ ended: new Set([open]), locked: new Set() });
    expect(await readCalls(db.pool, DEFAULT, [kept])).toEqual([
      { id: kept, status: "active", startedAt: STARTED, endedAt: earlierEnd },
    ]);
    expect(actionsOf(await readActions(db.pool, DEFAULT), runId).map((a) => a.callId)).toEqual([open]);
    // Nor is it listed as active (the pass would count it as a zombie).
    await db.pool.query("UPDATE calls SET status = 'active', ended_at = NULL WHERE call_id = $1", [open]);
    const page = await store.listActivePage(null, new Date(), 10_000);
    const listed = page.rows.map((r) => r.id);
    expect(listed).toContain(open);
    expect(listed).not.toContain(kept);
  });

  it("leaves the calls a webhook ended first alone, and audits only the others", async () => {
    const runId = randomUUID();
    const callIds = ids("hook", 10);
    await seed(callIds);
    await db.pool.query("UPDATE calls SET status = 'ringing' WHERE call_id = $1", ["hook-00009"]);
    const byWebhook = ["hook-00001", "hook-00004", "hook-00005", "hook-00008"];
    const webhookEnd = new Date("2026-11-01T00:03:00Z");
    await db.pool.query("UPDATE calls SET status = 'completed', ended_at = $2 WHERE call_id = ANY($1)", [
      byWebhook,
      webhookEnd,
    ]);

    const reqs = callIds.map((id, i) => request(id, runId, i, { newStatus: "timeout" }));
    const { ended, locked } = await store.endCalls(reqs);
    expect(locked).toEqual(new Set());
    const others = callIds.filter((id) => !byWebhook.includes(id));
    expect(ended).toEqual(new Set(others));

    const rows = await readCalls(db.pool, DEFAULT, callIds);
    for (const r of rows) {
      if (byWebhook.includes(r.id)) expect(r).toMatchObject({ status: "completed", endedAt: webhookEnd });
      else expect(r).toMatchObject({ status: "timeout", endedAt: reqs[callIds.indexOf(r.id)]?.endedAt });
    }
    const actions = actionsOf(await readActions(db.pool, DEFAULT), runId);
    expect(actions.map((a) => a.callId).sort()).toEqual(others);
    expect(actions.find((a) => a.callId === "hook-00009")?.previousStatus).toBe("ringing");
    expect((await notifiedFor(listener, runId, others.length)).map((n) => n.callId).sort()).toEqual(others);
  });

  it("ends an id given twice once, with its first request, and ignores unknown ids", async () => {
    const runId = randomUUID();
    await seed(["dup-a", "dup-b", "dup-c"]);
    const reqs = [
      request("dup-a", runId, 0, { newStatus: "completed", source: "twilio" }),
      request("dup-b", runId, 1),
      request("dup-a", runId, 2, { newStatus: "timeout", source: "age_bound" }),
      request("nope", runId, 3),
      request("dup-c", runId, 4),
      request("dup-c", runId, 5),
      request("dup-c", runId, 6),
    ];
    expect((await store.endCalls(reqs)).ended).toEqual(new Set(["dup-a", "dup-b", "dup-c"]));
    const actions = actionsOf(await readActions(db.pool, DEFAULT), runId);
    expect(countBy(actions.map((a) => a.callId))).toEqual(
      new Map([
        ["dup-a", 1],
        ["dup-b", 1],
        ["dup-c", 1],
      ]),
    );
    expect(actions.find((a) => a.callId === "dup-a")).toMatchObject({
      newStatus: "completed",
      source: "twilio",
      endedAt: reqs[0]?.endedAt,
    });
    expect(actions.find((a) => a.callId === "dup-c")).toMatchObject({ evidence: reqs[4]?.evidence });
    expect(await readCalls(db.pool, DEFAULT, ["dup-a"])).toMatchObject([
      { status: "completed", endedAt: reqs[0]?.endedAt },
    ]);
    expect(await notifiedFor(listener, runId, 3)).toHaveLength(3);
  });

  /**
   * Checks that the concurrent batches `batches` (all settled) ended each of `callIds` exactly once, and that a
   * row a batch reported locked was one another batch held (and ended): none waited for another.
   */
  async function expectEachEndedOnce(
    callIds: readonly string[],
    batches: readonly { runId: string; ended: Set<string>; locked: Set<string> }[],
  ): Promise<void> {
    const all = batches.flatMap((b) => [...b.ended]);
    for (const b of batches) {
      for (const id of b.locked) expect(batches.some((o) => o !== b && o.ended.has(id))).toBe(true);
    }
    expect(all).toHaveLength(callIds.length);
    expect(new Set(all)).toEqual(new Set(callIds));
    const runs = new Map(batches.map((b) => [b.runId, b.ended]));
    const actions = (await readActions(db.pool, DEFAULT)).filter((x) => runs.has(x.runId));
    expect(actions).toHaveLength(callIds.length);
    expect(new Set(actions.map((x) => x.callId))).toEqual(new Set(callIds));
    for (const x of actions) expect(runs.get(x.runId)?.has(x.callId)).toBe(true);
    await until(
      "a NOTIFY per ended call",
      () => listener.received.filter((n) => runs.has(n.runId)).length >= all.length,
    );
    await listener.caughtUp();
    for (const b of batches) {
      const notified = listener.received.filter((n) => n.runId === b.runId);
      expect(notified).toHaveLength(b.ended.size);
      expect(new Set(notified.map((n) => n.callId))).toEqual(b.ended);
    }
  }

  it("two batches racing on overlapping ids (in opposite orders) end each call exactly once", async () => {
    const callIds = ids("race", 1000);
    await seed(callIds);
    const runA = randomUUID();
    const runB = randomUUID();
    // A takes 0..699 forwards, B 300..999 backwards: 400 shared rows, met in opposite orders.
    const a = callIds.slice(0, 700).map((id, i) => request(id, runA, i));
    const b = callIds
      .slice(300)
      .reverse()
      .map((id, i) => request(id, runB, i));
    const [endedA, endedB] = await Promise.all([store.endCalls(a), store.endCalls(b)]);
    await expectEachEndedOnce(callIds, [
      { runId: runA, ...endedA },
      { runId: runB, ...endedB },
    ]);
  });

  it("many concurrent batches of different sizes on the same rows neither deadlock nor double-end", async () => {
    // A table big enough for index lookups: each batch then meets its rows in its own (hash) order. Before
    // SKIP LOCKED, without the target's ORDER BY, lock waits formed cycles (deadlocks within a round); now a
    // batch never waits: it skips the rows another holds, and reports them locked.
    await db.pool.query(
      `INSERT INTO calls (call_id, status, started_at)
      SELECT 'filler-' || lpad(g::text, 6, '0'), 'active', $1 FROM generate_series(1, 100000) AS g`,
      [STARTED],
    );
    await db.pool.query("ANALYZE calls");
    for (let round = 0; round < 5; round++) {
      const callIds = ids(`crowd${round}`, 300);
      await seed(callIds);
      const shuffled = (xs: readonly string[]) =>
        xs
          .map((x) => ({ x, k: Math.random() }))
          .sort((p, q) => p.k - q.k)
          .map((p) => p.x);
      const sizes = [300, 17, 33, 64, 100, 150, 299, 40, 77];
      const batches = sizes.map((n) => ({
        runId: randomUUID(),
        ids: n === 300 ? shuffled(callIds) : shuffled(callIds).slice(0, n),
      }));
      const ended = await Promise.all(
        batches.map((bt) => store.endCalls(bt.ids.map((id, i) => request(id, bt.runId, i)))),
      );
      await expectEachEndedOnce(
        callIds,
        batches.map((bt, i) => ({ runId: bt.runId, ...(ended[i] as EndBatchResult) })),
      );
    }
  });

  it("a batch that fails is rolled back as a whole: no row ended, no audit row, no NOTIFY", async () => {
    const runId = randomUUID();
    const callIds = ids("atomic", 5);
    await seed(callIds);
    const reqs = callIds.map((id, i) => request(id, runId, i, { source: "twilio" }));
    // The last request violates the audit table's CHECK on source: the statement fails as a whole.
    const bad = [
      ...reqs.slice(0, 4),
      { ...(reqs[4] as EndRequest), source: "guess" as unknown as EndSource },
    ];
    await expect(store.endCalls(bad)).rejects.toThrow(/check constraint/);
    expect(await readCalls(db.pool, DEFAULT, callIds)).toEqual(
      callIds.map((id) => ({ id, status: "active", startedAt: STARTED, endedAt: null })),
    );
    expect(actionsOf(await readActions(db.pool, DEFAULT), runId)).toEqual([]);
    await listener.caughtUp();
    expect(listener.received.filter((n) => n.runId === runId)).toEqual([]);

    // Nothing was left locked or half-done: the good batch goes through.
    expect((await store.endCalls(reqs)).ended).toEqual(new Set(callIds));
    expect(await notifiedFor(listener, runId, 5)).toHaveLength(5);
  });

  it("endCall is the batch of one", async () => {
    const runId = randomUUID();
    await seed(["single"]);
    const req = request("single", runId, 1);
    // One wins; the others find it ended, or (while the winner has not committed yet) locked.
    const results = await Promise.all([store.endCall(req), store.endCall(req), store.endCall(req)]);
    expect(results.filter((r) => r === "ended")).toHaveLength(1);
    expect(results.filter((r) => r !== "ended").every((r) => r === "not_active" || r === "locked")).toBe(
      true,
    );
    expect(actionsOf(await readActions(db.pool, DEFAULT), runId)).toHaveLength(1);
    expect(await notifiedFor(listener, runId, 1)).toHaveLength(1);
  });

  it("an empty batch sends no query at all", async () => {
    const connect = vi.spyOn(db.pool, "connect");
    const query = vi.spyOn(db.pool, "query");
    try {
      expect(await store.endCalls([])).toEqual({ ended: new Set(), locked: new Set() });
      expect(connect).not.toHaveBeenCalled();
      expect(query).not.toHaveBeenCalled();
    } finally {
      connect.mockRestore();
      query.mockRestore();
    }
  });

  // A glance, not the measurement: `npm run bench` writes 10,000 rows each way; here a fifth of that keeps the
  // comparison and its counts without seeding and ending 11,000 rows on every test run.
  it("measures batched against one-by-one ends (printed, not asserted)", async () => {
    const batchIds = ids("perf-batch", BATCHED);
    const singleIds = ids("perf-single", ONE_BY_ONE);
    await seed([...batchIds, ...singleIds]);
    await db.pool.query("ANALYZE calls");

    const runBatched = randomUUID();
    let t = performance.now();
    let endedBatched = 0;
    for (let i = 0; i < batchIds.length; i += 500) {
      const chunk = batchIds.slice(i, i + 500).map((id, j) => request(id, runBatched, i + j));
      endedBatched += (await store.endCalls(chunk)).ended.size;
    }
    const batchedMs = performance.now() - t;

    const runSingle = randomUUID();
    t = performance.now();
    let endedSingle = 0;
    for (const [i, id] of singleIds.entries()) {
      if ((await store.endCall(request(id, runSingle, i))) === "ended") endedSingle++;
    }
    const singleMs = performance.now() - t;

    expect(endedBatched).toBe(BATCHED);
    expect(endedSingle).toBe(ONE_BY_ONE);
    const rate = (n: number, ms: number) => Math.round((n / ms) * 1000);
    console.log(
      `[store-batch] batches of 500: ${BATCHED} ends in ${batchedMs.toFixed(0)} ms = ${rate(BATCHED, batchedMs)} rows/s; ` +
        `one by one: ${ONE_BY_ONE} ends in ${singleMs.toFixed(0)} ms = ${rate(ONE_BY_ONE, singleMs)} rows/s`,
    );
  });
});

describe("batched ends on other id and status types", () => {
  let db: FreshDatabase;
  let listener: Awaited<ReturnType<typeof listen>>;
  const telephony: CallsTableMapping = {
    table: "telephony.PhoneCalls",
    id: "Id",
    twilioSid: "sid",
    openaiId: "rtc",
    status: "state",
    startedAt: "began",
    endedAt: "finished",
  };
  // The daemon's state belongs to one calls table: each table verified here has a schema of its own for it.
  const uuids: CallsTableMapping = { ...DEFAULT, table: "uuid_calls", daemonSchema: "uuid_calls_state" };
  const short: CallsTableMapping = { ...DEFAULT, table: "short_calls" };

  beforeAll(async () => {
    db = await freshDatabase();
    // The app's own tables: bigint ids with an enum status and mixed-case names; uuid ids; varchar(5) ids.
    await db.pool.query(`
      CREATE SCHEMA telephony;
      CREATE TYPE telephony.call_state AS ENUM ('active', 'completed', 'timeout');
      CREATE TABLE telephony."PhoneCalls" ("Id" bigint PRIMARY KEY, sid text, rtc text,
        state telephony.call_state NOT NULL, began timestamptz NOT NULL, finished timestamptz);
      INSERT INTO telephony."PhoneCalls" (SELECT g, NULL, NULL, 'active', '2026-11-01T00:00:00Z', NULL
        FROM generate_series(1, 300) AS g);
      INSERT INTO telephony."PhoneCalls" VALUES (1000, NULL, NULL, 'completed', '2026-11-01T00:00:00Z', now());
      CREATE TABLE uuid_calls (call_id uuid PRIMARY KEY, twilio_call_sid text, openai_call_id text,
        status text NOT NULL, started_at timestamptz NOT NULL, ended_at timestamptz);
      CREATE TABLE short_calls (call_id varchar(5) PRIMARY KEY, twilio_call_sid text, openai_call_id text,
        status varchar(12) NOT NULL, started_at timestamptz NOT NULL, ended_at timestamptz);
      INSERT INTO short_calls (call_id, status, started_at) VALUES ('abcde', 'active', '2026-11-01T00:00:00Z');
    `);
    await migrate(db.pool, { withCallsTable: false, mapping: telephony });
    await migrate(db.pool, { withCallsTable: false, mapping: uuids });
    listener = await listen(db.url);
  });
  afterAll(async () => {
    await listener?.client.end().catch(() => {});
    await db?.drop();
  });

  it("bigint ids and an enum status, in a schema-qualified mixed-case table", async () => {
    // The enum lacks four of the statuses the daemon writes; three are mapped, `busy` is not.
    const statusMap = { "no-answer": "completed", canceled: "completed", failed: "completed" };
    const store = new PgCallStore(db.pool, telephony, ["active"], { statusMap });
    await expect(store.schema.verify()).rejects.toThrow(/does not accept busy, which the daemon may write/);
    const runId = randomUUID();
    const wanted = Array.from({ length: 250 }, (_, i) => String(i + 1));
    const reqs = [...wanted, "1000", "5", "99999"].map((id, i) =>
      request(id, runId, i, { newStatus: i % 2 === 0 ? "timeout" : "completed" }),
    );
    expect((await store.endCalls(reqs)).ended).toEqual(new Set(wanted));

    const rows = await readCalls(db.pool, telephony, [...wanted, "251", "1000"]);
    expect(rows).toHaveLength(252);
    for (const r of rows) {
      const n = Number(r.id);
      if (n === 251 || n === 1000) expect(r.status).toBe(n === 251 ? "active" : "completed");
      else
        expect(r).toMatchObject({
          status: n % 2 === 1 ? "timeout" : "completed",
          endedAt: reqs[n - 1]?.endedAt,
        });
    }
    const actions = actionsOf(await readActions(db.pool, telephony), runId);
    expect(actions.map((a) => a.callId).sort()).toEqual([...wanted].sort());
    expect(actions.every((a) => a.previousStatus === "active")).toBe(true);
    expect(await notifiedFor(listener, runId, 250)).toHaveLength(250);

    // A status the enum does not know fails the whole batch, before anything is written.
    await expect(store.endCalls([request("260", runId, 0, { newStatus: "busy" })])).rejects.toThrow(/enum/);
    expect(await readCalls(db.pool, telephony, ["260"])).toMatchObject([{ status: "active" }]);
  });

  it("looks the ids up through the primary key: the input is cast, never the column", async () => {
    const sql = buildStatements(telephony).endCalls({ id: "bigint", status: "telephony.call_state" });
    const client = await db.pool.connect();
    try {
      await client.query("BEGIN");
      // With sequential scans priced out, the plan says whether the primary key can serve the lookup.
      await client.query("SET LOCAL enable_seqscan = off");
      const { rows } = await client.query<{ "QUERY PLAN": string }>(`EXPLAIN (COSTS OFF) ${sql}`, [
        ["1", "2"],
        ["timeout", "timeout"],
        [new Date(), new Date()],
        ["age_bound", "age_bound"],
        ["{}", "{}"],
        ["active"],
        [randomUUID(), randomUUID()],
        [new Date(), new Date()],
        ["timeout", "timeout"],
      ]);
      const plan = rows.map((r) => r["QUERY PLAN"]).join("\n");
      // The rows to lock are found by key lookups (a cast column would leave at best a full index scan).
      const target = plan.slice(plan.indexOf("CTE target"), plan.indexOf("CTE ended"));
      expect(target).toMatch(/Index (Only )?Scan using "PhoneCalls_pkey"[^\n]*\n\s*Index Cond: \(\S*"Id" = /);
      expect(plan).not.toMatch(/Seq Scan on "PhoneCalls"/);
    } finally {
      await client.query("ROLLBACK");
      client.release();
    }
  });

  it("uuid ids", async () => {
    const store = new PgCallStore(db.pool, uuids, ["active"]);
    const callIds = Array.from({ length: 100 }, () => randomUUID());
    await db.pool.query(
      "INSERT INTO uuid_calls (call_id, status, started_at) SELECT unnest($1::uuid[]), 'active', $2",
      [callIds, STARTED],
    );
    await store.schema.verify();
    const runId = randomUUID();
    const ended = await store.endCalls(
      [...callIds, callIds[0] as string].map((id, i) => request(id, runId, i)),
    );
    expect(ended).toEqual({ ended: new Set(callIds), locked: new Set() });
    expect(await store.endCall(request(callIds[1] as string, runId, 1))).toBe("not_active");
    // Ids are compared as values of the column's type: an upper-case uuid is the same call.
    const upper = randomUUID();
    await db.pool.query("INSERT INTO uuid_calls (call_id, status, started_at) VALUES ($1, 'active', $2)", [
      upper,
      STARTED,
    ]);
    expect(await store.endCall(request(upper.toUpperCase(), runId, 1))).toBe("ended");
    expect(await store.endCall(request(randomUUID(), runId, 1))).toBe("not_active");
    expect(actionsOf(await readActions(db.pool, uuids), runId)).toHaveLength(101);
    expect(await notifiedFor(listener, runId, 101)).toHaveLength(101);
  });

  it("never truncates an over-long id into another call's id (varchar(n))", async () => {
    const store = new PgCallStore(db.pool, short, ["active"]);
    const runId = randomUUID();
    // Cast to varchar(5), 'abcdefg' would become 'abcde' and end the wrong call.
    expect(await store.endCalls([request("abcdefg", runId)])).toEqual({
      ended: new Set(),
      locked: new Set(),
    });
    expect(await readCalls(db.pool, short, ["abcde"])).toMatchObject([{ status: "active", endedAt: null }]);
    expect((await store.endCalls([request("abcde", runId)])).ended).toEqual(new Set(["abcde"]));
  });

  it("refuses a configured column whose type cannot be spliced safely", async () => {
    await db.pool.query(`CREATE TABLE array_calls (call_id int[] PRIMARY KEY, twilio_call_sid text,
      openai_call_id text, status text NOT NULL, started_at timestamptz NOT NULL, ended_at timestamptz)`);
    const arrays: CallsTableMapping = { ...DEFAULT, table: "array_calls", daemonSchema: "array_calls_state" };
    await migrate(db.pool, { withCallsTable: false, mapping: arrays });
    await expect(new PgCallStore(db.pool, arrays, ["active"]).schema.verify()).rejects.toThrow(
      SchemaMismatchError,
    );
    await expect(new PgCallStore(db.pool, arrays, ["active"]).schema.verify()).rejects.toThrow(
      /CALLS_COL_ID: the column's type "integer\[\]" is not supported/,
    );
  });
});

describe("checkedTypeName", () => {
  it.each([
    "text",
    "bigint",
    "uuid",
    "bpchar",
    "character varying",
    "timestamp with time zone",
    "telephony.call_state",
    '"Mixed Case"',
    'telephony."CallState"',
    '"my schema"."my type"',
  ])("accepts %s", (name) => {
    expect(checkedTypeName(name, "X")).toBe(name);
  });

  it.each([
    "integer[]",
    "character varying(10)",
    "numeric(20,0)",
    "text; DROP TABLE calls",
    'evil"name',
    '"a""b"',
    '"a"::text',
    "text  collate",
    "text -- comment",
    "",
    "1abc",
  ])("refuses %s", (name) => {
    expect(() => checkedTypeName(name, "X")).toThrow(/^X: /);
  });
});
