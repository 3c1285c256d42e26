/**
 * The URL Twilio's Event Streams post to, as `events setup` and `teardown` take it: `--url`, else EVENTS_URL.
 * Twilio sends the account's call events there, signed with its Auth Token, so it must be HTTPS; plain HTTP
 * only on this machine's loopback, where a local test runs the simulator.
 */
import { UsageError } from "./errors.js";

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

export function eventsUrl(command: string, flag: string | undefined, setting: string | undefined): string {
  const given = flag ?? setting;
  if (given === undefined || given.trim() === "")
    throw new UsageError(
      `${command}: give the URL Twilio posts the events to: --url https://… or EVENTS_URL (see --help)`,
    );
  const from = flag !== undefined ? "--url" : "EVENTS_URL";
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    throw new UsageError(`${command}: ${from} is not a URL`);
  }
  // The URL is printed and is the sink's destination, readable by anyone who can list the sinks: no secret.
  if (url.username !== "" || url.password !== "")
    throw new UsageError(
      `${command}: ${from} carries a user name or password: Twilio's signature proves the sender`,
    );
  if (url.hash !== "") throw new UsageError(`${command}: ${from} has a #fragment, which no request carries`);
  if (url.protocol === "https:") return given;
  if (url.protocol === "http:" && LOOPBACK.has(url.hostname)) return given;
  throw new UsageError(
    `${command}: ${from} must be https:// (plain http only to 127.0.0.1, localhost or [::1], for a local test)`,
  );
}
