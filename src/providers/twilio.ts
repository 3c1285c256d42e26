import twilio from "twilio";
import type { TwilioCredentials } from "../config/config.js";
import { errorMessage } from "../error-message.js";
import { safeJson } from "../json.js";
import type { Asked, TwilioEvidence, TwilioListAnswer, TwilioLiveStatus } from "../model/index.js";
import { parseRetryAfter } from "../retry/retry-after.js";
import { requestIdFrom } from "./request-id.js";
import {
  type AskedCall,
  isOwnCallsPageUri,
  normaliseCallsPage,
  normaliseTwilioCall,
} from "./twilio-normalise.js";

export interface TwilioProbeOptions {
  credentials: TwilioCredentials;
  /** https://api.twilio.com in production; the simulator's URL in tests and the demo. */
  baseUrl: string;
  timeoutMs: number;
  /** Off in tests: under nock 14 the SDK's keep-alive agent makes mocked requests hang. */
  keepAlive?: boolean;
}

export interface TwilioProbe {
  /** Every answer about a well-formed SID carries `asked`: the SID, the account and Twilio's request id. */
  fetchCall(callSid: string): Promise<TwilioEvidence>;
  /** One page of the calls in `status`, the largest page Twilio allows; `pageUri` from the previous page. */
  listCallsPage(status: TwilioLiveStatus, pageUri: string | null): Promise<TwilioListAnswer>;
}

/** Twilio's maximum page size: a few requests list tens of thousands of live calls. */
export const LIST_PAGE_SIZE = 1000;

const CALL_SID = /^CA[0-9a-fA-F]{32}$/;

export function isCallSid(callSid: string): boolean {
  return CALL_SID.test(callSid);
}

/** Twilio's id of the request, on every answer of its REST API (errors included). */
const REQUEST_ID_HEADER = "Twilio-Request-Id";

/** What a fetch asked: the Call SID, the account whose Calls resource it was, and Twilio's request id. */
export function twilioAsked(callSid: string, accountSid: string, headers?: unknown): Asked {
  const requestId = requestIdFrom(headers, REQUEST_ID_HEADER);
  return { sid: callSid, account: accountSid, ...(requestId !== undefined ? { requestId } : {}) };
}

/**
 * Asks Twilio about one call through the official SDK's client (auth, user agent, HTTP agent), using its
 * generic `request()` with an absolute URI so that TWILIO_API_BASE_URL can point at a simulator (the SDK has
 * no base-URL option) and so that the raw JSON can be normalised without the SDK's date trap.
 */
