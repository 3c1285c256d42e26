import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CallsTableMapping, loadConfig } from "../../src/config/config.js";
import { migrate } from "../../src/db/migrate.js";
import { statusValueProblems } from "../../src/db/status-values.js";
import { PgCallStore, SchemaMismatchError } from "../../src/db/store.js";
import { readActions, readCalls } from "../../src/dev/seed.js";
import { type EndRequest, RowRefusedError } from "../../src/model/index.js";
import { type FreshDatabase, freshDatabase } from "../helpers/db.js";
import { withOwnState } from "../helpers/own-state.js";

const DEFAULT = loadConfig({}).calls;
const STARTED = new Date("2026-11-01T00:00:00Z");
const ALL_BUT_NO_ANSWER = "'active', 'completed', 'busy', 'canceled', 'failed', 'timeout'";

function request(id: string, newStatus: string, runId = randomUUID()): EndRequest {
  return {
    call: {
      id,
      twilioSid: `CA${id}`,
      twilioAccount: null,
      openaiId: null,
      status: "active",
      startedAt: STARTED,
    },
    newStatus,
    endedAt: new Date("2026-11-01T00:04:00.250Z"),
    durationSeconds: 240.25,
    source: "twilio",
    runId,
    evidence: { twilio: { kind: "ended", status: newStatus } },
    decidedAt: new Date("2026-11-01T01:00:00Z"),
  };
}

/** A calls table named `table` whose status column is declared as `statusDecl`, with one active row `id`. */
async function appTable(db: FreshDatabase, table: string, statusDecl: string, id = `${table}-1`) {
  await db.pool.query(`CREATE TABLE ${table} (call_id text PRIMARY KEY, twilio_call_sid text, openai_call_id text,
    status ${statusDecl}, started_at timestamptz NOT NULL, ended_at timestamptz)`);
  await db.pool.query(`INSERT INTO ${table} (call_id, status, started_at) VALUES ($1, 'active', $2)`, [
    id,
    STARTED,
  ]);
  return withOwnState(db.pool, { ...DEFAULT, table } satisfies CallsTableMapping);
}

const storeFor = (db: FreshDatabase, m: CallsTableMapping, env: Record<string, string> = {}) =>
  new PgCallStore(db.pool, m, ["active"], { statusMap: loadConfig(env).statusMap });

describe("statuses the app's table accepts (STATUS_MAP, checked at start-up)", () => {
  let db: FreshDatabase;
  beforeAll(async () => {
    db = await freshDatabase();
    await migrate(db.pool, { withCallsTable: false, mapping: DEFAULT });
    await db.pool.query(`CREATE TYPE call_state AS ENUM (${ALL_BUT_NO_ANSWER})`);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it("an enum without no-answer: start-up fails with one line naming it and STATUS_MAP; mapped, the end writes the app's value", async () => {
    const m = await appTable(db, "enum_calls", "call_state NOT NULL", "e1");
    const err = await storeFor(db, m)
      .schema.verify()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SchemaMismatchError);
    const message = (err as Error).message;
    expect(message).toMatch(
      /^the status column enum_calls\.status \(enum call_state\) does not accept no-answer,/,
    );
    expect(message).toContain("STATUS_MAP=no-answer:");
    expect(message).not.toContain("\n");

    // Mapped to a value the enum lacks too: named with its mapping.
    await expect(storeFor(db, m, { STATUS_MAP: "no-answer:missed" }).schema.verify()).rejects.toThrow(
      /does not accept missed \(STATUS_MAP no-answer:missed\)/,
    );

    await db.pool.query("ALTER TYPE call_state ADD VALUE 'missed'");
    const store = storeFor(db, m, { STATUS_MAP: "no-answer:missed" });
    expect(await store.schema.verify()).toEqual({ checked: "enum", unreadableChecks: [] });
    const req = request("e1", "no-answer");
    expect(await store.endCalls([req])).toEqual({ ended: new Set(["e1"]), locked: new Set() });
    expect(await readCalls(db.pool, m, ["e1"])).toEqual([
      { id: "e1", status: "missed", startedAt: STARTED, endedAt: req.endedAt },
    ]);
    const actions = (await readActions(db.pool, m)).filter((a) => a.runId === req.runId);
    expect(actions).toEqual([
      expect.objectContaining({
        callId: "e1",
        previousStatus: "active",
        newStatus: "missed",
        providerStatus: "no-answer",
        outcome: "ended",
        endedAt: req.endedAt,
      }),
    ]);
  });

  it("an active status the enum lacks is named with ACTIVE_STATUSES", async () => {
    const m = await appTable(db, "enum_calls2", "call_state NOT NULL");
    const store = new PgCallStore(db.pool, m, ["active", "ringing"], {
      statusMap: { "no-answer": "missed" },
    });
    await expect(store.schema.verify()).rejects.toThrow(
      /^ACTIVE_STATUSES names ringing, which the status column enum_calls2\.status \(enum call_state\) lacks$/,
    );
  });

  it.each([
    ["text IN (...)", `text NOT NULL CHECK (status IN (${ALL_BUT_NO_ANSWER}))`],
    ["varchar IN (...)", `varchar(20) NOT NULL CHECK (status IN (${ALL_BUT_NO_ANSWER}))`],
    ["= ANY (ARRAY[...])", `text NOT NULL CHECK (status = ANY (ARRAY[${ALL_BUT_NO_ANSWER}]))`],
    [
      "OR of equalities",
      `text CHECK (status = 'active' OR status = 'completed' OR status IN ('busy', 'failed', 'canceled', 'timeout'))`,
    ],
    ["IN (...) AND another rule", `text CHECK (status IN (${ALL_BUT_NO_ANSWER}) AND length(status) < 20)`],
  ])("a CHECK constraint (%s) is read: start-up names what it lacks", async (_, decl) => {
    const m = await appTable(db, `chk_${randomUUID().slice(0, 8)}`, decl);
    await expect(storeFor(db, m).schema.verify()).rejects.toThrow(
      /CHECK constraint \S+\) does not accept no-answer,/,
    );
    expect(await storeFor(db, m, { STATUS_MAP: "no-answer:completed" }).schema.verify()).toEqual({
      checked: "check",
      unreadableChecks: [],
    });
  });

  it("a domain's CHECK is read too", async () => {
    await db.pool.query(`CREATE DOMAIN call_status AS text CHECK (VALUE IN (${ALL_BUT_NO_ANSWER}))`);
    const m = await appTable(db, "domain_calls", "call_status NOT NULL");
    await expect(storeFor(db, m).schema.verify()).rejects.toThrow(
      /CHECK constraint call_status_check\) does not accept no-answer/,
    );
    await storeFor(db, m, { STATUS_MAP: "no-answer:canceled" }).schema.verify();
  });

  it("a CHECK of any form is PostgreSQL's to evaluate: start-up names what it refuses", async () => {
    const m = await appTable(db, "odd_calls", "text NOT NULL CONSTRAINT no_busy CHECK (status <> 'busy')");
    await expect(storeFor(db, m).schema.verify()).rejects.toThrow(
      /^the status column odd_calls\.status \(CHECK constraint no_busy\) does not accept busy, .*STATUS_MAP=busy:<value>/,
    );
    expect(await storeFor(db, m, { STATUS_MAP: "busy:failed" }).schema.verify()).toEqual({
      checked: "check",
      unreadableChecks: [],
    });
  });

  it("an enum with a CHECK: each names what it refuses, and a value the enum lacks is not cast for the CHECK", async () => {
    const m = await appTable(
      db,
      "enum_checked",
      "call_state NOT NULL CONSTRAINT no_busy CHECK (status <> 'busy')",
    );
    const { report, problems } = await statusValueProblems(db.pool, m, {}, ["active"]);
    expect(report).toEqual({ checked: "enum", unreadableChecks: [] });
    expect(problems).toEqual([
      expect.stringMatching(
        /^the status column enum_checked\.status \(enum call_state\) does not accept no-answer,/,
      ),
      expect.stringMatching(
        /^the status column enum_checked\.status \(CHECK constraint no_busy\) does not accept busy,/,
      ),
    ]);
  });

  it("a CHECK that also reads another column is not evaluated: start-up goes on and names it", async () => {
    const m = await appTable(
      db,
      "paired_calls",
      "text NOT NULL, CONSTRAINT ends_paired CHECK ((status = 'active') = (ended_at IS NULL))",
    );
    expect(await storeFor(db, m).schema.verify()).toEqual({
      checked: "none",
      unreadableChecks: ["ends_paired (it also reads ended_at)"],
    });
  });
});

