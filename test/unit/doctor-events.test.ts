/**
 * The doctor's Event Streams lines, after the Twilio lines they follow: none without EVENTS_URL; with it, a sink
 * that posts there, its status, its subscription to call ends, and the numbers whose calls send no status
 * callback for Event Streams to copy. Twilio is nock, answering as its OpenAPI descriptions document.
 */
import nock from "nock";
import { describe, expect, it } from "vitest";
import { twilioChecks } from "../../src/cli/doctor-providers.js";
import { loadConfig } from "../../src/config/config.js";
import {
  ACCOUNT,
  COMPLETED,
  EVENTS_URL,
  listMeta,
  nockOnly,
  SINK,
  SUB,
  sinkJson,
  subscriptionJson,
  TWILIO_BASE,
  twilioConfig,
} from "../helpers/twilio-nock.js";

const number = (phone: string, statusCallback: string) => ({
  sid: `PN${"0".repeat(32)}`,
  phone_number: phone,
  status_callback: statusCallback,
  voice_application_sid: null,
  trunk_sid: null,
});

/** The Twilio lines' two reads: one page of calls in progress, one page of numbers. */
function twilioAccount(numbers = [number("+15550000000", "https://app.example/status")]) {
  return nock(TWILIO_BASE)
    .get(`/2010-04-01/Accounts/${ACCOUNT}/Calls.json`)
    .query(true)
    .reply(200, { calls: [], next_page_uri: null })
    .get(`/2010-04-01/Accounts/${ACCOUNT}/IncomingPhoneNumbers.json`)
    .query(true)
    .reply(200, { incoming_phone_numbers: numbers, next_page_uri: null });
}

function eventStreams(
  scope: nock.Scope,
  opts: { sinks?: Record<string, unknown>[]; types?: string[] } = {},
): nock.Scope {
  const sinks = (opts.sinks ?? []).map(sinkJson);
  scope
    .get("/v1/Sinks")
    .query(true)
    .reply(200, { sinks, meta: listMeta("sinks") });
  if (sinks.length === 0) return scope;
  const types = opts.types ?? [];
  scope
    .get("/v1/Subscriptions")
    .query({ SinkSid: SINK, PageSize: "1000" })
    .reply(200, {
      subscriptions: types.length > 0 ? [subscriptionJson] : [],
      meta: listMeta("subscriptions"),
    });
  if (types.length > 0)
    scope
      .get(`/v1/Subscriptions/${SUB}/SubscribedEvents`)
      .query(true)
      .reply(200, {
        types: types.map((type) => ({ type, schema_version: 1, subscription_sid: SUB })),
        meta: listMeta("types"),
      });
  return scope;
}

const eventLines = (checks: { name: string; state: string; detail: string }[]) =>
  checks.filter((c) => c.name.startsWith("event "));
/** The Event Streams lines when the one line is the sink's warning. */
const sinkWarning = (detail: string) => [{ name: "event sink", state: "warn", detail }];

nockOnly();

