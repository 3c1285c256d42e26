import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { formatRfc2822 } from "../../src/sim/rfc2822.js";
import { type SimTwilioCall, startTwilioSimulator, type TwilioSimulator } from "../../src/sim/twilio-sim.js";
import { until } from "../helpers/wait.js";

const ACCOUNT = "AC00000000000000000000000000000001";
const TOKEN = "auth-token-secret";
const KEY = { sid: "SK00000000000000000000000000000001", secret: "key-secret" };
const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`;
const AUTH = basic(ACCOUNT, TOKEN);
const MORE_INFO_20003 = "https://www.twilio.com/docs/errors/20003";

const t = (iso: string) => new Date(iso);
const sid = (n: number) => `CA${String(n).padStart(32, "0")}`;

function call(n: number, over: Partial<SimTwilioCall> = {}): SimTwilioCall {
  return {
    sid: sid(n),
    status: "completed",
    startTime: t(`2024-05-01T10:00:0${n % 10}Z`),
    endTime: t(`2024-05-01T10:05:0${n % 10}Z`),
    duration: "300",
    ...over,
  };
}

let sim: TwilioSimulator;
// biome-ignore lint/suspicious/noExplicitAny: the tests read arbitrary Twilio JSON and assert on it.
type Json = Record<string, any>;

async function get(path: string, auth: string | null = AUTH) {
  const res = await fetch(`${sim.url}${path}`, auth ? { headers: { authorization: auth } } : {});
  const text = await res.text();
  let body: Json | undefined;
  try {
    body = JSON.parse(text);
  } catch {}
  return { res, text, body: body as Json };
}
const fetchPath = (s: string, account = ACCOUNT) => `/2010-04-01/Accounts/${account}/Calls/${s}.json`;
const listPath = (query = "") => `/2010-04-01/Accounts/${ACCOUNT}/Calls.json${query}`;

describe("formatRfc2822", () => {
  it("prints Twilio's format in UTC, second precision, zero-padded day", () => {
    expect(formatRfc2822(t("2019-10-18T17:03:00Z"))).toBe("Fri, 18 Oct 2019 17:03:00 +0000");
    expect(formatRfc2822(t("2024-02-05T07:08:09.999Z"))).toBe("Mon, 05 Feb 2024 07:08:09 +0000");
    expect(formatRfc2822(t("2024-01-01T01:30:00+02:00"))).toBe("Sun, 31 Dec 2023 23:30:00 +0000");
  });
  it("rejects an invalid date", () => {
    expect(() => formatRfc2822(new Date(Number.NaN))).toThrow(RangeError);
  });
});

describe("Twilio simulator", () => {
  beforeEach(async () => {
    sim = await startTwilioSimulator({
      accountSid: ACCOUNT,
      authToken: TOKEN,
      apiKeys: [KEY],
      calls: [
        call(1, { from: "+15551230001", to: "+15559870001", dateUpdated: t("2024-05-01T10:05:02Z") }),
        call(2, {
          status: "busy",
          startTime: null,
          endTime: null,
          duration: null,
          dateCreated: t("2024-05-01T10:00:02Z"),
        }),
        call(3, { status: "in-progress", endTime: null, duration: null, omitKeys: ["end_time"] }),
      ],
    });
  });
  afterEach(async () => {
    await sim.close();
  });

  it("fetches a call with Twilio's fields, RFC 2822 dates and explicit headers", async () => {
    expect(sim.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const { res, text, body } = await get(fetchPath(sid(1)));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.headers.get("content-length")).toBe(String(Buffer.byteLength(text)));
    expect(body).toMatchObject({
      sid: sid(1),
      account_sid: ACCOUNT,
      parent_call_sid: null,
      date_created: "Wed, 01 May 2024 10:00:01 +0000",
      date_updated: "Wed, 01 May 2024 10:05:02 +0000",
      to: "+15559870001",
      from: "+15551230001",
      status: "completed",
      start_time: "Wed, 01 May 2024 10:00:01 +0000",
      end_time: "Wed, 01 May 2024 10:05:01 +0000",
      duration: "300",
      direction: "inbound",
      answered_by: null,
      price: null,
      price_unit: "USD",
      api_version: "2010-04-01",
      uri: fetchPath(sid(1)),
      subresource_uris: {},
    });
  });

  it("keeps nulls as null and leaves omitKeys out entirely", async () => {
    const busy = await get(fetchPath(sid(2)));
    expect(busy.body).toMatchObject({ status: "busy", start_time: null, end_time: null, duration: null });
    const live = await get(fetchPath(sid(3)));
    expect(live.body.status).toBe("in-progress");
    expect("end_time" in live.body).toBe(false);
    expect(live.body.start_time).toBe("Wed, 01 May 2024 10:00:03 +0000");
  });

  it("answers 404 in Twilio's error shape for an unknown SID or another account", async () => {
    const unknown = await get(fetchPath(sid(99)));
    expect(unknown.res.status).toBe(404);
    expect(unknown.body).toEqual({
      code: 20404,
      message: `The requested resource ${fetchPath(sid(99))} was not found`,
      more_info: "https://www.twilio.com/docs/errors/20404",
      status: 404,
    });
    const other = "AC99999999999999999999999999999999";
    const wrongAccount = await get(fetchPath(sid(1), other));
    expect(wrongAccount.res.status).toBe(404);
    expect(wrongAccount.body.code).toBe(20404);
  });

  it("requires Basic auth with the auth token or an API key", async () => {
    for (const auth of [null, basic(ACCOUNT, "wrong"), basic(KEY.sid, TOKEN), "Bearer xyz"]) {
      const r = await get(fetchPath(sid(1)), auth);
      expect(r.res.status).toBe(401);
      expect(r.body).toEqual({
        code: 20003,
        message: "Authenticate",
        more_info: MORE_INFO_20003,
        status: 401,
      });
    }
    const withKey = await get(fetchPath(sid(1)), basic(KEY.sid, KEY.secret));
    expect(withKey.res.status).toBe(200);
    expect(withKey.body.sid).toBe(sid(1));
  });

  it("answers 405 to anything but GET", async () => {
    const res = await fetch(`${sim.url}${fetchPath(sid(1))}`, {
      method: "POST",
      headers: { authorization: AUTH },
      body: "Status=completed",
    });
    expect(res.status).toBe(405);
    expect(await res.json()).toMatchObject({ code: 20004, status: 405 });
  });

  it("lists calls filtered by Status", async () => {
    const { res, body } = await get(listPath("?Status=in-progress&PageSize=1000"));
    expect(res.status).toBe(200);
    expect(body.calls.map((c: { sid: string }) => c.sid)).toEqual([sid(3)]);
    expect(body).toMatchObject({ page: 0, page_size: 1000, start: 0, next_page_uri: null });
    const all = await get(listPath());
    expect(all.body.page_size).toBe(50);
    expect(all.body.calls).toHaveLength(3);
  });

  it("pages with PageSize=2 by following next_page_uri until null, consistently", async () => {
    for (const n of [4, 5, 6]) sim.upsertCall(call(n));
    const seen: string[] = [];
    let next: string | null = listPath("?PageSize=2");
    let pages = 0;
    while (next) {
      const { res, body } = await get(next);
      expect(res.status).toBe(200);
      expect(body.page).toBe(pages);
      expect(body.page_size).toBe(2);
      expect(body.start).toBe(pages * 2);
      seen.push(...body.calls.map((c: { sid: string }) => c.sid));
      if (pages === 0) {
        expect(body.previous_page_uri).toBeNull();
        // A newer call arriving mid-listing must not shift the remaining pages.
        sim.upsertCall(call(9, { dateCreated: t("2030-01-01T00:00:00Z") }));
      }
      next = body.next_page_uri;
      pages++;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual([6, 5, 4, 3, 2, 1].map(sid));
  });

  it("pages back with previous_page_uri, and a change shows in the next listing", async () => {
    for (const n of [4, 5, 6]) sim.upsertCall(call(n));
    const first = await get(listPath("?PageSize=2"));
    const second = await get(first.body.next_page_uri);
    const third = await get(second.body.next_page_uri);
    expect(third.body.calls.map((c: { sid: string }) => c.sid)).toEqual([2, 1].map(sid));
    expect(third.body.next_page_uri).toBeNull();
    const back = await get(third.body.previous_page_uri);
    expect(back.body.calls.map((c: { sid: string }) => c.sid)).toEqual([4, 3].map(sid));
    const front = await get(back.body.previous_page_uri);
    expect(front.body.calls.map((c: { sid: string }) => c.sid)).toEqual([6, 5].map(sid));
    expect(front.body.previous_page_uri).toBeNull();
    sim.upsertCall(call(5, { status: "in-progress", endTime: null, duration: null }));
    expect(sim.removeCall(sid(6))).toBe(true);
    const live = await get(listPath("?Status=in-progress"));
    expect(live.body.calls.map((c: { sid: string }) => c.sid)).toEqual([5, 3].map(sid));
    const all = await get(listPath("?PageSize=2"));
    expect(all.body.calls.map((c: { sid: string }) => c.sid)).toEqual([5, 4].map(sid));
  });

  it("keeps the Status filter on next_page_uri and clamps PageSize to 1000", async () => {
    for (const n of [4, 5]) sim.upsertCall(call(n, { status: "ringing" }));
    const first = await get(listPath("?Status=ringing&PageSize=1"));
    expect(first.body.next_page_uri).toContain("Status=ringing");
    const second = await get(first.body.next_page_uri);
    expect(second.body.calls.map((c: { sid: string }) => c.sid)).toEqual([sid(4)]);
    expect(second.body.next_page_uri).toBeNull();
    const big = await get(listPath("?PageSize=5000"));
    expect(big.body.page_size).toBe(1000);
  });

  it("injects an HTTP fault for the first `times` fetches, with Retry-After", async () => {
    sim.setFault(sid(1), { kind: "http", status: 503, retryAfterSeconds: 7, times: 2 });
    for (let i = 0; i < 2; i++) {
      const r = await get(fetchPath(sid(1)));
      expect(r.res.status).toBe(503);
      expect(r.res.headers.get("retry-after")).toBe("7");
      expect(r.body).toMatchObject({ code: 20503, status: 503 });
    }
    expect((await get(fetchPath(sid(1)))).res.status).toBe(200);
    expect((await get(fetchPath(sid(2)))).res.status).toBe(200);
  });

  it("a fault without `times` lasts until cleared; 500 maps to 20500", async () => {
    sim.upsertCall(call(1, { fault: { kind: "http", status: 500 } }));
    expect(sim.getCall(sid(1))?.fault).toEqual({ kind: "http", status: 500 });
    for (let i = 0; i < 3; i++) expect((await get(fetchPath(sid(1)))).body.code).toBe(20500);
    sim.setFault(sid(1), undefined);
    expect((await get(fetchPath(sid(1)))).res.status).toBe(200);
  });

  it("injects a malformed 200 body", async () => {
    sim.setFault(sid(1), { kind: "malformed", times: 1 });
    const bad = await get(fetchPath(sid(1)));
    expect(bad.res.status).toBe(200);
    expect(bad.res.headers.get("content-length")).toBe(String(Buffer.byteLength(bad.text)));
    expect(() => JSON.parse(bad.text)).toThrow();
    expect((await get(fetchPath(sid(1)))).body.sid).toBe(sid(1));
  });

  it("injects a duration of 10^13 s with no end_time, on a fetch and on a list", async () => {
    sim.setFault(sid(1), { kind: "huge_duration", times: 1 });
    const huge = await get(fetchPath(sid(1)));
    expect(huge.res.status).toBe(200);
    expect(huge.body).toMatchObject({
      sid: sid(1),
      status: "completed",
      start_time: "Wed, 01 May 2024 10:00:01 +0000",
      end_time: null,
      duration: "9999999999999",
    });
    expect((await get(fetchPath(sid(1)))).body.duration).toBe("300");
    sim.setAccountFault({ kind: "huge_duration" });
    const list = await get(listPath());
    expect(list.body.calls.map((c: Json) => [c.end_time, c.duration])).toEqual(
      list.body.calls.map(() => [null, "9999999999999"]),
    );
    // Not a call's answer: left as it is.
    expect((await get(fetchPath(sid(99)))).res.status).toBe(404);
  });

  it("injects a status of 3 MB (under the client's 4 MB bound), on a fetch and on a list's first call", async () => {
    sim.setFault(sid(1), { kind: "huge_status" });
    const huge = await get(fetchPath(sid(1)));
    expect(huge.res.status).toBe(200);
    expect(huge.body.sid).toBe(sid(1));
    expect(huge.body.status).toMatch(/^[a-z-]+$/);
    expect(huge.body.status.length).toBe(3 * 1024 * 1024);
    sim.setFault(sid(1), { kind: "huge_status", length: 100 });
    expect((await get(fetchPath(sid(1)))).body.status.length).toBe(100);
    sim.setFault(sid(1), undefined);
    sim.setAccountFault({ kind: "huge_status" });
    const list = await get(listPath());
    expect(list.text.length).toBeLessThan(4 * 1024 * 1024);
    expect(list.body.calls.map((c: Json) => c.status.length)).toEqual([3 * 1024 * 1024, 4, 9]);
  });

  it("injects a delay, then answers normally", async () => {
    sim.setFault(sid(1), { kind: "delay", ms: 150, times: 1 });
    const started = performance.now();
    const slow = await get(fetchPath(sid(1)));
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    expect(slow.body.sid).toBe(sid(1));
  });

  it("applies an account fault to every request until it runs out or is cleared", async () => {
    sim.setAccountFault({ kind: "http", status: 503 });
    expect((await get(listPath())).res.status).toBe(503);
    expect((await get(fetchPath(sid(1)), null)).res.status).toBe(503);
    sim.setAccountFault({ kind: "http", status: 401, times: 1 });
    expect((await get(fetchPath(sid(1)))).body.code).toBe(20003);
    expect((await get(fetchPath(sid(1)))).res.status).toBe(200);
    sim.setAccountFault({ kind: "malformed" });
    expect((await get(listPath())).body).toBeUndefined();
    sim.setAccountFault(undefined);
    expect((await get(listPath())).res.status).toBe(200);
  });

  it("sends Twilio-Request-Id (RQ…) on every answer, a new one each time", async () => {
    sim.setFault(sid(2), { kind: "http", status: 429, retryAfterSeconds: 1 });
    const answers = [
      await get(fetchPath(sid(1))),
      await get(fetchPath(sid(99))),
      await get(fetchPath(sid(2))),
      await get(listPath()),
      await get(listPath(), null),
    ];
    expect(answers.map((a) => a.res.status)).toEqual([200, 404, 429, 200, 401]);
    const ids = answers.map((a) => a.res.headers.get("twilio-request-id"));
    for (const id of ids) expect(id).toMatch(/^RQ[0-9a-f]{32}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("counts the responses a client gave up on, and holds none open once it has", async () => {
    sim.setFault(sid(1), { kind: "drip", everyMs: 50 });
    const stop = new AbortController();
    const res = await fetch(`${sim.url}${fetchPath(sid(1))}`, {
      headers: { authorization: AUTH },
      signal: stop.signal,
    });
    expect(res.status).toBe(200);
    expect(sim.openResponses).toBe(1);
    stop.abort();
    await res.text().catch(() => "");
    await until("the dripping response closed", () => sim.openResponses === 0, 2_000);
    expect(sim.stats.abandoned).toBe(1);
    sim.setFault(sid(1), undefined);
    await get(fetchPath(sid(1)));
    expect(sim.openResponses).toBe(0);
    expect(sim.stats.abandoned).toBe(1);
  });

  it("counts requests, routes and statuses, and resets", async () => {
    await get(fetchPath(sid(1)));
    await get(fetchPath(sid(99)));
    await get(listPath());
    await get(listPath(), null);
    await get("/nowhere");
    expect(sim.stats).toEqual({
      requests: 5,
      fetches: 2,
      lists: 2,
      events: 0,
      notifications: 0,
      numbers: 0,
      responsesByStatus: { 200: 2, 401: 1, 404: 2 },
      rateLimited: 0,
      maxRequestsInOneSecond: 5,
      abandoned: 0,
      byAccount: {
        [ACCOUNT]: {
          requests: 4,
          fetches: 2,
          lists: 2,
          events: 0,
          notifications: 0,
          numbers: 0,
          rateLimited: 0,
          maxRequestsInOneSecond: 4,
        },
      },
    });
    sim.resetStats();
    expect(sim.stats).toMatchObject({ requests: 0, fetches: 0, responsesByStatus: {} });
  });

  it("close() does not hang on idle keep-alive sockets or pending delays", async () => {
    await get(fetchPath(sid(1)));
    sim.setFault(sid(1), { kind: "delay", ms: 60_000 });
    const pending = fetch(`${sim.url}${fetchPath(sid(1))}`, { headers: { authorization: AUTH } }).catch(
      (e: unknown) => e,
    );
    await vi.waitFor(() => expect(sim.stats.requests).toBe(2), { timeout: 20_000, interval: 5 });
    // A close that waited for the delay (a minute) would fail the test by its timeout.
    await sim.close();
    expect(await pending).toBeInstanceOf(Error);
  });
});

describe("Twilio simulator rate limit", () => {
  afterEach(async () => {
    await sim.close();
  });

  it("answers 429 (20429, Retry-After: 1) above maxRps in a sliding second", async () => {
    sim = await startTwilioSimulator({ accountSid: ACCOUNT, authToken: TOKEN, calls: [call(1)], maxRps: 3 });
    const results = await Promise.all(Array.from({ length: 6 }, () => get(fetchPath(sid(1)))));
    const statuses = results.map((r) => r.res.status).sort();
    expect(statuses).toEqual([200, 200, 200, 429, 429, 429]);
    for (const r of results.filter((x) => x.res.status === 429)) {
      expect(r.res.headers.get("retry-after")).toBe("1");
      expect(r.body).toMatchObject({ code: 20429, status: 429 });
    }
    expect(sim.stats).toMatchObject({ requests: 6, rateLimited: 3, maxRequestsInOneSecond: 6 });
    // A sleep: the three served requests must leave the simulator's sliding second (real time, on its clock).
    await new Promise((r) => setTimeout(r, 1010));
    expect((await get(fetchPath(sid(1)))).res.status).toBe(200);
  });
});

describe("Twilio simulator latency", () => {
  afterEach(async () => {
    await sim.close();
  });

  it("answers every request latencyMs after it arrived, side by side, counting on arrival", async () => {
    sim = await startTwilioSimulator({
      accountSid: ACCOUNT,
      authToken: TOKEN,
      calls: [call(1), call(2)],
      latencyMs: 200,
    });
    const started = performance.now();
    const timed = (path: string) => get(path).then((r) => ({ ...r, ms: performance.now() - started }));
    const pending = Promise.all([
      ...Array.from({ length: 8 }, (_, i) => timed(fetchPath(sid(1 + (i % 2))))),
      timed(listPath()),
      timed(fetchPath(sid(99))),
    ]);
    await vi.waitFor(() => expect(sim.stats.requests).toBe(10), { timeout: 20_000, interval: 5 });
    // Arrived and counted, not answered yet.
    expect(sim.stats).toMatchObject({ requests: 10, fetches: 9, lists: 1, responsesByStatus: {} });
    const results = await pending;
    for (const r of results) expect(r.ms).toBeGreaterThanOrEqual(190);
    expect(results.map((r) => r.res.status)).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 404]);
    expect(results[0]?.body.sid).toBe(sid(1));
    expect(sim.stats.responsesByStatus).toEqual({ 200: 9, 404: 1 });
  });

  it("rate-limits on arrival as without it, and delays the 429s too", async () => {
    sim = await startTwilioSimulator({
      accountSid: ACCOUNT,
      authToken: TOKEN,
      calls: [call(1)],
      maxRps: 2,
      latencyMs: 150,
    });
    const started = performance.now();
    const results = await Promise.all(Array.from({ length: 4 }, () => get(fetchPath(sid(1)))));
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    expect(results.map((r) => r.res.status).sort()).toEqual([200, 200, 429, 429]);
    expect(sim.stats).toMatchObject({ requests: 4, rateLimited: 2, maxRequestsInOneSecond: 4 });
  });

  it("rejects a negative latency, and close() does not wait for pending answers", async () => {
    await expect(
      startTwilioSimulator({ accountSid: ACCOUNT, authToken: TOKEN, latencyMs: -1 }),
    ).rejects.toThrow(RangeError);
    sim = await startTwilioSimulator({ accountSid: ACCOUNT, authToken: TOKEN, latencyMs: 60_000 });
    const pending = get(fetchPath(sid(1))).catch((e: unknown) => e);
    await vi.waitFor(() => expect(sim.stats.requests).toBe(1), { timeout: 20_000, interval: 5 });
    // A close that waited for the latency (a minute) would fail the test by its timeout.
    await sim.close();
    expect(await pending).toBeInstanceOf(Error);
  });
});

describe("Twilio simulator partial outage", () => {
  afterEach(async () => {
    await sim.close();
  });

  it("answers that share of requests 500 at random, replayably, until the outage is set back to 0", async () => {
    sim = await startTwilioSimulator({
      accountSid: ACCOUNT,
      authToken: TOKEN,
      calls: [call(1)],
      randomServerErrorShare: 0.9,
    });
    const statuses = async (n: number) => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) out.push((await get(fetchPath(sid(1)))).res.status);
      return out;
    };
    const during = await statuses(100);
    const failed = during.filter((s) => s === 500).length;
    expect(failed).toBeGreaterThan(75);
    expect(failed).toBeLessThan(100);
    expect(during.filter((s) => s !== 500).every((s) => s === 200)).toBe(true);
    sim.setServerErrorShare(0);
    expect(await statuses(20)).toEqual(Array(20).fill(200));
    expect(() => sim.setServerErrorShare(1.5)).toThrow(RangeError);
  });
});