describe("a refused end is recorded once", () => {
  let db: FreshDatabase;
  let m: CallsTableMapping;
  beforeAll(async () => {
    db = await freshDatabase();
    await migrate(db.pool, { withCallsTable: false, mapping: DEFAULT });
    m = await appTable(
      db,
      "refusing",
      "text NOT NULL CONSTRAINT app_statuses CHECK (status <> 'busy')",
      "r1",
    );
  });
  afterAll(async () => {
    await db?.drop();
  });

  it("records the refusal with its proposal and the database's message, once per call and status", async () => {
    const store = storeFor(db, m);
    const req = request("r1", "busy");
    const err = await store.endCall(req).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RowRefusedError);
    expect(await store.refusedBefore([req])).toEqual(new Set());

    expect(await store.recordRefusal(req, (err as Error).message)).toBe(true);
    // Known: a later pass (another run) records nothing more.
    expect(await store.recordRefusal({ ...req, runId: randomUUID() }, "again")).toBe(false);
    expect(await store.refusedBefore([req, request("other", "busy"), request("r1", "completed")])).toEqual(
      new Set(["r1"]),
    );

    const actions = await readActions(db.pool, m);
    expect(actions).toEqual([
      {
        id: expect.any(String),
        runId: req.runId,
        callId: "r1",
        previousStatus: "active",
        newStatus: "busy",
        providerStatus: "busy",
        endedAt: req.endedAt,
        source: "twilio",
        evidence: req.evidence,
        decidedAt: req.decidedAt,
        outcome: "refused",
        detail: expect.stringContaining("app_statuses"),
      },
    ]);
    expect(await readCalls(db.pool, m, ["r1"])).toMatchObject([{ status: "active", endedAt: null }]);

    // Another status (here through STATUS_MAP) is another refusal; once it is accepted, the call ends.
    const mapped = storeFor(db, m, { STATUS_MAP: "busy:engaged" });
    expect(await mapped.refusedBefore([req])).toEqual(new Set());
    expect(await mapped.recordRefusal(req, "refused as engaged")).toBe(true);
    expect(await mapped.endCall(req)).toBe("ended");
    const after = await readActions(db.pool, m);
    expect(after.map((a) => [a.outcome, a.newStatus, a.providerStatus])).toEqual([
      ["refused", "busy", "busy"],
      ["refused", "engaged", "busy"],
      ["ended", "engaged", "busy"],
    ]);
  });
});
