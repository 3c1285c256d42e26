import type { Readable } from "node:stream";
import { boundedText, errorMessage } from "../error-message.js";
import { safeJson } from "../json.js";
import {
  type Asked,
  type CallRecordsKind,
  isCallSid,
  type ProviderProbes,
  type TwilioEvidence,
  type TwilioListQuery,
} from "../model/index.js";
import { parseRetryAfter } from "../retry/retry-after.js";
import { requestIdFrom } from "./request-id.js";
import {
  createTwilioClient,
  MAX_TWILIO_BODY_BYTES,
  type TwilioClient,
  type TwilioClientOptions,
  type TwilioResponse,
} from "./twilio-client.js";
import { readCallsPage } from "./twilio-list-page.js";
import { type AskedCall, isOwnCallsPageUri, normaliseTwilioCall } from "./twilio-normalise.js";

export type TwilioProbeOptions = TwilioClientOptions;

/**
 * The pass's Twilio port, unguarded (the policies wrap it in guarded.ts), with the records' reads always there.
 * Every request takes a `signal`: aborted (its attempt timed out, its pass ended), the request is destroyed with
 * its socket and the answer is a timeout. `fetchCall` asks under `account`, or the configured account when null;
 * every answer about a well-formed SID and account carries `asked`. `listCallsPage` reads a page as it arrives,
 * keeping only what the diff needs (see twilio-list-page.ts).
 */
export type TwilioProbe = Required<NonNullable<ProviderProbes["twilio"]>> & Pick<TwilioClient, "ready">;

/**
 * A call's records are few (a create request, a TwiML fetch, a handful of callbacks): one page of this size
 * holds them, so a diagnosis costs one request per kind.
 */
const RECORDS_PAGE_SIZE = 100;
const RECORDS_PATH: Record<CallRecordsKind, string> = { events: "Events", notifications: "Notifications" };

/** Twilio's maximum page size: a few requests list tens of thousands of live calls. */
export const LIST_PAGE_SIZE = 1000;

/** The shape is the domain's: the same test routes a shared id column's values (see routeSharedId). */
export { isCallSid };

const ACCOUNT_SID = /^AC[0-9a-fA-F]{32}$/;

/** An account SID read from the app's table is checked before it can become part of a URL. */
export function isAccountSid(accountSid: string): boolean {
  return ACCOUNT_SID.test(accountSid);
}

/** The answer for a Call SID that is not one: nothing is sent. The column may hold any text, of any length. */
function notACallSid(callSid: string): Extract<TwilioEvidence, { kind: "error" }> {
  return {
    kind: "error",
    reason: "bad_request",
    detail: `${JSON.stringify(boundedText(callSid, 64))} is not a Twilio Call SID`,
  };
}

/** The answer for a row whose account column holds something that is not an Account SID: nothing is sent. */
export function notAnAccount(account: string): Extract<TwilioEvidence, { kind: "error" }> {
  return {
    kind: "error",
    reason: "bad_request",
    detail: `${JSON.stringify(account.slice(0, 64))} is not a Twilio Account SID (AC + 32 hex digits)`,
  };
}

/** Twilio's StartTime filter value: whole seconds, UTC, as the SDK serialises a Date. */
const startTimeParam = (d: Date): string => `${d.toISOString().slice(0, 19)}Z`;

/** The first page's query string of one listing. */
function listQueryString(query: TwilioListQuery): string {
  const q = new URLSearchParams({ Status: query.status, PageSize: String(LIST_PAGE_SIZE) });
  if (query.startedFrom !== undefined) q.set("StartTime>", startTimeParam(query.startedFrom));
  if (query.startedTo !== undefined) q.set("StartTime<", startTimeParam(query.startedTo));
  return q.toString();
}

/** Twilio's id of the request, on every answer of its REST API (errors included). */
const REQUEST_ID_HEADER = "Twilio-Request-Id";

/** What a fetch asked: the Call SID, the account whose Calls resource it was, and Twilio's request id. */
export function twilioAsked(callSid: string, accountSid: string, headers?: unknown): Asked {
  const requestId = requestIdFrom(headers, REQUEST_ID_HEADER);
  return { sid: callSid, account: accountSid, ...(requestId !== undefined ? { requestId } : {}) };
}