describe("doctor: Event Streams", () => {
  it("without EVENTS_URL has no Event Streams line and asks nothing of the Events API", async () => {
    const scope = twilioAccount();
    const checks = await twilioChecks(twilioConfig(), [], false);
    expect(scope.isDone()).toBe(true);
    expect(eventLines(checks)).toEqual([]);
  });

  it("passes a sink at the URL that is active and subscribed to call ends", async () => {
    const scope = eventStreams(twilioAccount(), { sinks: [{}], types: [COMPLETED] });
    const checks = await twilioChecks(twilioConfig(), [], false, EVENTS_URL);
    expect(scope.isDone()).toBe(true);
    expect(eventLines(checks)).toEqual([
      { name: "event sink", state: "pass", detail: `sink ${SINK} posts to ${EVENTS_URL}` },
      { name: "event sink status", state: "pass", detail: `sink ${SINK} is active` },
      { name: "event subscription", state: "pass", detail: `sink ${SINK} is subscribed to ${COMPLETED}` },
    ]);
  });

  it("no sink at the URL warns with the command that makes one (a sink elsewhere does not count)", async () => {
    eventStreams(twilioAccount());
    const checks = await twilioChecks(twilioConfig(), [], false, EVENTS_URL);
    expect(eventLines(checks)).toEqual(
      sinkWarning(`no Event Streams sink of ${ACCOUNT} posts to ${EVENTS_URL}: call-reconciler events setup`),
    );
    const elsewhere = eventStreams(twilioAccount(), {
      sinks: [{ sink_configuration: { destination: `${EVENTS_URL}/other`, method: "POST" } }],
    });
    expect(eventLines(await twilioChecks(twilioConfig(), [], false, EVENTS_URL))).toMatchObject([
      { name: "event sink", state: "warn" },
    ]);
    expect(elsewhere.pendingMocks()).toEqual([expect.stringMatching(/\/v1\/Subscriptions/)]);
  });

  it("a failed sink and a subscription without call ends warn, naming the status and the fix", async () => {
    eventStreams(twilioAccount(), {
      sinks: [{ status: "failed" }],
      types: ["com.twilio.voice.status-callback.call.ringing"],
    });
    const checks = eventLines(await twilioChecks(twilioConfig(), [], false, EVENTS_URL));
    expect(checks.map((c) => [c.name, c.state])).toEqual([
      ["event sink", "pass"],
      ["event sink status", "warn"],
      ["event subscription", "warn"],
    ]);
    expect(checks[1]?.detail).toMatch(new RegExp(`sink ${SINK} is failed: Twilio could not deliver to`));
    expect(checks[2]?.detail).toBe(
      `sink ${SINK} is not subscribed to ${COMPLETED}, so no call end reaches it: call-reconciler events setup`,
    );
  });

  it("warns that numbers without a status callback send nothing Event Streams could copy", async () => {
    eventStreams(
      twilioAccount([
        number("+15550000000", "https://app.example/status"),
        number("+15551112222", ""),
        number("+15553334444", ""),
      ]),
      { sinks: [{}], types: [COMPLETED] },
    );
    const checks = eventLines(await twilioChecks(twilioConfig(), [], false, EVENTS_URL));
    expect(checks.at(-1)).toEqual({
      name: "event coverage",
      state: "warn",
      detail:
        "2 of 3 phone numbers request no status callback: Twilio sends no event for their calls, so Event Streams cannot hasten their ends; the passes still find them",
    });
  });

  it("an Events API that refuses only warns: Event Streams hastens what the passes do anyway", async () => {
    twilioAccount()
      .get("/v1/Sinks")
      .query(true)
      .reply(403, { code: 20403, message: "Forbidden", status: 403 });
    const checks = eventLines(await twilioChecks(twilioConfig(), [], false, EVENTS_URL));
    expect(checks).toEqual(
      sinkWarning(
        "could not read the account's Event Streams (HTTP 403 listing the sinks (Twilio error 20403: Forbidden)): the credentials may lack access to the Events API",
      ),
    );
  });

  it("an EVENTS_URL Twilio could not be told to use warns without asking", async () => {
    const scope = twilioAccount();
    const checks = eventLines(
      await twilioChecks(twilioConfig(), [], false, "http://reconciler.example.com/e"),
    );
    expect(scope.isDone()).toBe(true);
    expect(checks).toEqual(
      sinkWarning(
        "EVENTS_URL must be https:// (plain http only to 127.0.0.1, localhost or [::1], for a local test)",
      ),
    );
  });

  it("with EVENTS_URL but no Twilio credentials, says no sink can be checked", async () => {
    const bare = loadConfig({ DATABASE_URL: "postgres://u:p@localhost/db" });
    expect(eventLines(await twilioChecks(bare, [], false, EVENTS_URL))).toEqual(
      sinkWarning("EVENTS_URL is set, but without Twilio's credentials no sink can be checked or set up"),
    );
  });
});
