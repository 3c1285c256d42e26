/**
 * A failed request to Twilio's Events API as one line: which step failed, Twilio's status and error, and a
 * reason the CLI turns into its fix and exit code. The SDK throws its RestException (`status`, `code`,
 * `message`) for any answer outside 2xx, and the transport's error (`code`: ECONNREFUSED, …) otherwise.
 */
import { errorMessage } from "../error-message.js";

export type EventStreamsErrorReason =
  | "auth_failed"
  | "forbidden"
  | "not_found"
  | "rate_limited"
  | "server_error"
  | "bad_request"
  | "timeout"
  | "network"
  | "malformed_response";

export interface EventStreamsError {
  kind: "error";
  reason: EventStreamsErrorReason;
  detail: string;
  httpStatus?: number;
}

/** A step's failure, carried out of the step to the one place that makes it an answer. */
export class EventStreamsStepError extends Error {
  override name = "EventStreamsStepError";
  constructor(
    readonly step: string,
    readonly failure: unknown,
  ) {
    super(`${step}: ${errorMessage(failure)}`);
  }
}

/** An answer that is not what the official description documents. */
export class UnexpectedAnswer extends Error {
  override name = "UnexpectedAnswer";
}

/** Runs one request of a command, naming it in any failure. */
export async function step<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw new EventStreamsStepError(what, err);
  }
}

/** An answer's text is Twilio's or a proxy's: kept to one bounded line. */
const bounded = (s: string, max = 200): string => {
  const line = s.replace(/\s+/g, " ").trim();
  return line.length > max ? `${line.slice(0, max)}…` : line;
};

const field = (err: unknown, name: string): unknown =>
  typeof err === "object" && err !== null && name in err ? (err as Record<string, unknown>)[name] : undefined;

/** The HTTP status of the SDK's RestException, if the error is one. */
export function httpStatusOf(err: unknown): number | null {
  const status = field(err, "status");
  return typeof status === "number" && status >= 100 && status < 600 ? status : null;
}

export function eventStreamsError(err: unknown): EventStreamsError {
  const what = err instanceof EventStreamsStepError ? err.step : "asking Twilio's Events API";
  const cause = err instanceof EventStreamsStepError ? err.failure : err;
  const status = httpStatusOf(cause);
  if (status !== null) {
    const code = field(cause, "code");
    const twilio =
      code === undefined
        ? ""
        : ` (Twilio error ${bounded(String(code), 16)}: ${bounded(errorMessage(cause))})`;
    const detail = `HTTP ${status} ${what}${twilio}`;
    const reason: EventStreamsErrorReason =
      status === 401
        ? "auth_failed"
        : status === 403
          ? "forbidden"
          : status === 404
            ? "not_found"
            : status === 429
              ? "rate_limited"
              : status >= 500
                ? "server_error"
                : "bad_request";
    return { kind: "error", reason, detail, httpStatus: status };
  }
  if (cause instanceof UnexpectedAnswer) {
    return { kind: "error", reason: "malformed_response", detail: `${what}: ${bounded(cause.message)}` };
  }
  const code = String(field(cause, "code") ?? "");
  const message = bounded(errorMessage(cause));
  if (code === "ECONNABORTED" || code === "ETIMEDOUT" || /timeout/i.test(message)) {
    return { kind: "error", reason: "timeout", detail: `no answer in time ${what} (${message})` };
  }
  return {
    kind: "error",
    reason: "network",
    detail: `could not reach Twilio ${what} (${code || "error"}: ${message})`,
  };
}
