/** One Twilio account for the unit tests that answer Twilio on nock: its config, its Event Streams sink and subscription. */
import nock from "nock";
import { afterEach, beforeEach } from "vitest";
import { type Config, loadConfig } from "../../src/config/config.js";
import {
  CALL_END_EVENT_TYPES,
  SINK_DESCRIPTION,
  SUBSCRIPTION_DESCRIPTION,
} from "../../src/providers/twilio-event-streams.js";

export const ACCOUNT = `AC${"a".repeat(32)}`;
export const EVENTS_URL = "https://reconciler.example.com/twilio/events";
export const COMPLETED = CALL_END_EVENT_TYPES[0];
export const SINK = `DG${"1".repeat(32)}`;
export const SUB = `DF${"1".repeat(32)}`;
/** Where the config sends Twilio's requests: nock answers them there. */
export const TWILIO_BASE = "https://api.twilio.example";

export const twilioConfig = (extra: Record<string, string> = {}): Config =>
  loadConfig({
    DATABASE_URL: "postgres://u:p@localhost/db",
    TWILIO_ACCOUNT_SID: ACCOUNT,
    TWILIO_AUTH_TOKEN: "t".repeat(32),
    TWILIO_API_BASE_URL: TWILIO_BASE,
    PROVIDER_TIMEOUT_MS: "2000",
    ...extra,
  });

/** The `meta` of one page of an Events API list, the only page. */
export const listMeta = (key: string) => ({
  key,
  page: 0,
  page_size: 1000,
  url: TWILIO_BASE,
  first_page_url: TWILIO_BASE,
  next_page_url: null,
});

/** The account's sink as the Events API lists it: ours, an active webhook posting to EVENTS_URL, unless `over` says otherwise. */
export const sinkJson = (over: Record<string, unknown> = {}) => ({
  sid: SINK,
  status: "active",
  sink_type: "webhook",
  sink_configuration: { destination: EVENTS_URL, method: "POST" },
  description: SINK_DESCRIPTION,
  ...over,
});

/** Our subscription of the sink. */
export const subscriptionJson = {
  sid: SUB,
  sink_sid: SINK,
  account_sid: ACCOUNT,
  description: SUBSCRIPTION_DESCRIPTION,
};

/** Lets no request of the file's tests leave the process, and leaves no interceptor from one test to the next. */
export function nockOnly(): void {
  beforeEach(() => nock.disableNetConnect());
  afterEach(() => {
    nock.cleanAll();
    nock.enableNetConnect();
  });
}