/** Asks Twilio about calls: one call by SID, or a page of an account's calls in one status. */
export function createTwilioProbe(
  opts: TwilioProbeOptions,
  /** The SDK client to ask through; a caller that also reads other resources hands in its own. */
  client: TwilioClient = createTwilioClient(opts),
): TwilioProbe {
  const { credentials } = opts;
  const { accountPath } = client;

  return {
    ready: client.ready,
    async fetchCall(callSid, account, signal) {
      const accountSid = account ?? credentials.accountSid;
      if (!ACCOUNT_SID.test(accountSid)) return notAnAccount(accountSid);
      if (!isCallSid(callSid)) return notACallSid(callSid);
      let response: TwilioResponse;
      try {
        response = await client.get(`${accountPath(accountSid)}/Calls/${callSid}.json`, { signal });
      } catch (err) {
        return { ...transportError(err, signal), asked: twilioAsked(callSid, accountSid) };
      }
      const headers = response.headers ?? {};
      const evidence = evidenceFromResponse(response.statusCode, response.body, headers, {
        callSid,
        accountSid,
      });
      return { ...evidence, asked: twilioAsked(callSid, accountSid, headers) };
    },

    async fetchCallRecords(kind, callSid, account, signal) {
      if (!ACCOUNT_SID.test(account)) return notAnAccount(account);
      if (!isCallSid(callSid)) return notACallSid(callSid);
      let response: TwilioResponse;
      try {
        response = await client.get(
          `${accountPath(account)}/Calls/${callSid}/${RECORDS_PATH[kind]}.json?PageSize=${RECORDS_PAGE_SIZE}`,
          { signal },
        );
      } catch (err) {
        return transportError(err, signal) as Extract<TwilioEvidence, { kind: "error" }>;
      }
      if (response.statusCode === 200) {
        const body = typeof response.body === "string" ? safeJson(response.body) : response.body;
        return body === undefined
          ? {
              kind: "error",
              reason: "malformed_response",
              detail: "response body is not valid JSON",
              httpStatus: 200,
            }
          : { kind: "page", body };
      }
      const e = errorFromResponse(response.statusCode, response.body, response.headers ?? {});
      // The call itself is known (the daemon just ended it on Twilio's word): a 404 here is no record at all.
      return e.kind === "error"
        ? e
        : { kind: "error", reason: "bad_request", detail: `HTTP 404 reading ${kind}` };
    },

    async listCallsPage(query, pageUri, signal) {
      const accountSid = query.account ?? credentials.accountSid;
      if (!ACCOUNT_SID.test(accountSid)) return notAnAccount(accountSid);
      // Checked again here: a page URI is only ever followed under the account this listing is for.
      if (pageUri !== null && !isOwnCallsPageUri(pageUri, accountSid)) {
        return {
          kind: "error",
          reason: "bad_request",
          detail: "page URI is not under the Calls list of the account being listed",
        };
      }
      const uri =
        pageUri === null
          ? `${accountPath(accountSid)}/Calls.json?${listQueryString(query)}`
          : `${opts.baseUrl}${pageUri}`;
      try {
        const response = await client.getStream(uri, { signal });
        if (response.statusCode === 200) return await readCallsPage(response.body, accountSid);
        // An error's body is small (Twilio's code and message); the size bound still applies to it.
        const text = await readText(response.body);
        const e = errorFromResponse(response.statusCode, text, response.headers ?? {});
        // A 404 on the list itself means a wrong account SID, not an unknown call.
        return e.kind === "error"
          ? e
          : { kind: "error", reason: "bad_request", detail: `HTTP ${response.statusCode} listing calls` };
      } catch (err) {
        return transportError(err, signal) as Extract<TwilioEvidence, { kind: "error" }>;
      }
    },
  };
}

async function readText(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
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

/** Any answer but a 200: a 404 is `not_found` (proves nothing), a 408 a timeout, the rest are errors. */
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
  // Request Timeout: no answer in time, as when the socket waits too long (OpenAI's adapter says the same).
  if (statusCode === 408) return { kind: "error", reason: "timeout", detail, httpStatus: statusCode };
  if (statusCode >= 500) return { kind: "error", reason: "server_error", detail, httpStatus: statusCode };
  return { kind: "error", reason: "bad_request", detail, httpStatus: statusCode };
}

function twilioErrorSuffix(body: unknown): string {
  const parsed = typeof body === "string" ? safeJson(body) : body;
  if (typeof parsed === "object" && parsed !== null && "code" in parsed) {
    const { code, message } = parsed as { code?: unknown; message?: unknown };
    return ` (Twilio error ${boundedText(String(code), 16)}${typeof message === "string" ? `: ${boundedText(message)}` : ""})`;
  }
  return "";
}

function transportError(err: unknown, signal: AbortSignal | undefined): TwilioEvidence {
  const code = typeof err === "object" && err !== null && "code" in err ? String(err.code) : "";
  const message = errorMessage(err);
  // Cancelled by us (its attempt timed out, its pass ended, its provider was stopped): not a network fault.
  if (signal?.aborted === true)
    return { kind: "error", reason: "timeout", detail: "given up before Twilio answered: request cancelled" };
  if (/maxContentLength/.test(message)) {
    // Not a failure another attempt fixes: the same answer would come again.
    return {
      kind: "error",
      reason: "malformed_response",
      detail: `answer larger than ${MAX_TWILIO_BODY_BYTES / 1024 / 1024} MB: not read`,
    };
  }
  // Bounded like any text that did not come from this code: an error may quote what the server sent.
  if (code === "ECONNABORTED" || code === "ETIMEDOUT" || /timeout/i.test(message)) {
    return { kind: "error", reason: "timeout", detail: `request timed out: ${boundedText(message)}` };
  }
  return { kind: "error", reason: "network", detail: boundedText(`${code || "error"}: ${message}`) };
}
