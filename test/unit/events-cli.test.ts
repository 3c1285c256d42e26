/**
 * `events setup` and `events teardown` as the operator reads them: one line per account saying what was
 * created or found ("already"), the same as JSON, the exit code, and the URL rule. Twilio's Events API is
 * nock, answering as its OpenAPI description (twilio_events_v1.json) documents.
 */
import { PassThrough } from "node:stream";
import nock from "nock";
import { describe, expect, it } from "vitest";
import { runEventsSetup, runEventsTeardown } from "../../src/cli/events.js";
import { eventsUrl } from "../../src/cli/events-url.js";
import { loadConfig } from "../../src/config/config.js";
import {
  ACCOUNT,
  COMPLETED,
  EVENTS_URL,
  listMeta,
  nockOnly,
  SINK,
  SUB,
  sinkJson,
  subscriptionJson,
  TWILIO_BASE,
  twilioConfig,
} from "../helpers/twilio-nock.js";

/**
 * A small account on nock: its sinks and subscriptions change as the requests ask, so that a second run
 * meets what the first one made.
 */
function account(start: { sink?: Record<string, unknown>; subscribed?: boolean } = {}) {
  let sinks = start.sink ? [sinkJson(start.sink)] : [];
  let subs = start.subscribed ? [subscriptionJson] : [];
  const posts: string[] = [];
  nock(TWILIO_BASE)
    .persist()
    .get("/v1/Sinks")
    .query(true)
    .reply(() => [200, { sinks, meta: listMeta("sinks") }])
    .post("/v1/Sinks")
    .reply(() => {
      posts.push("sink");
      sinks = [sinkJson()];
      return [201, sinks[0]];
    })
    .get("/v1/Subscriptions")
    .query(true)
    .reply(() => [200, { subscriptions: subs, meta: listMeta("subscriptions") }])
    .get(`/v1/Subscriptions/${SUB}/SubscribedEvents`)
    .query(true)
    .reply(200, {
      types: [{ type: COMPLETED, schema_version: 2, subscription_sid: SUB, account_sid: ACCOUNT }],
      meta: listMeta("types"),
    })
    .get(`/v1/Types/${COMPLETED}`)
    .reply(200, { type: COMPLETED, schema_id: "Voice.StatusCallback", status: "available" })
    .get("/v1/Schemas/Voice.StatusCallback/Versions")
    .query(true)
    .reply(200, {
      schema_versions: [{ id: "Voice.StatusCallback", schema_version: 2 }],
      meta: listMeta("schema_versions"),
    })
    .post("/v1/Subscriptions")
    .reply(() => {
      posts.push("subscription");
      subs = [subscriptionJson];
      return [201, subscriptionJson];
    })
    .delete(`/v1/Subscriptions/${SUB}`)
    .reply(() => {
      posts.push("delete subscription");
      subs = [];
      return [204, ""];
    })
    .delete(`/v1/Sinks/${SINK}`)
    .reply(() => {
      posts.push("delete sink");
      sinks = [];
      return [204, ""];
    });
  return posts;
}

async function run(
  fn: typeof runEventsSetup,
  json = false,
  cfg = twilioConfig(),
): Promise<{ code: number; out: string }> {
  const out = new PassThrough();
  let text = "";
  out.on("data", (d: Buffer) => {
    text += d.toString();
  });
  const code = await fn(cfg, { url: EVENTS_URL, json, out, keepAlive: false });
  return { code, out: text };
}

nockOnly();

