/**
 * The path every Twilio request takes through the official SDK: its `request()` and a custom `httpClient`,
 * the two extension points it documents. These tests fail when an SDK upgrade changes that path under the
 * code (the headers no longer handed on, the auth or user agent gone, the host rewritten, the signal or the
 * stream lost).
 */
import { Readable } from "node:stream";
import nock from "nock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createTwilioClient } from "../../src/providers/twilio-client.js";

const ACCOUNT = `AC${"1".repeat(32)}`;
const credentials = { accountSid: ACCOUNT, username: ACCOUNT, password: "token-1" };
const BASIC = `Basic ${Buffer.from(`${ACCOUNT}:token-1`).toString("base64")}`;

beforeEach(() => {
  nock.disableNetConnect();
});
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
  vi.unstubAllEnvs();
});

describe("Twilio requests through the SDK", () => {
  it("reach the configured host as given, with the SDK's Basic auth and user agent, and nothing of ours", async () => {
    let seen: Record<string, string | string[] | undefined> = {};
    nock("http://twilio-sim.internal")
      .get(`/2010-04-01/Accounts/${ACCOUNT}/Calls/CA1.json`)
      .reply(function () {
        seen = this.req.headers;
        return [200, { sid: "CA1" }];
      });
    const client = createTwilioClient({
      credentials,
      baseUrl: "http://twilio-sim.internal",
      timeoutMs: 5_000,
      keepAlive: false,
    });
    const answer = await client.get(`${client.accountPath(ACCOUNT)}/Calls/CA1.json`);
    expect(answer.statusCode).toBe(200);
    expect(answer.body).toEqual({ sid: "CA1" });
    expect(seen.authorization).toBe(BASIC);
    expect(String(seen["user-agent"])).toMatch(/^twilio-node\//);
    expect(Object.keys(seen).filter((h) => h.startsWith("x-call-reconciler"))).toEqual([]);
  });

  it("keep the SDK's region rewrite for Twilio's own hosts", async () => {
    vi.stubEnv("TWILIO_REGION", "ie1");
    const scope = nock("https://api.ie1.twilio.com").get("/2010-04-01/Accounts.json").reply(200, {});
    const client = createTwilioClient({
      credentials,
      baseUrl: "https://api.twilio.com",
      timeoutMs: 5_000,
      keepAlive: false,
    });
    expect((await client.get("https://api.twilio.com/2010-04-01/Accounts.json")).statusCode).toBe(200);
    expect(scope.isDone()).toBe(true);
  });

  it("answer an error status as an answer, not a rejection", async () => {
    nock("http://twilio-sim.internal").get("/x.json").reply(503, { code: 20503 });
    const client = createTwilioClient({
      credentials,
      baseUrl: "http://twilio-sim.internal",
      timeoutMs: 5_000,
      keepAlive: false,
    });
    const answer = await client.get("http://twilio-sim.internal/x.json");
    expect(answer.statusCode).toBe(503);
    expect(answer.body).toEqual({ code: 20503 });
  });

  it("stream the body when asked", async () => {
    nock("http://twilio-sim.internal").get("/page.json").reply(200, { calls: [] });
    const client = createTwilioClient({
      credentials,
      baseUrl: "http://twilio-sim.internal",
      timeoutMs: 5_000,
      keepAlive: false,
    });
    const answer = await client.getStream("http://twilio-sim.internal/page.json");
    expect(answer.body).toBeInstanceOf(Readable);
    const chunks: Buffer[] = [];
    for await (const chunk of answer.body) chunks.push(Buffer.from(chunk));
    expect(JSON.parse(Buffer.concat(chunks).toString("utf8"))).toEqual({ calls: [] });
  });

  it("give up on a request when its signal aborts", async () => {
    nock("http://twilio-sim.internal").get("/slow.json").delay(10_000).reply(200, {});
    const client = createTwilioClient({
      credentials,
      baseUrl: "http://twilio-sim.internal",
      timeoutMs: 30_000,
      keepAlive: false,
    });
    const controller = new AbortController();
    const pending = client.get("http://twilio-sim.internal/slow.json", { signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toThrow(/cancel|abort/i);
  });

  it("keep concurrent requests' scopes apart", async () => {
    nock("http://twilio-sim.internal")
      .get("/a.json")
      .reply(200, { n: "a" })
      .get("/b.json")
      .reply(200, { n: "b" });
    const client = createTwilioClient({
      credentials,
      baseUrl: "http://twilio-sim.internal",
      timeoutMs: 5_000,
      keepAlive: false,
    });
    const [a, b] = await Promise.all([
      client.get("http://twilio-sim.internal/a.json"),
      client.getStream("http://twilio-sim.internal/b.json"),
    ]);
    expect(a.body).toEqual({ n: "a" });
    expect(b.body).toBeInstanceOf(Readable);
    b.body.destroy();
  });
});
