/**
 * `events setup` and `events teardown` as an operator runs them: the built CLI against the Twilio simulator's
 * events v1 API, and doctor's Event Streams lines before and after (real PostgreSQL for doctor's own checks).
 * Each test has a simulator of its own, so what it holds is only what the commands made.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.js";
import { migrate } from "../../src/db/migrate.js";
import { CALL_COMPLETED_TYPE, startTwilioSimulator, type TwilioSimulator } from "../../src/sim/twilio-sim.js";
import { runCli } from "../helpers/cli.js";
import { type FreshDatabase, freshDatabase } from "../helpers/db.js";

const ACCOUNT = `AC${"e".repeat(32)}`;
const TOKEN = "events-cli-token";

let db: FreshDatabase;
let sim: TwilioSimulator | undefined;

beforeAll(async () => {
  db = await freshDatabase();
  const config = loadConfig({ DATABASE_URL: db.url });
  await migrate(db.pool, { withCallsTable: true, mapping: config.calls });
});
afterAll(async () => {
  await db.drop();
});
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function simulator(requireSinkValidation = false): Promise<TwilioSimulator> {
  sim = await startTwilioSimulator({ accountSid: ACCOUNT, authToken: TOKEN, requireSinkValidation });
  return sim;
}

/** Port 9 (discard) on loopback: a destination the simulator never delivers to in these tests. */
const SINK_URL = "http://127.0.0.1:9/twilio/events";

const envFor = (s: TwilioSimulator, extra: Record<string, string> = {}) => ({
  DATABASE_URL: db.url,
  TWILIO_ACCOUNT_SID: ACCOUNT,
  TWILIO_AUTH_TOKEN: TOKEN,
  TWILIO_API_BASE_URL: s.url,
  OPENAI_PROBE: "off",
  ...extra,
});

const events = (s: TwilioSimulator, action: string, extra: string[] = [], env: Record<string, string> = {}) =>
  runCli(["events", action, "--url", SINK_URL, ...extra], envFor(s, env));

// biome-ignore lint/suspicious/noExplicitAny: the tests read Twilio's JSON as the simulator answers it.
type Json = any;

/** What the account holds, read through the simulator's API as Twilio would answer it. */
async function read(s: TwilioSimulator, path: string): Promise<Json> {
  const res = await fetch(`${s.url}${path}`, {
    headers: { authorization: `Basic ${Buffer.from(`${ACCOUNT}:${TOKEN}`).toString("base64")}` },
  });
  expect(res.status, path).toBe(200);
  return res.json();
}

/** The webhook sinks at SINK_URL, each with its subscriptions and their types. */
async function held(s: TwilioSimulator) {
  const { sinks } = await read(s, "/v1/Sinks?PageSize=1000");
  const atUrl = (sinks as Json[]).filter((k) => k.sink_configuration.destination === SINK_URL);
  return Promise.all(
    atUrl.map(async (k) => {
      const { subscriptions } = await read(s, `/v1/Subscriptions?SinkSid=${k.sid}&PageSize=1000`);
      return {
        sid: k.sid as string,
        description: k.description as string,
        status: k.status as string,
        subscriptions: await Promise.all(
          (subscriptions as Json[]).map(async (sub) => ({
            sid: sub.sid as string,
            description: sub.description as string,
            types: ((await read(s, `/v1/Subscriptions/${sub.sid}/SubscribedEvents`)).types as Json[]).map(
              (t) => [t.type, t.schema_version],
            ),
          })),
        ),
      };
    }),
  );
}

/** The newest version of the call-end type's schema, as the catalogue tells any client. */
async function newestSchemaVersion(s: TwilioSimulator): Promise<number> {
  const type = await read(s, `/v1/Types/${CALL_COMPLETED_TYPE}`);
  const { schema_versions } = await read(s, `/v1/Schemas/${type.schema_id}/Versions`);
  return Math.max(...(schema_versions as Json[]).map((v) => v.schema_version as number));
}

const requests = (s: TwilioSimulator) =>
  s.eventStats.apiRequests.map((r) => `${r.method} ${r.path} ${r.status}`);

/** Runs the command again: it exits 0 and prints `stdout`, and only reads the account (it was already so). */
async function againReadingOnly(s: TwilioSimulator, action: string, stdout: string): Promise<void> {
  s.resetStats();
  const again = await events(s, action);
  expect(again.code).toBe(0);
  expect(again.stdout).toBe(stdout);
  expect(s.eventStats.apiRequests.every((r) => r.method === "GET")).toBe(true);
}

