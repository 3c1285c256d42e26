/**
 * The PostgreSQL nudge relay on a real server: NOTIFY from one Database instance to a LISTEN session of
 * another, cut under NOTIFY's payload limit, on a channel of the binding's own, and a listener that outlives
 * its connection and ignores what it cannot read.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.js";
import { openPostgres, type PgDatabase } from "../../src/db/database.js";
import { migrate } from "../../src/db/migrate.js";
import { encodeNudges, NOTIFY_PAYLOAD_LIMIT } from "../../src/db/nudge-payload.js";
import { nudgeChannel } from "../../src/db/sql/nudges.js";
import { type CallNudge, NudgeNotRelayedError } from "../../src/model/index.js";
import { type FreshDatabase, freshDatabase } from "../helpers/db.js";
import { until } from "../helpers/wait.js";

const sid = (n: number) => `CA${String(n).padStart(32, "0")}`;
const nudge = (n: number, over: Partial<CallNudge> = {}): CallNudge => ({
  eventId: `event-${n}`,
  callSid: sid(n),
  accountSid: `AC${"a".repeat(32)}`,
  callStatus: "completed",
  eventAt: new Date(Date.UTC(2026, 11, 6, 9, 0, n, 250)),
  appResponseCode: n % 2 === 0 ? 502 : null,
  ...over,
});

/** What one listener heard: the batches, in order, and its troubles. */
interface Heard {
  batches: CallNudge[][];
  troubles: Error[];
  all(): CallNudge[];
  close(): Promise<void>;
}

/** Every listener a test opened: closed after it, whatever became of the test. */
const listening: Heard[] = [];

async function listenOn(database: PgDatabase): Promise<Heard> {
  const relay = database.nudgeRelay();
  const batches: CallNudge[][] = [];
  const troubles: Error[] = [];
  const listener = await relay.listen((n) => batches.push(n), { onTrouble: (err) => troubles.push(err) });
  const heard = { batches, troubles, all: () => batches.flat(), close: () => listener.close() };
  listening.push(heard);
  return heard;
}

