import nock from "nock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { openaiCheck, twilioChecks } from "../../src/cli/doctor-providers.js";
import { numbersFinding } from "../../src/providers/twilio-numbers.js";
import { ACCOUNT, TWILIO_BASE, twilioConfig } from "../helpers/twilio-nock.js";

const SUB_OK = `AC${"b".repeat(32)}`;
const SUB_CLOSED = `AC${"c".repeat(32)}`;
const OPENAI = "https://openai.example/v1";

const config = (extra: Record<string, string> = {}) =>
  twilioConfig({ OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: OPENAI, ...extra });

const callsPath = (account: string) => `/2010-04-01/Accounts/${account}/Calls.json`;
const numbersPath = `/2010-04-01/Accounts/${ACCOUNT}/IncomingPhoneNumbers.json`;
const emptyCalls = { calls: [], next_page_uri: null, page: 0, page_size: 1000 };
const number = (fields: Record<string, unknown>) => ({
  sid: `PN${"0".repeat(32)}`,
  phone_number: "+15550000000",
  status_callback: "",
  voice_application_sid: null,
  trunk_sid: null,
  ...fields,
});

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

describe("numbersFinding: which numbers never report a call's end", () => {
  it.each([
    ["a status callback", { status_callback: "https://app.example/status" }, [], 0, 0],
    ["an Application", { voice_application_sid: `AP${"1".repeat(32)}` }, [], 1, 0],
    ["a SIP trunk", { trunk_sid: `TK${"1".repeat(32)}` }, [], 0, 1],
    ["nothing", { phone_number: "+15551112222" }, ["+15551112222"], 0, 0],
    [
      "a blank status callback",
      { status_callback: "  ", phone_number: "+15553334444" },
      ["+15553334444"],
      0,
      0,
    ],
  ])("a number with %s", (_label, fields, without, viaApplication, viaTrunk) => {
    expect(numbersFinding({ incoming_phone_numbers: [number(fields)], next_page_uri: null })).toEqual({
      kind: "numbers",
      total: 1,
      withoutCallback: without,
      viaApplication,
      viaTrunk,
      partial: false,
    });
  });

  it.each([["not json"], [{}], [{ incoming_phone_numbers: "x" }], [null]])(
    "an unreadable page %j is null",
    (b) => {
      expect(numbersFinding(b)).toBeNull();
    },
  );

  it("a further page makes the finding partial", () => {
    expect(
      numbersFinding({ incoming_phone_numbers: [], next_page_uri: `${numbersPath}?Page=1` })?.partial,
    ).toBe(true);
  });
});

describe("the doctor's Twilio checks", () => {
  it("one page per account, the subaccounts the rows name, and the numbers without a status callback", async () => {
    const twilio = nock(TWILIO_BASE)
      .get(callsPath(ACCOUNT))
      .query(true)
      .reply(200, emptyCalls)
      .get(callsPath(SUB_OK))
      .query(true)
      .reply(200, emptyCalls)
      .get(callsPath(SUB_CLOSED))
      .query(true)
      .reply(401, { code: 20003, message: "Authenticate", status: 401 })
      .get(numbersPath)
      .query({ PageSize: "1000" })
      .reply(200, {
        incoming_phone_numbers: [
          number({ status_callback: "https://app.example/status" }),
          number({ phone_number: "+15550001111" }),
          number({ phone_number: "+15550002222" }),
        ],
        next_page_uri: null,
      });
    const checks = await twilioChecks(config(), [SUB_OK, SUB_CLOSED], false);
    expect(twilio.isDone()).toBe(true);
    expect(checks.map((c) => [c.name, c.state])).toEqual([
      ["twilio", "pass"],
      ["subaccounts", "fail"],
      ["phone numbers", "warn"],
    ]);
    expect(checks[1]?.detail).toMatch(
      new RegExp(
        `1 of 2 subaccounts .*${SUB_CLOSED} \\(HTTP 401.*check that each is a subaccount of TWILIO_ACCOUNT_SID`,
      ),
    );
    expect(checks[1]?.detail).not.toContain(SUB_OK);
    expect(checks[2]?.detail).toMatch(
      /2 of 3 numbers have no status callback, so inbound calls to them never report their end \(\+15550001111, \+15550002222\): set the number's Call Status Changes webhook/,
    );
  });

  it("refused credentials stop at the first check, naming the settings", async () => {
    nock(TWILIO_BASE)
      .get(callsPath(ACCOUNT))
      .query(true)
      .reply(401, { code: 20003, message: "Authenticate" });
    const checks = await twilioChecks(config(), [SUB_OK], false);
    expect(checks).toEqual([
      {
        name: "twilio",
        state: "fail",
        detail: expect.stringMatching(/HTTP 401.*check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN/),
      },
    ]);
  });

  it("every number reporting its end passes; an unreadable number list only warns", async () => {
    nock(TWILIO_BASE)
      .get(callsPath(ACCOUNT))
      .query(true)
      .reply(200, emptyCalls)
      .get(numbersPath)
      .query(true)
      .reply(200, { incoming_phone_numbers: [number({ status_callback: "https://a.example/s" })] });
    expect((await twilioChecks(config(), [], false)).at(-1)).toMatchObject({ state: "pass" });
    nock(TWILIO_BASE)
      .get(callsPath(ACCOUNT))
      .query(true)
      .reply(200, emptyCalls)
      .get(numbersPath)
      .query(true)
      .reply(403, {});
    expect((await twilioChecks(config(), [], false)).at(-1)).toMatchObject({
      name: "phone numbers",
      state: "warn",
      detail: expect.stringMatching(/HTTP 403.*may lack access to IncomingPhoneNumbers/),
    });
  });
});

describe("the doctor's OpenAI check: one read of the model list", () => {
  const models = () =>
    nock("https://openai.example").get("/v1/models").matchHeader("authorization", "Bearer sk-test");

  it.each([
    [
      200,
      { object: "list", data: [{ id: "gpt-realtime", object: "model" }] },
      "pass",
      /OPENAI_API_KEY accepted/,
    ],
    [
      401,
      { error: { message: "Incorrect API key provided.", code: "invalid_api_key" } },
      "fail",
      /OPENAI_API_KEY refused \(.*Incorrect API key.*\): set a key/,
    ],
    [403, { error: { message: "Missing scopes: api.model.read" } }, "warn", /valid but may not list models/],
    [503, { error: { message: "overloaded" } }, "warn", /could not check OPENAI_API_KEY: HTTP 503/],
  ])("answered %i: %s", async (status, body, state, detail) => {
    const scope = models().reply(status, body);
    expect(await openaiCheck(config())).toMatchObject({
      name: "openai",
      state,
      detail: expect.stringMatching(detail),
    });
    expect(scope.isDone()).toBe(true);
  });

  it("an error text of any size is copied bounded", async () => {
    models().reply(401, { error: { message: "x".repeat(50_000) } });
    expect((await openaiCheck(config())).detail.length).toBeLessThan(400);
  });

  it("no key, or the probe off: nothing is asked", async () => {
    expect(await openaiCheck(config({ OPENAI_PROBE: "off" }))).toMatchObject({ state: "warn" });
    expect(nock.pendingMocks()).toEqual([]);
  });
});

describe("the doctor's OpenAI check when nothing answers", () => {
  it("names the URL it could not reach", async () => {
    expect((await openaiCheck(config())).detail).toMatch(
      /could not check OPENAI_API_KEY: could not reach https:\/\/openai.example\/v1/,
    );
  });
});