/** The command's answer with --json, once it exited 0. */
async function jsonAnswer(s: TwilioSimulator, action: string): Promise<Json> {
  const r = await events(s, action, ["--json"]);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
}

/** A --json answer about the one account at SINK_URL. */
const theAccount = (answer: Record<string, unknown>) => ({
  url: SINK_URL,
  accounts: [{ account: ACCOUNT, ...answer }],
});

describe("call-reconciler events setup / teardown against the Twilio simulator", () => {
  it("setup makes one sink and one subscription, with the requests the Events API describes; a second run changes nothing", async () => {
    const s = await simulator();
    const first = await events(s, "setup");
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    const version = await newestSchemaVersion(s);
    expect(first.stdout).toMatch(
      new RegExp(
        `^${ACCOUNT}: created sink (DG[0-9a-f]{32}) posts to ${SINK_URL}, active; subscribed it \\((DF[0-9a-f]{32})\\) to ${CALL_COMPLETED_TYPE.replaceAll(".", "\\.")} \\(schema ${version}\\)\\n$`,
      ),
    );

    const [sink] = await held(s);
    expect(await held(s)).toEqual([
      {
        sid: expect.stringMatching(/^DG/),
        description: expect.stringMatching(/^call-reconciler/),
        status: "active",
        subscriptions: [
          {
            sid: expect.stringMatching(/^DF/),
            description: expect.stringMatching(/^call-reconciler/),
            types: [[CALL_COMPLETED_TYPE, version]],
          },
        ],
      },
    ]);
    expect(first.stdout).toContain(sink?.sid);
    expect(first.stdout).toContain(sink?.subscriptions[0]?.sid);

    // What the command sent, request by request (the reads of `held` and the catalogue came after).
    const sent = s.eventStats.apiRequests.slice(0, 5);
    expect(sent.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      "GET /v1/Sinks 200",
      "POST /v1/Sinks 201",
      `GET /v1/Types/${CALL_COMPLETED_TYPE} 200`,
      "GET /v1/Schemas/Voice.WebhookEvent/Versions 200",
      "POST /v1/Subscriptions 201",
    ]);
    expect(sent.every((r) => r.accountSid === ACCOUNT)).toBe(true);
    const [, createSink, , , createSub] = sent;
    expect(Object.keys(createSink?.form ?? {}).sort()).toEqual([
      "Description",
      "SinkConfiguration",
      "SinkType",
    ]);
    expect(createSink?.form.SinkType).toEqual(["webhook"]);
    expect(createSink?.form.Description).toEqual([sink?.description]);
    expect(JSON.parse(createSink?.form.SinkConfiguration?.[0] ?? "")).toEqual({
      destination: SINK_URL,
      method: "POST",
    });
    expect(Object.keys(createSub?.form ?? {}).sort()).toEqual(["Description", "SinkSid", "Types"]);
    expect(createSub?.form.SinkSid).toEqual([sink?.sid]);
    expect(createSub?.form.Description).toEqual([sink?.subscriptions[0]?.description]);
    expect(createSub?.form.Types?.map((t) => JSON.parse(t))).toEqual([
      { type: CALL_COMPLETED_TYPE, schema_version: version },
    ]);

    await againReadingOnly(
      s,
      "setup",
      `${ACCOUNT}: already: sink ${sink?.sid} posts to ${SINK_URL}, active; already subscribed (${sink?.subscriptions[0]?.sid}) to ${CALL_COMPLETED_TYPE}\n`,
    );
    expect((await held(s)).map((k) => k.sid)).toEqual([sink?.sid]);

    expect(await jsonAnswer(s, "setup")).toEqual(
      theAccount({
        kind: "set_up",
        sink: expect.objectContaining({ sid: sink?.sid, status: "active", ours: true, created: false }),
        subscription: {
          sid: sink?.subscriptions[0]?.sid,
          created: false,
          added: [],
          types: [{ type: CALL_COMPLETED_TYPE, schemaVersion: version }],
        },
      }),
    );
  });

  it("doctor passes the Event Streams lines after setup, and warns that no sink posts to the URL after teardown", async () => {
    const s = await simulator();
    const doctor = () => runCli(["doctor"], envFor(s, { EVENTS_URL: SINK_URL }));
    expect((await events(s, "setup")).code).toBe(0);
    const [sink] = await held(s);

    const before = await doctor();
    expect(before.stderr).toBe("");
    expect(before.stdout).toMatch(new RegExp(`^✓ event sink +sink ${sink?.sid} posts to ${SINK_URL}$`, "m"));
    expect(before.stdout).toMatch(new RegExp(`^✓ event sink status +sink ${sink?.sid} is active$`, "m"));
    expect(before.stdout).toMatch(
      new RegExp(`^✓ event subscription +sink ${sink?.sid} is subscribed to ${CALL_COMPLETED_TYPE}$`, "m"),
    );

    expect((await events(s, "teardown")).code).toBe(0);
    const after = await doctor();
    expect(after.stdout).toMatch(
      new RegExp(
        `^! event sink +no Event Streams sink of ${ACCOUNT} posts to ${SINK_URL}: call-reconciler events setup$`,
        "m",
      ),
    );
    expect(after.stdout).not.toMatch(/event sink status|event subscription/);
  });

  it("a sink Twilio has not validated yet: setup exits 1, saying it is not active, and subscribes nothing", async () => {
    const s = await simulator(true);
    const r = await events(s, "setup");
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      new RegExp(
        `^${ACCOUNT}: created sink DG[0-9a-f]{32} posts to ${SINK_URL}, initialized; not subscribed: Twilio subscribes only an active sink; run setup again once it is active\\n$`,
      ),
    );
    expect(await held(s)).toEqual([expect.objectContaining({ status: "initialized", subscriptions: [] })]);
    expect(requests(s)).not.toContain("POST /v1/Subscriptions 201");
  });

  it("teardown removes what setup made, then finds nothing; a sink someone else made at the URL is left", async () => {
    const s = await simulator();
    expect((await events(s, "setup")).code).toBe(0);
    const [ours] = await held(s);
    const foreign = s.addEventSink({ url: SINK_URL, description: "the app's own sink" });
    expect((await held(s)).map((k) => k.sid).sort()).toEqual([ours?.sid, foreign.sinkSid].sort());

    const first = await events(s, "teardown");
    expect(first.code).toBe(0);
    expect(first.stdout).toBe(
      `${ACCOUNT}: removed subscription ${ours?.subscriptions[0]?.sid}, removed sink ${ours?.sid}; left 1 sink(s) at the URL that call-reconciler did not make (${foreign.sinkSid})\n`,
    );
    const left = await held(s);
    expect(left).toEqual([
      {
        sid: foreign.sinkSid,
        description: "the app's own sink",
        status: "active",
        subscriptions: [expect.objectContaining({ sid: foreign.subscriptionSid })],
      },
    ]);

    await againReadingOnly(
      s,
      "teardown",
      `${ACCOUNT}: already: no sink or subscription of call-reconciler at ${SINK_URL}; left 1 sink(s) at the URL that call-reconciler did not make (${foreign.sinkSid})\n`,
    );
    expect(await held(s)).toEqual(left);

    expect(await jsonAnswer(s, "teardown")).toEqual(
      theAccount({
        kind: "torn_down",
        removedSubscriptions: [],
        removedSinks: [],
        keptSinks: [],
        foreignSinks: [foreign.sinkSid],
      }),
    );
  });

  it("teardown with nothing at the URL says so and exits 0", async () => {
    const s = await simulator();
    const r = await events(s, "teardown");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${ACCOUNT}: already: no sink or subscription of call-reconciler at ${SINK_URL}\n`);
  });

  it.each(["setup", "teardown"])(
    "a wrong Auth Token: %s exits 2 in one line and changes nothing",
    async (action) => {
      const s = await simulator();
      const r = await events(s, action, [], { TWILIO_AUTH_TOKEN: "not-the-token" });
      expect(r.code).toBe(2);
      const lines = `${r.stdout}${r.stderr}`.trim().split("\n");
      expect(lines).toEqual([
        expect.stringMatching(
          new RegExp(
            `^${ACCOUNT}: Event Streams ${action} failed: .*: check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN`,
          ),
        ),
      ]);
      expect(s.eventStats.apiRequests).toEqual([]);
      expect(await held(s)).toEqual([]);
    },
  );
});
