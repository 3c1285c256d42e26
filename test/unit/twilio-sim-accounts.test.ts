import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startTwilioSimulator, type TwilioSimulator } from "../../src/sim/twilio-sim.js";

const PARENT = "AC00000000000000000000000000000001";
const SUB = "AC0000000000000000000000000000000a";
const STRANGER = "AC0000000000000000000000000000000f";
const TOKEN = "parent-token";
const AUTH = `Basic ${Buffer.from(`${PARENT}:${TOKEN}`).toString("base64")}`;
const sid = (n: number) => `CA${String(n).padStart(32, "0")}`;
const at = (minute: number) => new Date(Date.UTC(2026, 10, 29, 10, minute, 0));

let sim: TwilioSimulator;
// biome-ignore lint/suspicious/noExplicitAny: the tests read arbitrary Twilio JSON and assert on it.
async function get(path: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${sim.url}${path}`, { headers: { authorization: AUTH } });
  return { status: res.status, body: await res.json() };
}
const fetchPath = (account: string, n: number) => `/2010-04-01/Accounts/${account}/Calls/${sid(n)}.json`;
const listPath = (account: string, query: string) => `/2010-04-01/Accounts/${account}/Calls.json?${query}`;

describe("Twilio simulator: subaccounts", () => {
  beforeEach(async () => {
    sim = await startTwilioSimulator({
      accountSid: PARENT,
      authToken: TOKEN,
      subaccounts: [SUB],
      maxRps: 3,
      calls: [
        { sid: sid(1), status: "in-progress", startTime: at(1), endTime: null, duration: null },
        ...[2, 3, 4, 5].map((n) => ({
          sid: sid(n),
          accountSid: SUB,
          status: "in-progress",
          startTime: at(n),
          endTime: null,
          duration: null,
        })),
      ],
    });
  });
  afterEach(async () => sim.close());

  it("answers a subaccount's call under its own account only, to the parent's credentials", async () => {
    const own = await get(fetchPath(SUB, 2));
    expect(own.status).toBe(200);
    expect(own.body).toMatchObject({ sid: sid(2), account_sid: SUB });
    expect((await get(fetchPath(PARENT, 2))).status).toBe(404);
    expect((await get(fetchPath(SUB, 1))).status).toBe(404);
    expect((await get(fetchPath(STRANGER, 2))).status).toBe(404);
  });

  it("lists an account's calls only, and filters on StartTime> / StartTime< (inclusive, date-times)", async () => {
    const all = await get(listPath(SUB, "Status=in-progress&PageSize=2"));
    expect(all.body.calls.map((c: { sid: string }) => c.sid)).toEqual([sid(5), sid(4)]);
    const next = await get(all.body.next_page_uri);
    expect(next.body.calls.map((c: { sid: string }) => c.sid)).toEqual([sid(3), sid(2)]);
    const from = encodeURIComponent(at(3).toISOString().replace(".000", ""));
    const to = encodeURIComponent(at(4).toISOString().replace(".000", ""));
    const slice = await get(listPath(SUB, `Status=in-progress&StartTime%3E=${from}&StartTime%3C=${to}`));
    expect(slice.body.calls.map((c: { sid: string }) => c.sid)).toEqual([sid(4), sid(3)]);
    const parent = await get(listPath(PARENT, "Status=in-progress"));
    expect(parent.body.calls.map((c: { sid: string }) => c.sid)).toEqual([sid(1)]);
    expect((await get(listPath(PARENT, "StartTime%3E=yesterday"))).status).toBe(400);
  });

  it("rate-limits and counts each account on its own", async () => {
    const answers = await Promise.all([
      ...[1, 2, 3, 4].map(() => get(fetchPath(SUB, 2))),
      ...[1, 2, 3].map(() => get(fetchPath(PARENT, 1))),
    ]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 429]);
    expect(sim.stats.byAccount[SUB]).toMatchObject({ requests: 4, fetches: 4, rateLimited: 1 });
    expect(sim.stats.byAccount[PARENT]).toMatchObject({ requests: 3, rateLimited: 0 });
    expect(sim.stats.rateLimited).toBe(1);
  });
});

describe("Twilio simulator: account names that are Object.prototype's", () => {
  beforeEach(async () => {
    sim = await startTwilioSimulator({ accountSid: PARENT, authToken: TOKEN });
  });
  afterEach(async () => sim.close());

  it.each(["__proto__", "constructor", "toString"])(
    "an account named %s is an unknown account, counted on its own, and pollutes nothing",
    async (account) => {
      const paths = [
        `/2010-04-01/Accounts/${account}/Calls/${sid(1)}.json`,
        `/2010-04-01/Accounts/${account}/Calls.json`,
        `/2010-04-01/Accounts/${account}/IncomingPhoneNumbers.json`,
      ];
      for (const path of paths) {
        for (const authorization of [AUTH, ""]) {
          const res = await fetch(`${sim.url}${path}`, { headers: { authorization } });
          await res.text();
          expect([401, 404], `${path} ${authorization ? "with" : "without"} credentials`).toContain(
            res.status,
          );
        }
      }
      // Not one of Object.prototype's names turned into a counter.
      const probe = {} as Record<string, unknown>;
      for (const key of ["requests", "fetches", "lists", "numbers", "rateLimited", "maxRequestsInOneSecond"])
        expect(probe[key], key).toBeUndefined();
      expect(Object.getPrototypeOf(probe)).toBe(Object.prototype);
      expect(sim.stats.byAccount[account]).toMatchObject({ requests: 6, fetches: 2, lists: 2, numbers: 2 });
      expect(sim.stats.byAccount[PARENT]).toBeUndefined();
    },
  );
});
