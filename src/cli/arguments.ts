import { parseArgs } from "node:util";
import { errorMessage } from "../error-message.js";
import { UsageError } from "./errors.js";

/** Each command's flags, as node:util parseArgs reads them. */
const FLAGS = {
  run: {},
  audit: {
    apply: { type: "boolean" },
    force: { type: "boolean" },
    "confirm-realtime-absences": { type: "boolean" },
    "confirm-age-bound": { type: "boolean" },
    json: { type: "boolean" },
  },
  migrate: { "with-calls-table": { type: "boolean" } },
  doctor: { json: { type: "boolean" } },
  demo: { table: { type: "string" }, sqlite: { type: "boolean" } },
  simulate: {
    live: { type: "string" },
    ended: { type: "string" },
    unknown: { type: "string" },
    "twilio-port": { type: "string" },
    "openai-port": { type: "string" },
    host: { type: "string" },
  },
  revert: {
    run: { type: "string" },
    call: { type: "string" },
    apply: { type: "boolean" },
    json: { type: "boolean" },
  },
  report: { since: { type: "string" }, call: { type: "string" }, json: { type: "boolean" } },
  hold: { reason: { type: "string" } },
  release: {},
  events: { url: { type: "string" }, json: { type: "boolean" } },
} as const;

export type Command = keyof typeof FLAGS;

/** Commands that take one call id after their options (`hold <call-id>`). */
export const TAKES_CALL_ID: ReadonlySet<Command> = new Set(["hold", "release"]);

/** `events <action>`: what each action is. */
const EVENTS_ACTIONS = ["setup", "teardown"] as const;
export type EventsAction = (typeof EVENTS_ACTIONS)[number];

/** A command's flags and positionals; a mistake is a one-line usage error. */
export function parse(command: Command, args: string[]) {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: { ...FLAGS[command], help: { type: "boolean", short: "h" } },
      allowPositionals: TAKES_CALL_ID.has(command) || command === "events",
      strict: true,
    });
    return { flags: values as Record<string, string | boolean | undefined>, positionals };
  } catch (err) {
    // parseArgs explains some mistakes over several lines; a usage error is one line.
    throw new UsageError(`${command}: ${errorMessage(err).replace(/\s*\n\s*/g, " ")} (see --help)`);
  }
}

/** A flag's value when it is text. */
export const text = (v: string | boolean | undefined): string | undefined =>
  typeof v === "string" ? v : undefined;

/** The one call id of `hold` / `release`. */
export function callIdOf(command: Command, positionals: string[]): string {
  const [id, ...extra] = positionals;
  if (id === undefined || id.trim() === "" || extra.length > 0)
    throw new UsageError(
      `${command}: give exactly one call id: call-reconciler ${command} <call-id> (see --help)`,
    );
  return id.trim();
}

/** The one action of `events`, or null for `events --help` without one. */
export function eventsActionOf(positionals: string[], help: boolean): EventsAction | null {
  const [action, ...extra] = positionals;
  if (action === undefined && help) return null;
  if (!EVENTS_ACTIONS.includes(action as EventsAction) || extra.length > 0)
    throw new UsageError(
      "events: give one action: call-reconciler events setup|teardown [--url <url>] (see --help)",
    );
  return action as EventsAction;
}

/** Whether `name` is a command: one of its own, never a name every object has (`constructor`). */
export const isCommand = (name: string): name is Command => Object.hasOwn(FLAGS, name);
