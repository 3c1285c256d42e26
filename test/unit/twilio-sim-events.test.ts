import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type SimTwilioCall, startTwilioSimulator, type TwilioSimulator } from "../../src/sim/twilio-sim.js";
import { recordsForCause, withCause } from "../../src/sim/twilio-sim-causes.js";

const PARENT = "AC00000000000000000000000000000001";
const SUB = "AC0000000000000000000000000000000a";
const TOKEN = "parent-token";
const AUTH = `Basic ${Buffer.from(`${PARENT}:${TOKEN}`).toString("base64")}`;
const sid = (n: number) => `CA${String(n).padStart(32, "0")}`;
const MIN = 60_000;
const DAY = 24 * 60 * MIN;
const END = new Date("2026-11-29T10:05:00Z");
const CALLER = "+14155550123";
const CALLEE = "+12125550198";

let sim: TwilioSimulator;
let clock: Date;
// biome-ignore lint/suspicious/noExplicitAny: the tests read arbitrary Twilio JSON and assert on it.
type Json = any;
async function get(path: string, auth: string | null = AUTH): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${sim.url}${path}`, auth ? { headers: { authorization: auth } } : {});
  return { status: res.status, body: await res.json() };
}
const eventsPath = (n: number, query = "", account = PARENT) =>
  `/2010-04-01/Accounts/${account}/Calls/${sid(n)}/Events.json${query}`;
const notesPath = (n: number, query = "", account = PARENT) =>
  `/2010-04-01/Accounts/${account}/Calls/${sid(n)}/Notifications.json${query}`;

function ended(n: number, over: Partial<SimTwilioCall> = {}): SimTwilioCall {
  return {
    sid: sid(n),
    status: "completed",
    startTime: new Date(END.getTime() - 5 * MIN),
    endTime: END,
    duration: "300",
    from: CALLER,
    to: CALLEE,
    ...over,
  };
}
const callStatuses = (body: Json) =>
  body.events.map((e: Json) => e.request.parameters.call_status ?? "create") as string[];

describe("Twilio simulator: a call's Events and Notifications", () => {
  beforeEach(async () => {
    clock = new Date(END.getTime() + 20 * MIN);
    sim = await startTwilioSimulator({
      accountSid: PARENT,
      authToken: TOKEN,
      subaccounts: [SUB],
      now: () => clock,
      calls: [
        withCause(ended(1), "acknowledged"),
        withCause(ended(2), "failed"),
        withCause(ended(3), "failed", { failure: "timeout" }),
        withCause(ended(4), "not_requested"),
        withCause(ended(5), "not_requested", { notRequested: "completed_not_subscribed" }),
        withCause(ended(6), "inbound_no_callback"),
        { sid: sid(7), status: "in-progress", startTime: END, endTime: null, duration: null },
        withCause(ended(8, { accountSid: SUB }), "acknowledged"),
        ended(9),
        // end_time missing, date_updated much later: the end is start + duration.
        withCause(
          ended(10, { endTime: null, dateUpdated: new Date(END.getTime() + 60 * MIN) }),
          "acknowledged",
        ),
      ],
    });
  });
  afterEach(async () => sim.close());

  it("lists the create request first, with its status callback parameters, then every callback answered", async () => {
    const { status, body } = await get(eventsPath(1));
    expect(status).toBe(200);
    expect(callStatuses(body)).toEqual([
      "create",
      "initiated",
      "ringing",
      "in-progress",
      "in-progress",
      "completed",
    ]);
    const [create, ...rest] = body.events;
    expect(create.request).toEqual({
      method: "POST",
      url: `https://api.twilio.com/2010-04-01/Accounts/${PARENT}/Calls.json`,
      parameters: {
        to: CALLEE,
        from: CALLER,
        url: "https://app.example.com/twilio/voice",
        status_callback: "https://app.example.com/twilio/status",
        status_callback_method: "POST",
        status_callback_event: ["initiated", "ringing", "answered", "completed"],
      },
    });
    expect(create.response).toMatchObject({ response_code: 201, content_type: "application/json" });
    const completed = rest.at(-1);
    expect(completed.request).toMatchObject({ method: "POST", url: "https://app.example.com/twilio/status" });
    expect(completed.request.parameters).toMatchObject({ call_sid: sid(1), call_duration: "300" });
    expect(completed.response).toEqual({
      response_code: 200,
      request_duration: 80,
      content_type: "text/plain; charset=utf-8",
      response_body: "",
      date_created: "Sun, 29 Nov 2026 10:05:01 +0000",
    });
    expect(body).toMatchObject({ page: 0, page_size: 50, start: 0, end: 5, next_page_uri: null });
    expect((await get(notesPath(1))).body.notifications).toEqual([]);
  });

  it("keeps the caller's and callee's numbers in the raw records, as Twilio does", async () => {
    const { body } = await get(eventsPath(2));
    const raw = JSON.stringify(body.events);
    for (const event of body.events) expect(JSON.stringify(event)).toContain(CALLER);
    expect(body.events[0].response.response_body).toContain(CALLEE);
    expect(body.events.at(-1).response.response_body).toContain(CALLER);
    expect(raw).toContain("SAN FRANCISCO");
    const twiml = body.events.find((e: Json) => e.response.content_type === "application/xml");
    expect(twiml.response.response_body).toContain(CALLER);
  });

  it("shows a completed callback answered 500 with a 15003 warning", async () => {
    const events = (await get(eventsPath(2))).body.events;
    expect(events.at(-1).response).toMatchObject({ response_code: 500 });
    const { status, body } = await get(notesPath(2));
    expect(status).toBe(200);
    expect(body.notifications).toHaveLength(1);
    const note = body.notifications[0];
    expect(note).toMatchObject({
      account_sid: PARENT,
      call_sid: sid(2),
      error_code: "15003",
      log: "1",
      request_method: "POST",
      request_url: "https://app.example.com/twilio/status",
      more_info: "https://www.twilio.com/docs/errors/15003",
      api_version: "2010-04-01",
    });
    expect(note.sid).toMatch(/^NO[0-9a-f]{32}$/);
    expect(note.uri).toBe(`/2010-04-01/Accounts/${PARENT}/Calls/${sid(2)}/Notifications/${note.sid}.json`);
    expect(note.message_date).toBe("Sun, 29 Nov 2026 10:05:01 +0000");
    expect(note.message_text).toContain("500");
  });

  it("shows a completed callback never answered with an 11200 error, and filters on Log", async () => {
    const events = (await get(eventsPath(3))).body.events;
    expect(events.at(-1).response).toMatchObject({ response_code: null, request_duration: 15_000 });
    const notes = (await get(notesPath(3))).body.notifications;
    expect(notes.map((n: Json) => [n.error_code, n.log])).toEqual([["11200", "0"]]);
    expect((await get(notesPath(3, "?Log=1"))).body.notifications).toEqual([]);
    expect((await get(notesPath(3, "?Log=0"))).body.notifications).toHaveLength(1);
  });

  it("shows a call created without a status callback, or without the completed event", async () => {
    const none = (await get(eventsPath(4))).body.events;
    expect(none[0].request.parameters).not.toHaveProperty("status_callback");
    expect(callStatuses({ events: none })).toEqual(["create", "in-progress"]);
    const partial = (await get(eventsPath(5))).body.events;
    expect(partial[0].request.parameters.status_callback_event).toEqual(["initiated", "answered"]);
    expect(callStatuses({ events: partial })).not.toContain("completed");
  });

  it("shows an inbound call with no create request and no callback", async () => {
    const { body } = await get(eventsPath(6));
    expect(callStatuses(body)).toEqual(["ringing"]);
    expect(body.events[0].request.parameters.direction).toBe("inbound");
  });

  it("pages through the events with PageSize, following next_page_uri", async () => {
    const first = await get(eventsPath(1, "?PageSize=4"));
    expect(first.body).toMatchObject({ page: 0, page_size: 4, start: 0, end: 3, previous_page_uri: null });
    expect(first.body.events).toHaveLength(4);
    const second = await get(first.body.next_page_uri);
    expect(second.body).toMatchObject({ page: 1, start: 4, end: 5, next_page_uri: null });
    expect(callStatuses(second.body)).toEqual(["in-progress", "completed"]);
    expect(second.body.previous_page_uri).toContain("Page=0");
    expect((await get(second.body.previous_page_uri)).body.events).toEqual(first.body.events);
    expect((await get(eventsPath(1, "?PageToken=nonsense"))).status).toBe(400);
  });

  it("answers empty lists until 15 minutes after the end, and for a call not over", async () => {
    clock = new Date(END.getTime() + 15 * MIN - 1);
    expect((await get(eventsPath(1))).body.events).toEqual([]);
    expect((await get(notesPath(2))).body.notifications).toEqual([]);
    clock = new Date(END.getTime() + 15 * MIN);
    expect((await get(eventsPath(1))).body.events).toHaveLength(6);
    expect((await get(notesPath(2))).body.notifications).toHaveLength(1);
    expect((await get(eventsPath(10))).body.events).toHaveLength(6);
    const live = await get(eventsPath(7));
    expect(live.status).toBe(200);
    expect(live.body.events).toEqual([]);
  });

  it("forgets the events 30 days after the end, but keeps the notifications", async () => {
    clock = new Date(END.getTime() + 30 * DAY);
    expect((await get(eventsPath(2))).body.events).toHaveLength(6);
    clock = new Date(END.getTime() + 30 * DAY + 1);
    const gone = await get(eventsPath(2));
    expect(gone.status).toBe(200);
    expect(gone.body.events).toEqual([]);
    expect((await get(notesPath(2))).body.notifications).toHaveLength(1);
  });

  it("answers 404 for an unknown call and for another account's call; empty lists for a call without records", async () => {
    for (const path of [eventsPath(99), notesPath(99), eventsPath(8), eventsPath(1, "", SUB)]) {
      const { status, body } = await get(path);
      expect(status).toBe(404);
      expect(body).toMatchObject({ code: 20404, status: 404 });
    }
    expect((await get(eventsPath(8, "", SUB))).body.events).toHaveLength(6);
    expect((await get(eventsPath(9))).body.events).toEqual([]);
    expect((await get(notesPath(9))).body.notifications).toEqual([]);
  });

  it("asks for credentials, and refuses anything but GET", async () => {
    expect((await get(eventsPath(1), null)).status).toBe(401);
    expect(
      (await get(notesPath(1), `Basic ${Buffer.from(`${PARENT}:wrong`).toString("base64")}`)).status,
    ).toBe(401);
    const post = await fetch(`${sim.url}${eventsPath(1)}`, {
      method: "POST",
      headers: { authorization: AUTH },
    });
    expect(post.status).toBe(405);
  });

  it("replaces a call's records, refusing an unknown call", async () => {
    expect(sim.setCallRecords(sid(99), { origin: { kind: "inbound" } })).toBe(false);
    expect(sim.setCallRecords(sid(1), undefined)).toBe(true);
    expect((await get(eventsPath(1))).body.events).toEqual([]);
    expect(sim.setCallRecords(sid(9), { origin: { kind: "inbound" }, deliveries: [] })).toBe(true);
    expect((await get(eventsPath(9))).body.events).toEqual([]);
    expect(sim.getCall(sid(9))?.records).toEqual({ origin: { kind: "inbound" }, deliveries: [] });
  });

  it("faults a call's records on their own, leaving its fetch alone; the account fault covers them too", async () => {
    const fault = { kind: "http", status: 503, times: 1 } as const;
    sim.setCallRecords(sid(1), { ...recordsForCause(ended(1), "acknowledged"), fault });
    expect((await get(eventsPath(1))).status).toBe(503);
    expect((await get(eventsPath(1))).status).toBe(200);
    sim.setFault(sid(2), { kind: "http", status: 500 });
    expect((await get(eventsPath(2))).status).toBe(200);
    expect((await get(`/2010-04-01/Accounts/${PARENT}/Calls/${sid(2)}.json`)).status).toBe(500);
    sim.setAccountFault({ kind: "http", status: 500, times: 1 });
    expect((await get(notesPath(2))).status).toBe(500);
  });

  it("counts events and notifications requests by route and account", async () => {
    await get(eventsPath(1));
    await get(eventsPath(99));
    await get(notesPath(1));
    await get(eventsPath(8, "", SUB));
    expect(sim.stats).toMatchObject({ requests: 4, fetches: 0, lists: 0, events: 3, notifications: 1 });
    expect(sim.stats.byAccount[PARENT]).toMatchObject({ requests: 3, events: 2, notifications: 1 });
    expect(sim.stats.byAccount[SUB]).toMatchObject({ requests: 1, events: 1, notifications: 0 });
  });
});

describe("Twilio simulator: records options", () => {
  it("serves the records at once with recordsAvailableAfterMs 0, and refuses a negative window", async () => {
    sim = await startTwilioSimulator({
      accountSid: PARENT,
      authToken: TOKEN,
      recordsAvailableAfterMs: 0,
      now: () => END,
      calls: [withCause(ended(1), "acknowledged")],
    });
    try {
      expect((await get(eventsPath(1))).body.events).toHaveLength(6);
    } finally {
      await sim.close();
    }
    await expect(
      startTwilioSimulator({ accountSid: PARENT, authToken: TOKEN, recordsAvailableAfterMs: -1 }),
    ).rejects.toThrow(/recordsAvailableAfterMs must be a finite number >= 0/);
  });
});
