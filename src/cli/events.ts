/**
 * `events setup` and `events teardown`: the account's Event Streams sink at the daemon's events URL and its
 * subscription to call ends, made or removed through Twilio's Events API. One line per account; running
 * either twice changes nothing the second time.
 */
import type { Config } from "../config/config.js";
import {
  CALL_END_EVENT_TYPES,
  createEventStreams,
  type EventStreams,
  type EventStreamsError,
  type SetUp,
  type TornDown,
} from "../providers/twilio-event-streams.js";
import { EXIT, UsageError } from "./errors.js";
import { terminalText } from "./terminal-text.js";

export interface EventsOptions {
  url: string;
  json: boolean;
  out: NodeJS.WritableStream;
  /** Off in tests: under nock the SDK's keep-alive agent makes mocked requests hang. */
  keepAlive?: boolean;
}

/** A line holds a URL, sids and Twilio's message: long, but never a page. */
const LINE_WIDTH = 2000;

/** What the operator can do about a failed request, by its reason. */
const FIX: Record<EventStreamsError["reason"], string> = {
  auth_failed: ": check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or TWILIO_API_KEY + TWILIO_API_SECRET)",
  forbidden:
    ": these credentials may not manage Event Streams: use the Auth Token, or an API key allowed to (a restricted key needs the Events permissions)",
  not_found: ": TWILIO_API_BASE_URL must reach Twilio's Events API (unset, it does)",
  rate_limited: ": Twilio is limiting requests; run the command again in a minute",
  server_error: ": Twilio failed; run the command again (it goes on from what exists)",
  timeout: ": run the command again (it goes on from what exists)",
  network: ": check this host's route to Twilio, then run the command again",
  bad_request: "",
  malformed_response: "",
};

/** Credentials refused are configuration (2); anything else may pass on another try (1). */
const errorExit = (e: EventStreamsError): number =>
  e.reason === "auth_failed" || e.reason === "forbidden" ? EXIT.badConfig : EXIT.zombiesLeft;

const failedLine = (account: string, doing: string, e: EventStreamsError): string =>
  `${account}: ${doing} failed: ${e.detail}${FIX[e.reason]}`;

function streamsOf(config: Config, command: string, keepAlive: boolean): EventStreams[] {
  if (config.twilio === null)
    throw new UsageError(
      `${command}: Twilio is not configured: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or TWILIO_API_KEY + TWILIO_API_SECRET)`,
    );
  const options = {
    credentials: config.twilio,
    baseUrl: config.twilioApiBaseUrl,
    timeoutMs: config.providerTimeoutMs,
    keepAlive,
  };
  // The configured account: a sink and its subscriptions belong to the account whose credentials made them.
  return [createEventStreams(options)];
}

const types = (t: readonly { type: string; schemaVersion: number }[]) =>
  t.map((x) => `${x.type} (schema ${x.schemaVersion})`).join(", ");

export function setupLine(url: string, a: SetUp): string {
  const { sink, subscription } = a;
  const made = sink.created ? "created sink" : "already: sink";
  const owner = sink.ours ? "" : ` (not made by call-reconciler: ${JSON.stringify(sink.description)})`;
  const sinkPart = `${made} ${sink.sid} posts to ${url}${owner}, ${sink.status}`;
  if (subscription === null)
    return `${a.account}: ${sinkPart}; not subscribed: Twilio subscribes only an active sink; run setup again once it is active`;
  const subPart = subscription.created
    ? `subscribed it (${subscription.sid}) to ${types(subscription.added)}`
    : subscription.added.length > 0
      ? `added ${types(subscription.added)} to its subscription ${subscription.sid}`
      : `already subscribed (${subscription.sid}) to ${CALL_END_EVENT_TYPES.join(", ")}`;
  return `${a.account}: ${sinkPart}; ${subPart}`;
}

export function teardownLine(url: string, a: TornDown): string {
  const parts = [
    ...a.removedSubscriptions.map((s) => `removed subscription ${s}`),
    ...a.removedSinks.map((s) => `removed sink ${s}`),
    ...a.keptSinks.map((s) => `kept sink ${s}: another subscription still uses it`),
  ];
  const done =
    parts.length > 0 ? parts.join(", ") : `already: no sink or subscription of call-reconciler at ${url}`;
  const foreign =
    a.foreignSinks.length > 0
      ? `; left ${a.foreignSinks.length} sink(s) at the URL that call-reconciler did not make (${a.foreignSinks.join(", ")})`
      : "";
  return `${a.account}: ${done}${foreign}`;
}

/** How one command reads its answer: its line, and whether it is done. */
interface Action<T> {
  doing: string;
  act: (s: EventStreams) => Promise<T | EventStreamsError>;
  line: (a: T) => string;
  done: (a: T) => boolean;
}

const isError = (a: { kind: string }): a is EventStreamsError => a.kind === "error";

async function run<T extends { kind: string }>(
  opts: EventsOptions,
  streams: EventStreams[],
  action: Action<T>,
): Promise<number> {
  const accounts: ({ account: string } & (T | EventStreamsError))[] = [];
  const lines: string[] = [];
  let exit: number = EXIT.ok;
  for (const s of streams) {
    const a = await action.act(s);
    accounts.push({ account: s.account, ...a });
    if (isError(a)) {
      lines.push(failedLine(s.account, action.doing, a));
      exit = Math.max(exit, errorExit(a));
    } else {
      lines.push(action.line(a));
      if (!action.done(a)) exit = Math.max(exit, EXIT.zombiesLeft);
    }
  }
  // Twilio's words and the URL are quoted in the lines: shown escaped, as every command's output is.
  opts.out.write(
    opts.json
      ? `${JSON.stringify({ url: opts.url, accounts }, null, 2)}\n`
      : `${lines.map((l) => terminalText(l, LINE_WIDTH)).join("\n")}\n`,
  );
  return exit;
}

export function runEventsSetup(config: Config, opts: EventsOptions): Promise<number> {
  return run(opts, streamsOf(config, "events setup", opts.keepAlive ?? false), {
    doing: "Event Streams setup",
    act: (s) => s.setup(opts.url),
    line: (a) => setupLine(opts.url, a),
    done: (a) => a.subscription !== null,
  });
}

export function runEventsTeardown(config: Config, opts: EventsOptions): Promise<number> {
  return run(opts, streamsOf(config, "events teardown", opts.keepAlive ?? false), {
    doing: "Event Streams teardown",
    act: (s) => s.teardown(opts.url),
    line: (a) => teardownLine(opts.url, a),
    done: () => true,
  });
}