describe("the nudge relay over NOTIFY (real PostgreSQL)", () => {
  let db: FreshDatabase;
  const opened: PgDatabase[] = [];
  const open = (env: Record<string, string> = {}) => {
    const database = openPostgres(loadConfig({ DATABASE_URL: db.url, ...env }), db.url);
    opened.push(database);
    return database;
  };
  const CHANNEL = nudgeChannel("public", { schema: "public", name: "calls" });
  /** The backend pids of the sessions listening on `channel` now. */
  const listeners = async (channel: string): Promise<number[]> => {
    const { rows } = await db.pool.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle' AND query = $1
       ORDER BY pid`,
      [`LISTEN "${channel}"`],
    );
    return rows.map((r) => r.pid);
  };

  beforeAll(async () => {
    db = await freshDatabase();
    const mapping = loadConfig({}).calls;
    await migrate(db.pool, { withCallsTable: true, mapping });
  });
  afterEach(async () => {
    await Promise.all(listening.splice(0).map((h) => h.close()));
  });
  afterAll(async () => {
    await Promise.all(opened.map((d) => d.close()));
    await db.drop();
  });

  it("names the channel after the binding: RECONCILER_SCHEMA and the calls table as resolved", () => {
    expect(CHANNEL).toMatch(/^call_reconciler_nudges_[0-9a-f]{16}$/);
    expect(nudgeChannel("public", { schema: "public", name: "calls_b" })).not.toBe(CHANNEL);
    expect(nudgeChannel("state_b", { schema: "public", name: "calls" })).not.toBe(CHANNEL);
  });

  it("a publish by one Database reaches a listener of another, exactly as sent", async () => {
    const heard = await listenOn(open());
    expect(await listeners(CHANNEL)).toHaveLength(1);
    const sent = [nudge(1), nudge(2), nudge(3, { accountSid: null, callStatus: "no-answer" })];
    await open().nudgeRelay().publish(sent);
    await until("the nudges to arrive", () => heard.all().length >= 3);
    expect(heard.batches).toEqual([sent]);
    expect(heard.troubles).toEqual([]);
  });

  it(`cuts a batch of more than ${NOTIFY_PAYLOAD_LIMIT} bytes into payloads NOTIFY takes, all delivered in order`, async () => {
    const heard = await listenOn(open());
    // About 500 bytes each, some of it beyond ASCII: 40 of them are some 20 kB.
    const sent = Array.from({ length: 40 }, (_, i) =>
      nudge(100 + i, { eventId: `é-${i}-${"x".repeat(400)}` }),
    );
    await open().nudgeRelay().publish(sent);
    await until("every nudge to arrive", () => heard.all().length >= sent.length);
    expect(heard.all()).toEqual(sent);
    expect(heard.batches.length).toBeGreaterThan(1);
  });

  it("publishes what fits and says which nudge it could not carry", async () => {
    const heard = await listenOn(open());
    const huge = nudge(200, { eventId: "y".repeat(NOTIFY_PAYLOAD_LIMIT) });
    const err = await open()
      .nudgeRelay()
      .publish([nudge(201), huge, nudge(202)])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NudgeNotRelayedError);
    expect((err as NudgeNotRelayedError).dropped).toEqual([huge]);
    await until("the others to arrive", () => heard.all().length >= 2);
    expect(heard.all()).toEqual([nudge(201), nudge(202)]);
  });

  it("carries a nudge whose payload is 7999 bytes, NOTIFY's largest, and sets aside one a byte larger", async () => {
    const heard = await listenOn(open());
    const base = encodeNudges([nudge(250, { eventId: "" })]).payloads[0] as string;
    const largest = nudge(250, { eventId: "z".repeat(NOTIFY_PAYLOAD_LIMIT - 1 - base.length) });
    expect(encodeNudges([largest]).payloads[0]).toHaveLength(NOTIFY_PAYLOAD_LIMIT - 1);
    const tooLarge = { ...largest, eventId: `${largest.eventId}z` };
    const err = await open()
      .nudgeRelay()
      .publish([tooLarge, largest])
      .catch((e: unknown) => e);
    expect((err as NudgeNotRelayedError).dropped).toEqual([tooLarge]);
    await until("the largest to arrive", () => heard.all().length >= 1);
    expect(heard.batches).toEqual([[largest]]);
  });

  it("ignores a message on its channel it cannot read, and goes on listening", async () => {
    const heard = await listenOn(open());
    for (const payload of [
      "not json",
      '{"v":1,"nudges":[{"eventId":1}]}',
      '{"v":2,"nudges":[]}',
      `{"v":1,"nudges":[${JSON.stringify({ ...nudge(300), eventAt: "yesterday" })}]}`,
    ])
      await db.pool.query("SELECT pg_notify($1, $2)", [CHANNEL, payload]);
    // Delivered after the four (one listener hears transactions in commit order): they were heard and dropped.
    await open()
      .nudgeRelay()
      .publish([nudge(301)]);
    await until("the valid nudge to arrive", () => heard.all().length >= 1);
    expect(heard.batches).toEqual([[nudge(301)]]);
    expect(heard.troubles.map((e) => e.message)).toEqual([
      expect.stringMatching(/ignored: a nudge payload that is not JSON/),
      expect.stringMatching(/ignored: nudge 0 of a payload is malformed/),
      expect.stringMatching(/ignored: a nudge payload of an unknown form/),
      expect.stringMatching(/ignored: nudge 0 of a payload is malformed/),
    ]);
  });

  it("a listener whose session is terminated listens again on a new one and hears later publishes", async () => {
    const heard = await listenOn(open());
    const [before] = await listeners(CHANNEL);
    expect(before).toBeDefined();
    await db.pool.query("SELECT pg_terminate_backend($1)", [before]);
    const after = await until("a new session to listen", async () => {
      const now = await listeners(CHANNEL);
      return now.length === 1 && now[0] !== before ? now[0] : undefined;
    });
    expect(after).not.toBe(before);
    expect(heard.troubles[0]?.message).toMatch(/the nudge listener lost its connection; opening another: /);
    await open()
      .nudgeRelay()
      .publish([nudge(400)]);
    await until("the nudge to arrive", () => heard.all().length >= 1);
    expect(heard.batches).toEqual([[nudge(400)]]);
  });

  it("two bindings in one database never hear each other", async () => {
    const other = { CALLS_TABLE: "calls_b", RECONCILER_SCHEMA: "state_b" };
    await migrate(db.pool, { withCallsTable: true, mapping: loadConfig(other).calls });
    const otherChannel = nudgeChannel("state_b", { schema: "public", name: "calls_b" });
    const mine = await listenOn(open());
    const theirs = await listenOn(open(other));
    expect(await listeners(otherChannel)).toHaveLength(1);
    await open()
      .nudgeRelay()
      .publish([nudge(500)]);
    await open(other)
      .nudgeRelay()
      .publish([nudge(501)]);
    // `theirs` hears transactions in commit order: had it heard the first publish, it would have come first.
    await until("each binding's nudge to arrive", () => mine.all().length >= 1 && theirs.all().length >= 1);
    expect(mine.batches).toEqual([[nudge(500)]]);
    expect(theirs.batches).toEqual([[nudge(501)]]);
    await open()
      .nudgeRelay()
      .publish([nudge(502)]);
    await until("the next nudge to arrive", () => mine.all().length >= 2);
    expect(theirs.batches).toEqual([[nudge(501)]]);
  });

  it("close() ends the listener's session and its delivery; the Database's close ends its listeners", async () => {
    const closing = await listenOn(open());
    const [pid] = await listeners(CHANNEL);
    const staying = await listenOn(open());
    await closing.close();
    await until(
      "the closed listener's session to end",
      async () => !(await listeners(CHANNEL)).includes(pid as number),
    );
    await open()
      .nudgeRelay()
      .publish([nudge(600)]);
    await until("the open listener to hear it", () => staying.all().length >= 1);
    expect(closing.batches).toEqual([]);
    expect(staying.batches).toEqual([[nudge(600)]]);

    const database = open();
    await listenOn(database);
    const withIt = await listeners(CHANNEL);
    expect(withIt).toHaveLength(2);
    opened.splice(opened.indexOf(database), 1);
    await database.close();
    await until("the database's listener to end", async () => (await listeners(CHANNEL)).length === 1);
  });
});
