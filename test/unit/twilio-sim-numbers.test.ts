import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startTwilioSimulator, type TwilioSimulator } from "../../src/sim/twilio-sim.js";
import { phoneNumberSid } from "../../src/sim/twilio-sim-numbers.js";

const PARENT = "AC00000000000000000000000000000001";
const SUB = "AC0000000000000000000000000000000a";
const STRANGER = "AC0000000000000000000000000000000f";
const TOKEN = "parent-token";
const AUTH = `Basic ${Buffer.from(`${PARENT}:${TOKEN}`).toString("base64")}`;
const at = (minute: number) => new Date(Date.UTC(2026, 10, 1, 10, minute, 0));
const APP = `AP${"1".repeat(32)}`;

let sim: TwilioSimulator;
// biome-ignore lint/suspicious/noExplicitAny: the tests read arbitrary Twilio JSON and assert on it.
type Json = any;
async function get(path: string, auth: string | null = AUTH): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${sim.url}${path}`, auth ? { headers: { authorization: auth } } : {});
  return { status: res.status, body: await res.json() };
}
const numbersPath = (query = "", account = PARENT) =>
  `/2010-04-01/Accounts/${account}/IncomingPhoneNumbers.json${query}`;
const numbersOf = (body: Json) => body.incoming_phone_numbers.map((n: Json) => n.phone_number) as string[];

describe("Twilio simulator: IncomingPhoneNumbers", () => {
  beforeEach(async () => {
    sim = await startTwilioSimulator({
      accountSid: PARENT,
      authToken: TOKEN,
      subaccounts: [SUB],
      numbers: [
        {
          phoneNumber: "+14155550100",
          statusCallback: "https://app.example.com/twilio/status",
          statusCallbackMethod: "POST",
          voiceUrl: "https://app.example.com/twilio/voice",
          dateCreated: at(1),
        },
        { phoneNumber: "+14155550101", voiceUrl: "https://app.example.com/twilio/voice", dateCreated: at(2) },
        { phoneNumber: "+14155550102", voiceApplicationSid: APP, statusCallback: null, dateCreated: at(3) },
        { phoneNumber: "+442071838750", friendlyName: "London desk", dateCreated: at(4) },
        { phoneNumber: "+14155550199", accountSid: SUB, dateCreated: at(5) },
      ],
    });
  });
  afterEach(async () => sim.close());

  it("lists an account's numbers with Twilio's fields, oldest first", async () => {
    const { status, body } = await get(numbersPath());
    expect(status).toBe(200);
    expect(numbersOf(body)).toEqual(["+14155550100", "+14155550101", "+14155550102", "+442071838750"]);
    const [withCallback, without, viaApp, london] = body.incoming_phone_numbers;
    expect(withCallback).toMatchObject({
      sid: phoneNumberSid("+14155550100"),
      account_sid: PARENT,
      phone_number: "+14155550100",
      friendly_name: "(415) 555-0100",
      status_callback: "https://app.example.com/twilio/status",
      status_callback_method: "POST",
      voice_url: "https://app.example.com/twilio/voice",
      voice_method: "POST",
      voice_application_sid: null,
      trunk_sid: null,
      api_version: "2010-04-01",
      date_created: "Sun, 01 Nov 2026 10:01:00 +0000",
      uri: `/2010-04-01/Accounts/${PARENT}/IncomingPhoneNumbers/${phoneNumberSid("+14155550100")}.json`,
    });
    expect(withCallback.sid).toMatch(/^PN[0-9a-f]{32}$/);
    expect(without).toMatchObject({ status_callback: "", status_callback_method: "POST" });
    expect(viaApp).toMatchObject({ status_callback: null, voice_application_sid: APP, voice_url: null });
    expect(london.friendly_name).toBe("London desk");
    expect(body).toMatchObject({ page: 0, page_size: 50, start: 0, end: 3, next_page_uri: null });
  });

  it("pages with PageSize, keeping the PhoneNumber filter", async () => {
    const first = await get(numbersPath("?PageSize=3"));
    expect(numbersOf(first.body)).toHaveLength(3);
    expect(first.body.next_page_uri).toContain("PageSize=3");
    const second = await get(first.body.next_page_uri);
    expect(second.body).toMatchObject({ page: 1, start: 3, end: 3, next_page_uri: null });
    expect(numbersOf(second.body)).toEqual(["+442071838750"]);
    const one = await get(numbersPath("?PhoneNumber=%2B14155550101&PageSize=1"));
    expect(numbersOf(one.body)).toEqual(["+14155550101"]);
    expect(one.body.first_page_uri).toContain("PhoneNumber=%2B14155550101");
  });

  it("keeps each account's numbers apart; another account's list is not found", async () => {
    expect(numbersOf((await get(numbersPath("", SUB))).body)).toEqual(["+14155550199"]);
    expect((await get(numbersPath("", STRANGER))).status).toBe(404);
  });

  it("asks for credentials and counts the requests", async () => {
    expect((await get(numbersPath(), null)).status).toBe(401);
    await get(numbersPath("", SUB));
    expect(sim.stats).toMatchObject({ requests: 2, numbers: 2, fetches: 0, lists: 0 });
    expect(sim.stats.byAccount[SUB]).toMatchObject({ requests: 1, numbers: 1 });
  });

  it("adds, replaces and removes numbers", async () => {
    sim.upsertNumber({ phoneNumber: "+14155550101", statusCallback: "https://app.example.com/s" });
    sim.upsertNumber({ phoneNumber: "+14155550103", dateCreated: at(9) });
    expect(sim.removeNumber(phoneNumberSid("+14155550100"))).toBe(true);
    expect(sim.removeNumber(phoneNumberSid("+14155550100"))).toBe(false);
    const { body } = await get(numbersPath());
    expect(numbersOf(body)).toEqual(["+14155550101", "+14155550102", "+442071838750", "+14155550103"]);
    expect(body.incoming_phone_numbers[0].status_callback).toBe("https://app.example.com/s");
  });
});
