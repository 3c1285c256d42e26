import { type ServerResponse, STATUS_CODES } from "node:http";

/** A response computed before it is written, so that faults can rewrite or replace it. */
export interface Reply {
  status: number;
  body: string;
  headers?: Record<string, string>;
  /** Send the body one byte every this many ms (a `drip` fault). */
  dripMs?: number;
}

/** Twilio's codes for the few statuses whose code is not simply 20000 + status. */
const SPECIAL_CODES: Record<number, { code: number; message: string }> = {
  401: { code: 20003, message: "Authenticate" },
  405: { code: 20004, message: "Method not allowed" },
};

export function jsonReply(status: number, value: unknown, headers?: Record<string, string>): Reply {
  return { status, body: JSON.stringify(value), ...(headers ? { headers } : {}) };
}

/** Twilio's error body `{code, message, more_info, status}`. */
export function twilioError(status: number, message?: string, headers?: Record<string, string>): Reply {
  const special = SPECIAL_CODES[status];
  const code = special?.code ?? 20000 + status;
  const text = message ?? special?.message ?? STATUS_CODES[status] ?? "Error";
  const extra = status === 401 ? { "WWW-Authenticate": 'Basic realm="Twilio API"', ...headers } : headers;
  return jsonReply(
    status,
    { code, message: text, more_info: `https://www.twilio.com/docs/errors/${code}`, status },
    extra,
  );
}

export function notFound(path: string): Reply {
  return twilioError(404, `The requested resource ${path} was not found`);
}

/** Half of a JSON document never parses, which is what a cut connection or a broken proxy delivers. */
export function malformed(reply: Reply): Reply {
  return { status: 200, body: reply.body.slice(0, Math.max(1, Math.floor(reply.body.length / 2))) };
}

type CallJson = Record<string, unknown>;

/**
 * A 200 about calls (one call's resource, or a list page) with each call rewritten; any other answer (an error,
 * a call's records, the numbers) is left as it is. `rewrite` gets each call's index on its page.
 */
export function rewriteCalls(reply: Reply, rewrite: (call: CallJson, index: number) => CallJson): Reply {
  if (reply.status !== 200) return reply;
  const body = JSON.parse(reply.body) as CallJson;
  if (Array.isArray(body.calls)) {
    const calls = (body.calls as CallJson[]).map(rewrite);
    return { ...reply, body: JSON.stringify({ ...body, calls }) };
  }
  const isCall = typeof body.sid === "string" && body.sid.startsWith("CA") && "status" in body;
  return isCall ? { ...reply, body: JSON.stringify(rewrite(body, 0)) } : reply;
}

/** Writes the headers, then the body a byte at a time; stops when the client goes or `closing` aborts. */
function drip(res: ServerResponse, body: string, everyMs: number, closing?: AbortSignal): void {
  let at = 0;
  const timer = setInterval(() => {
    if (res.destroyed || closing?.aborted === true) {
      clearInterval(timer);
      res.destroy();
      return;
    }
    res.write(body.slice(at, at + 1));
    at++;
    if (at >= body.length) {
      clearInterval(timer);
      res.end();
    }
  }, everyMs);
  res.once("close", () => clearInterval(timer));
}

/** Returns false when the client is already gone. */
export function sendReply(res: ServerResponse, reply: Reply, closing?: AbortSignal): boolean {
  if (res.destroyed || res.writableEnded) return false;
  res.writeHead(reply.status, {
    "Content-Type": "application/json",
    // An explicit length keeps keep-alive clients (axios, undici) from waiting for the socket to close.
    "Content-Length": String(Buffer.byteLength(reply.body)),
    ...reply.headers,
  });
  if (reply.dripMs !== undefined) drip(res, reply.body, reply.dripMs, closing);
  else res.end(reply.body);
  return true;
}

export function parseBasicAuth(header: string | undefined): { user: string; pass: string } | null {
  const match = header ? /^Basic\s+(\S+)\s*$/i.exec(header) : null;
  if (!match?.[1]) return null;
  const decoded = Buffer.from(match[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return null;
  return { user: decoded.slice(0, colon), pass: decoded.slice(colon + 1) };
}

const FETCH_RE = /^\/2010-04-01\/Accounts\/([^/]+)\/Calls\/([^/]+)\.json$/;
const LIST_RE = /^\/2010-04-01\/Accounts\/([^/]+)\/Calls\.json$/;
const RECORDS_RE = /^\/2010-04-01\/Accounts\/([^/]+)\/Calls\/([^/]+)\/(Events|Notifications)\.json$/;
const NUMBERS_RE = /^\/2010-04-01\/Accounts\/([^/]+)\/IncomingPhoneNumbers\.json$/;

export type Route =
  | { kind: "fetch" | "events" | "notifications"; account: string; sid: string }
  | { kind: "list"; account: string }
  | { kind: "numbers"; account: string }
  | null;

export type RouteKind = NonNullable<Route>["kind"];

/** Which resource a path names: one call, a call's events or notifications, or an account's list. */
export function matchRoute(pathname: string): Route {
  const fetch = FETCH_RE.exec(pathname);
  if (fetch?.[1] && fetch[2]) return { kind: "fetch", account: fetch[1], sid: fetch[2] };
  const list = LIST_RE.exec(pathname);
  if (list?.[1]) return { kind: "list", account: list[1] };
  const records = RECORDS_RE.exec(pathname);
  if (records?.[1] && records[2]) {
    const kind = records[3] === "Events" ? "events" : "notifications";
    return { kind, account: records[1], sid: records[2] };
  }
  const numbers = NUMBERS_RE.exec(pathname);
  if (numbers?.[1]) return { kind: "numbers", account: numbers[1] };
  return null;
}