describe("events setup", () => {
  it("creates the sink and the subscription once; the second run says already and creates nothing", async () => {
    const posts = account();
    const first = await run(runEventsSetup);
    expect(first.code).toBe(0);
    expect(first.out).toBe(
      `${ACCOUNT}: created sink ${SINK} posts to ${EVENTS_URL}, active; subscribed it (${SUB}) to ${COMPLETED} (schema 2)\n`,
    );
    expect(posts).toEqual(["sink", "subscription"]);

    const second = await run(runEventsSetup);
    expect(second.code).toBe(0);
    expect(second.out).toBe(
      `${ACCOUNT}: already: sink ${SINK} posts to ${EVENTS_URL}, active; already subscribed (${SUB}) to ${COMPLETED}\n`,
    );
    expect(posts).toEqual(["sink", "subscription"]);
  });

  it("prints the same as JSON", async () => {
    account({ sink: {}, subscribed: true });
    const { code, out } = await run(runEventsSetup, true);
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({
      url: EVENTS_URL,
      accounts: [
        {
          account: ACCOUNT,
          kind: "set_up",
          sink: { sid: SINK, status: "active", created: false, ours: true },
          subscription: { sid: SUB, created: false, types: [{ type: COMPLETED, schemaVersion: 2 }] },
        },
      ],
    });
  });

  it("exits 1 while the sink is not active, naming its status", async () => {
    const posts = account({ sink: { status: "failed" } });
    const { code, out } = await run(runEventsSetup);
    expect(code).toBe(1);
    expect(out).toMatch(/, failed; not subscribed: Twilio subscribes only an active sink/);
    expect(posts).toEqual([]);
  });

  it.each([
    [401, 20003, "Authenticate", 2, /: check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN/],
    [403, 20403, "Forbidden", 2, /: these credentials may not manage Event Streams/],
    [404, 20404, "Not found", 1, /: TWILIO_API_BASE_URL must reach Twilio's Events API/],
    [429, 20429, "Too Many Requests", 1, /: Twilio is limiting requests; run the command again/],
    [500, 20500, "Internal Server Error", 1, /: Twilio failed; run the command again/],
  ])(
    "HTTP %i: one line with Twilio's error and the fix, exit %i",
    async (status, code, message, exit, fix) => {
      nock(TWILIO_BASE).get("/v1/Sinks").query(true).reply(status, { code, message, status });
      const r = await run(runEventsSetup);
      expect(r.code).toBe(exit);
      expect(r.out.split("\n")).toHaveLength(2);
      expect(r.out).toMatch(
        new RegExp(
          `^${ACCOUNT}: Event Streams setup failed: HTTP ${status} listing the sinks \\(Twilio error ${code}: ${message}\\)`,
        ),
      );
      expect(r.out).toMatch(fix);
    },
  );

  it("refuses to run without Twilio credentials", async () => {
    const bare = loadConfig({ DATABASE_URL: "postgres://u:p@localhost/db" });
    await expect(run(runEventsSetup, false, bare)).rejects.toThrow(/events setup: Twilio is not configured/);
  });
});

describe("events teardown", () => {
  it("removes the subscription and the sink, then says already", async () => {
    const posts = account({ sink: {}, subscribed: true });
    const first = await run(runEventsTeardown);
    expect(first.code).toBe(0);
    expect(first.out).toBe(`${ACCOUNT}: removed subscription ${SUB}, removed sink ${SINK}\n`);
    expect(posts).toEqual(["delete subscription", "delete sink"]);
    const second = await run(runEventsTeardown);
    expect(second.out).toBe(
      `${ACCOUNT}: already: no sink or subscription of call-reconciler at ${EVENTS_URL}\n`,
    );
    expect(posts).toEqual(["delete subscription", "delete sink"]);
  });

  it("never removes a sink someone else made at the URL, and says it left it", async () => {
    const posts = account({ sink: { description: "ops team webhook" } });
    const { code, out } = await run(runEventsTeardown);
    expect(code).toBe(0);
    expect(posts).toEqual([]);
    expect(out).toMatch(/left 1 sink\(s\) at the URL that call-reconciler did not make \(DG1+\)/);
  });
});

describe("the events URL", () => {
  it.each([
    ["https://reconciler.example.com/twilio/events", undefined],
    ["http://127.0.0.1:8080/twilio/events", undefined],
    ["http://localhost:8080/twilio/events", undefined],
    ["http://[::1]:8080/twilio/events", undefined],
    ["http://reconciler.example.com/twilio/events", /must be https:\/\//],
    ["ftp://reconciler.example.com/x", /must be https:\/\//],
    ["https://user:pw@reconciler.example.com/x", /carries a user name or password/],
    ["https://reconciler.example.com/x#frag", /#fragment/],
    ["not a url", /is not a URL/],
  ])("%s", (url, refused) => {
    if (refused === undefined) expect(eventsUrl("events setup", url, undefined)).toBe(url);
    else expect(() => eventsUrl("events setup", url, undefined)).toThrow(refused);
  });

  it("takes --url before EVENTS_URL, and names the one it refuses", () => {
    expect(eventsUrl("events setup", "https://a.example/e", "https://b.example/e")).toBe(
      "https://a.example/e",
    );
    expect(eventsUrl("events setup", undefined, "https://b.example/e")).toBe("https://b.example/e");
    expect(() => eventsUrl("events setup", undefined, "http://b.example/e")).toThrow(
      /EVENTS_URL must be https/,
    );
    expect(() => eventsUrl("events setup", undefined, undefined)).toThrow(/--url https:\/\/… or EVENTS_URL/);
  });
});
