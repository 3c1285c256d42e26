/**
 * The URL Twilio's Event Streams post to, as `events setup` and `teardown` take it: `--url`, else EVENTS_URL.
 * Twilio sends the account's call events there, signed with its Auth Token, so it must be HTTPS; plain HTTP
 * only on this machine's loopback, where a local test runs the simulator.
 */
import { UsageError } from "./errors.js";

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** What is wrong with a URL given by `from` (`--url`, EVENTS_URL), or null. */
export function eventsUrlProblem(from: string, given: string): string | null {
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    return `${from} is not a URL`;
  }
  // The URL is printed and is the sink's destination, readable by anyone who can list the sinks: no secret.
  if (url.username !== "" || url.password !== "")
    return `${from} carries a user name or password: Twilio's signature proves the sender`;
  if (url.hash !== "") return `${from} has a #fragment, which no request carries`;
  if (url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK.has(url.hostname))) return null;
  return `${from} must be https:// (plain http only to 127.0.0.1, localhost or [::1], for a local test)`;
}

/** The URL a command works on, exactly as given: it must equal the sink's destination. */
export function eventsUrl(command: string, flag: string | undefined, setting: string | undefined): string {
  const given = flag ?? setting;
  if (given === undefined || given.trim() === "")
    throw new UsageError(
      `${command}: give the URL Twilio posts the events to: --url https://… or EVENTS_URL (see --help)`,
    );
  const problem = eventsUrlProblem(flag !== undefined ? "--url" : "EVENTS_URL", given);
  if (problem !== null) throw new UsageError(`${command}: ${problem}`);
  return given;
}
