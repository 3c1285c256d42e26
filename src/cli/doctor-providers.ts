/**
 * The doctor's provider checks: cheap authenticated reads only. To Twilio one page of in-progress calls per
 * account (the configured one and the subaccounts the active rows name) and one page of phone numbers; to
 * OpenAI one page of the model list.
 */
import type { Config } from "../config/config.js";
import { checkOpenAIKey } from "../providers/openai-credentials.js";
import { createTwilioProbe, type TwilioProbe } from "../providers/twilio.js";
import { createTwilioClient } from "../providers/twilio-client.js";
import { describeNumbers, readNumbers } from "../providers/twilio-numbers.js";
import type { Check } from "./doctor-check.js";
import { eventStreamsChecks } from "./doctor-events.js";

/** Subaccounts asked one page each: enough to catch a closed or foreign one without one request per row. */
const SUBACCOUNTS_CHECKED = 20;

const TWILIO_CREDENTIALS_FIX =
  ": check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or TWILIO_API_KEY + TWILIO_API_SECRET)";

/**
 * One authenticated request of one page of in-progress calls for the configured account and for each
 * subaccount the active rows name, and one page of the account's phone numbers.
 */
export async function twilioChecks(
  config: Config,
  subaccounts: readonly string[],
  keepAlive: boolean,
  /** EVENTS_URL as set: with it, the Event Streams lines. */
  eventsUrl: string | undefined = undefined,
): Promise<Check[]> {
  if (config.twilio === null) {
    return [
      {
        name: "twilio",
        state: "warn",
        detail:
          "not configured (TWILIO_ACCOUNT_SID + TWILIO_AUTH_TOKEN): rows with a Call SID stay unverified",
      },
      ...(eventsUrl === undefined
        ? []
        : [
            {
              name: "event sink",
              state: "warn" as const,
              detail: "EVENTS_URL is set, but without Twilio's credentials no sink can be checked or set up",
            },
          ]),
    ];
  }
  const credentials = config.twilio;
  const options = {
    credentials,
    baseUrl: config.twilioApiBaseUrl,
    timeoutMs: config.providerTimeoutMs,
    keepAlive,
  };
  // One SDK client for the calls pages and the numbers page.
  const client = createTwilioClient(options);
  const twilio = createTwilioProbe(options, client);
  const answer = await twilio.listCallsPage({ account: null, status: "in-progress" }, null);
  if (answer.kind === "error") {
    const fix = answer.reason === "auth_failed" ? TWILIO_CREDENTIALS_FIX : "";
    return [{ name: "twilio", state: "fail", detail: `${answer.detail}${fix}` }];
  }
  const checks: Check[] = [
    {
      name: "twilio",
      state: "pass",
      detail: `credentials accepted for ${credentials.accountSid} (${answer.calls.length} calls in progress on the first page)`,
    },
  ];
  if (subaccounts.length > 0) checks.push(await subaccountCheck(twilio, subaccounts));
  const numbers = await readNumbers(client, credentials.accountSid);
  if (numbers.kind === "error") {
    checks.push({
      name: "phone numbers",
      state: "warn",
      detail: `could not read the account's phone numbers (${numbers.detail})${numbers.authFailed ? ": the credentials may lack access to IncomingPhoneNumbers" : ""}`,
    });
  } else {
    const { ok, detail } = describeNumbers(numbers);
    checks.push({ name: "phone numbers", state: ok ? "pass" : "warn", detail });
  }
  if (eventsUrl !== undefined) checks.push(...(await eventStreamsChecks(eventsUrl, numbers, options)));
  return checks;
}

async function subaccountCheck(twilio: TwilioProbe, subaccounts: readonly string[]): Promise<Check> {
  const asked = subaccounts.slice(0, SUBACCOUNTS_CHECKED);
  const refused: string[] = [];
  for (const account of asked) {
    const page = await twilio.listCallsPage({ account, status: "in-progress" }, null);
    if (page.kind === "error") refused.push(`${account} (${page.detail})`);
  }
  const scope =
    subaccounts.length > asked.length ? `${asked.length} of the ${subaccounts.length}` : `${asked.length}`;
  return refused.length === 0
    ? {
        name: "subaccounts",
        state: "pass",
        detail: `the credentials reach the ${scope} subaccounts the active rows name`,
      }
    : {
        name: "subaccounts",
        state: "fail",
        detail: `${refused.length} of ${scope} subaccounts the active rows name refused: ${refused.slice(0, 3).join("; ")}: check that each is a subaccount of TWILIO_ACCOUNT_SID and is open`,
      };
}

export async function openaiCheck(config: Config): Promise<Check> {
  if (config.openaiApiKey === null || config.openaiProbe === "off") {
    return {
      name: "openai",
      state: "warn",
      detail: "probe off (OPENAI_API_KEY unset or OPENAI_PROBE=off): realtime-only rows stay unverified",
    };
  }
  const answer = await checkOpenAIKey({
    apiKey: config.openaiApiKey,
    baseUrl: config.openaiBaseUrl,
    timeoutMs: config.providerTimeoutMs,
  });
  switch (answer.kind) {
    case "accepted":
      return {
        name: "openai",
        state: "pass",
        detail: "OPENAI_API_KEY accepted (one read of the model list)",
      };
    case "rejected":
      return {
        name: "openai",
        state: "fail",
        detail: `OPENAI_API_KEY refused (${answer.detail}): set a key of the project that receives the SIP calls`,
      };
    case "restricted":
      return {
        name: "openai",
        state: "warn",
        detail: `OPENAI_API_KEY is valid but may not list models (${answer.detail}): whether it reaches realtime calls shows only in a pass`,
      };
    case "error":
      return { name: "openai", state: "warn", detail: `could not check OPENAI_API_KEY: ${answer.detail}` };
  }
}
