import { PassThrough } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { runDoctor } from "../../src/cli/doctor.js";
import type { Check } from "../../src/cli/doctor-check.js";
import { loadConfig } from "../../src/config/config.js";
import { createLogger } from "../../src/log.js";
import { ACCOUNT_SID, activeRow, type Matrix, sid, startMatrix, whole } from "../helpers/matrix.js";

const START = whole(Date.now() - 3600_000);
const SUB = `AC${"a".repeat(32)}`;
/** Not a subaccount of the configured account: the simulator refuses the parent's credentials there. */
const STRANGER = `AC${"d".repeat(32)}`;
const ACCOUNT_COLUMN = { CALLS_COL_TWILIO_ACCOUNT: "twilio_account_sid" };

async function doctor(
  m: Matrix,
  env: Record<string, string> = {},
): Promise<{ code: number; checks: Map<string, Check> }> {
  const config = loadConfig({
    DATABASE_URL: m.db.url,
    TWILIO_ACCOUNT_SID: ACCOUNT_SID,
    TWILIO_AUTH_TOKEN: m.config.twilio?.password ?? "",
    TWILIO_API_BASE_URL: m.twilio.url,
    OPENAI_API_KEY: m.config.openaiApiKey ?? "",
    OPENAI_BASE_URL: m.openai.url,
    ...ACCOUNT_COLUMN,
    ...env,
  });
  const out = new PassThrough();
  let text = "";
  out.on("data", (c: Buffer) => {
    text += c.toString();
  });
  const code = await runDoctor(config, createLogger("silent"), { json: true, out });
  const { checks } = JSON.parse(text) as { checks: Check[] };
  return { code, checks: new Map(checks.map((c) => [c.name, c])) };
}

describe("doctor asks each provider one cheap authenticated read (real Postgres, both simulators)", () => {
  let m: Matrix | undefined;
  afterEach(async () => {
    await m?.close();
    m = undefined;
  });

  it("every subaccount the rows name, the phone numbers whose inbound calls never report their end, the OpenAI key", async () => {
    m = await startMatrix(
      [
        activeRow("parent", START, { sid: sid("parent") }),
        activeRow("sub", START, { sid: sid("sub"), account: SUB }),
        activeRow("stranger", START, { sid: sid("stranger"), account: STRANGER }),
      ],
      ACCOUNT_COLUMN,
      { twilioSubaccounts: [SUB] },
    );
    m.twilio.upsertNumber({
      phoneNumber: "+14155550100",
      statusCallback: "https://app.example/twilio/status",
    });
    m.twilio.upsertNumber({ phoneNumber: "+14155550101" });
    m.twilio.upsertNumber({ phoneNumber: "+14155550102", voiceApplicationSid: `AP${"1".repeat(32)}` });
    const before = m.twilio.stats;
    const { code, checks } = await doctor(m);
    expect(code).toBe(2);
    expect(checks.get("twilio")?.state).toBe("pass");
    expect(checks.get("subaccounts")).toMatchObject({
      state: "fail",
      detail: expect.stringMatching(
        new RegExp(`1 of 2 subaccounts the active rows name refused: ${STRANGER} `),
      ),
    });
    expect(checks.get("subaccounts")?.detail).not.toContain(SUB);
    expect(checks.get("phone numbers")).toMatchObject({
      state: "warn",
      detail: expect.stringMatching(
        /^1 of 3 numbers have no status callback, so inbound calls to them never report their end \(\+14155550101\): .*1 use an Application/,
      ),
    });
    expect(checks.get("openai")).toMatchObject({ state: "pass", detail: expect.stringMatching(/accepted/) });
    // One page per account and one of numbers: nothing else was asked.
    expect(m.twilio.stats.requests - before.requests).toBe(4);
    expect(m.openai.stats.handshakes).toBe(0);
  });

  it("a wrong OpenAI key fails in one line; reachable subaccounts and numbers that all report pass", async () => {
    m = await startMatrix([activeRow("sub", START, { sid: sid("sub"), account: SUB })], ACCOUNT_COLUMN, {
      twilioSubaccounts: [SUB],
    });
    m.twilio.upsertNumber({
      phoneNumber: "+14155550100",
      statusCallback: "https://app.example/twilio/status",
    });
    const { code, checks } = await doctor(m, { OPENAI_API_KEY: "sk-wrong-key-000000" });
    expect(code).toBe(2);
    expect(checks.get("subaccounts"), JSON.stringify([...checks.values()])).toMatchObject({ state: "pass" });
    expect(checks.get("phone numbers")).toMatchObject({ state: "pass" });
    expect(checks.get("openai")).toMatchObject({
      state: "fail",
      detail: expect.stringMatching(/^OPENAI_API_KEY refused \(.*Incorrect API key.*\): set a key/),
    });
  });
});
