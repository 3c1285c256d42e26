/**
 * The account's phone numbers whose inbound calls never report their end. An IncomingPhoneNumber carries a
 * `status_callback`, or a `voice_application_sid` whose Application carries one; with neither, Twilio has
 * nowhere to send a call's `completed` (the shape: `api.v2010.account.incoming_phone_number` in Twilio's
 * OpenAPI description twilio_api_v2010.json). A number routed to a SIP trunk (`trunk_sid`) gets no status
 * callbacks at all, which the trunk's own settings decide, so it is counted apart.
 */
import { safeJson } from "../json.js";
import type { TwilioClient } from "./twilio-client.js";

/** One page of the largest size Twilio allows: a cheap read, and all of most accounts' numbers. */
const NUMBERS_PAGE_SIZE = 1000;
/** Phone numbers named in a finding: enough to act on, short enough for one line. */
const NAMED_AT_MOST = 5;

export interface NumbersFinding {
  kind: "numbers";
  total: number;
  /** Numbers with neither a status callback nor an application. */
  withoutCallback: string[];
  /** Numbers whose callback, if any, is their Application's (not read here). */
  viaApplication: number;
  viaTrunk: number;
  /** More numbers than one page: only the first page was read. */
  partial: boolean;
}

export type NumbersAnswer = NumbersFinding | { kind: "error"; detail: string; authFailed: boolean };

const text = (v: unknown): string | null => (typeof v === "string" && v.trim() !== "" ? v : null);

/** Pure: what one page of IncomingPhoneNumbers.json says. */
export function numbersFinding(body: unknown): NumbersFinding | null {
  const parsed = typeof body === "string" ? safeJson(body) : body;
  if (typeof parsed !== "object" || parsed === null) return null;
  const list = (parsed as { incoming_phone_numbers?: unknown }).incoming_phone_numbers;
  if (!Array.isArray(list)) return null;
  const finding: NumbersFinding = {
    kind: "numbers",
    total: list.length,
    withoutCallback: [],
    viaApplication: 0,
    viaTrunk: 0,
    partial: text((parsed as { next_page_uri?: unknown }).next_page_uri) !== null,
  };
  for (const item of list) {
    const n = (typeof item === "object" && item !== null ? item : {}) as Record<string, unknown>;
    if (text(n.trunk_sid) !== null) finding.viaTrunk++;
    else if (text(n.status_callback) !== null) continue;
    else if (text(n.voice_application_sid) !== null) finding.viaApplication++;
    else finding.withoutCallback.push(text(n.phone_number) ?? text(n.sid) ?? "(a number without a name)");
  }
  return finding;
}

export async function readNumbers(client: TwilioClient, accountSid: string): Promise<NumbersAnswer> {
  const uri = `${client.accountPath(accountSid)}/IncomingPhoneNumbers.json?PageSize=${NUMBERS_PAGE_SIZE}`;
  let response: Awaited<ReturnType<TwilioClient["get"]>>;
  try {
    response = await client.get(uri);
  } catch (err) {
    const code = typeof err === "object" && err !== null && "code" in err ? String(err.code) : "error";
    return { kind: "error", detail: `could not reach Twilio (${code})`, authFailed: false };
  }
  if (response.statusCode !== 200) {
    const authFailed = response.statusCode === 401 || response.statusCode === 403;
    return { kind: "error", detail: `HTTP ${response.statusCode} listing phone numbers`, authFailed };
  }
  return (
    numbersFinding(response.body) ?? {
      kind: "error",
      detail: "the phone number list is not the JSON Twilio documents",
      authFailed: false,
    }
  );
}

/** One line for the doctor: what is missing and where to set it. */
export function describeNumbers(f: NumbersFinding): { ok: boolean; detail: string } {
  const scope = f.partial ? `the first ${f.total} numbers` : `${f.total} numbers`;
  const others = [
    f.viaApplication > 0 ? `${f.viaApplication} use an Application's status callback (not read here)` : "",
    f.viaTrunk > 0 ? `${f.viaTrunk} are routed to a SIP trunk (no status callbacks)` : "",
  ].filter((s) => s !== "");
  const rest = others.length > 0 ? `; ${others.join(", ")}` : "";
  if (f.withoutCallback.length === 0) {
    return { ok: true, detail: `${scope}: every one reports call ends or uses an Application${rest}` };
  }
  const named = f.withoutCallback.slice(0, NAMED_AT_MOST).join(", ");
  const more =
    f.withoutCallback.length > NAMED_AT_MOST ? ` and ${f.withoutCallback.length - NAMED_AT_MOST} more` : "";
  return {
    ok: false,
    detail: `${f.withoutCallback.length} of ${scope} have no status callback, so inbound calls to them never report their end (${named}${more}): set the number's Call Status Changes webhook${rest}`,
  };
}