export function createTwilioProbe(opts: TwilioProbeOptions): TwilioProbe {
  const { credentials } = opts;
  const client = twilio(credentials.username, credentials.password, {
    accountSid: credentials.accountSid,
    // Retries belong to one layer (ours): the SDK's autoRetry covers only 429 and ignores Retry-After.
    httpClient: new twilio.RequestClient({
      keepAlive: opts.keepAlive ?? true,
      timeout: opts.timeoutMs,
      autoRetry: false,
    }),
  });
  // The SDK rewrites every request's host name with TWILIO_REGION / TWILIO_EDGE (api.twilio.com becomes
  // api.dublin.ie1.twilio.com), and mangles a two-label host even without them (twilio-sim.internal becomes
  // twilio-sim.internal.twilio-sim.internal). That is for Twilio's own hosts only: a TWILIO_API_BASE_URL of
  // another host (a simulator, a proxy) is used exactly as given.
  if (!new URL(opts.baseUrl).hostname.endsWith(".twilio.com")) client.getHostname = (hostname) => hostname;
  const accountPath = `${opts.baseUrl}/2010-04-01/Accounts/${encodeURIComponent(credentials.accountSid)}`;

  return {
    async fetchCall(callSid) {
      if (!CALL_SID.test(callSid)) {
        return {
          kind: "error",
          reason: "bad_request",
          detail: `${JSON.stringify(callSid)} is not a Twilio Call SID`,
        };
      }
      let response: { statusCode: number; body: unknown; headers?: Record<string, unknown> };
      try {
        response = await client.request({ method: "get", uri: `${accountPath}/Calls/${callSid}.json` });
      } catch (err) {
        return { ...transportError(err), asked: twilioAsked(callSid, credentials.accountSid) };
      }
      const headers = response.headers ?? {};
      const evidence = evidenceFromResponse(response.statusCode, response.body, headers, {
        callSid,
        accountSid: credentials.accountSid,
      });
      return { ...evidence, asked: twilioAsked(callSid, credentials.accountSid, headers) };
    },

    async listCallsPage(status, pageUri) {
      // Checked again here: a page URI is only ever followed under the account this probe lists.
      if (pageUri !== null && !isOwnCallsPageUri(pageUri, credentials.accountSid)) {
        return {
          kind: "error",
          reason: "bad_request",
          detail: "page URI is not under the Calls list of the configured account",
        };
      }
      const uri =
        pageUri === null
          ? `${accountPath}/Calls.json?Status=${encodeURIComponent(status)}&PageSize=${LIST_PAGE_SIZE}`
          : `${opts.baseUrl}${pageUri}`;
      let response: { statusCode: number; body: unknown; headers?: Record<string, unknown> };
      try {
        response = await client.request({ method: "get", uri });
      } catch (err) {
        return transportError(err) as Extract<TwilioEvidence, { kind: "error" }>;
      }
      if (response.statusCode === 200) {
        const body = typeof response.body === "string" ? safeJson(response.body) : response.body;
        return normaliseCallsPage(body, credentials.accountSid);
      }
      const e = errorFromResponse(response.statusCode, response.body, response.headers ?? {});
      // A 404 on the list itself means a wrong account SID, not an unknown call.
      return e.kind === "error"
        ? e
        : { kind: "error", reason: "bad_request", detail: `HTTP ${response.statusCode} listing calls` };
    },
  };
}

/** The answer to a fetch of one call: a 200 must be about exactly the call and account asked for. */
export function evidenceFromResponse(
  statusCode: number,
  body: unknown,
  headers: Record<string, unknown>,
  asked: AskedCall,
): TwilioEvidence {
  if (statusCode === 200) {
    // axios hands back the raw string when the body is not valid JSON.
    if (typeof body === "string") {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        return {
          kind: "error",
          reason: "malformed_response",
          detail: "response body is not valid JSON",
          httpStatus: 200,
        };
      }
      return normaliseTwilioCall(parsed, asked);
    }
    return normaliseTwilioCall(body, asked);
  }
  return errorFromResponse(statusCode, body, headers);
}

/** Any answer but a 200: a 404 is `not_found` (proves nothing), the rest are errors. */
function errorFromResponse(
  statusCode: number,
  body: unknown,
  headers: Record<string, unknown>,
): TwilioEvidence {
  const detail = `HTTP ${statusCode}${twilioErrorSuffix(body)}`;
  if (statusCode === 404) return { kind: "not_found" };
  if (statusCode === 401 || statusCode === 403) {
    return { kind: "error", reason: "auth_failed", detail, httpStatus: statusCode };
  }
  if (statusCode === 429) {
    const retryAfterMs = parseRetryAfter(headers["retry-after"]);
    return {
      kind: "error",
      reason: "rate_limited",
      detail,
      httpStatus: statusCode,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    };
  }
  if (statusCode >= 500) return { kind: "error", reason: "server_error", detail, httpStatus: statusCode };
  return { kind: "error", reason: "bad_request", detail, httpStatus: statusCode };
}

function twilioErrorSuffix(body: unknown): string {
  const parsed = typeof body === "string" ? safeJson(body) : body;
  if (typeof parsed === "object" && parsed !== null && "code" in parsed) {
    const { code, message } = parsed as { code?: unknown; message?: unknown };
    return ` (Twilio error ${String(code)}${typeof message === "string" ? `: ${message}` : ""})`;
  }
  return "";
}

function transportError(err: unknown): TwilioEvidence {
  const code = typeof err === "object" && err !== null && "code" in err ? String(err.code) : "";
  const message = errorMessage(err);
  if (code === "ECONNABORTED" || code === "ETIMEDOUT" || /timeout/i.test(message)) {
    return { kind: "error", reason: "timeout", detail: `request timed out: ${message}` };
  }
  return { kind: "error", reason: "network", detail: `${code || "error"}: ${message}` };
}
