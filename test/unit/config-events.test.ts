import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.js";
import { configFailure } from "../helpers/config-failure.js";

const SID = `AC${"0".repeat(32)}`;
const KEY = `SK${"1".repeat(32)}`;
const URL = "https://reconciler.example.com/twilio/events";

describe("Event Streams settings", () => {
  it("are off by default: no sink, no URL", () => {
    expect(loadConfig({}).events).toEqual({ url: null, sink: null });
  });

  it("EVENTS_URL alone is kept for `events setup` and doctor, without a listener", () => {
    expect(loadConfig({ EVENTS_URL: URL }).events).toEqual({ url: URL, sink: null });
  });

  it("EVENTS_PORT opens the sink with the account's Auth Token, on all addresses by default", () => {
    const c = loadConfig({
      EVENTS_PORT: "9465",
      EVENTS_URL: URL,
      TWILIO_ACCOUNT_SID: SID,
      TWILIO_AUTH_TOKEN: "tok",
    });
    expect(c.events.sink).toEqual({ host: "0.0.0.0", port: 9465, url: URL, authToken: "tok" });
  });

  it("with API key credentials, the Auth Token is still what checks signatures", () => {
    const c = loadConfig({
      EVENTS_PORT: "9465",
      EVENTS_URL: URL,
      TWILIO_ACCOUNT_SID: SID,
      TWILIO_API_KEY: KEY,
      TWILIO_API_SECRET: "secret",
      TWILIO_AUTH_TOKEN: "tok",
    });
    expect(c.twilio?.username).toBe(KEY);
    expect(c.events.sink?.authToken).toBe("tok");
  });

  it("refuses a sink that could not check a signature, or that shares the metrics port", () => {
    expect(configFailure({ EVENTS_PORT: "9465", TWILIO_ACCOUNT_SID: SID, TWILIO_AUTH_TOKEN: "t" })).toMatch(
      /^EVENTS_URL is required with EVENTS_PORT/,
    );
    expect(
      configFailure({
        EVENTS_PORT: "9465",
        EVENTS_URL: URL,
        TWILIO_ACCOUNT_SID: SID,
        TWILIO_API_KEY: KEY,
        TWILIO_API_SECRET: "s",
      }),
    ).toMatch(/^TWILIO_AUTH_TOKEN is required with EVENTS_PORT/);
    expect(
      configFailure({
        EVENTS_PORT: "9464",
        EVENTS_URL: URL,
        TWILIO_ACCOUNT_SID: SID,
        TWILIO_AUTH_TOKEN: "t",
      }),
    ).toMatch(/^EVENTS_PORT must differ from METRICS_PORT/);
  });

  it("refuses a URL carrying a credential or a query, and a port out of range", () => {
    expect(configFailure({ EVENTS_URL: "https://u:p@example.com/twilio/events" })).toMatch(/EVENTS_URL/);
    expect(configFailure({ EVENTS_URL: "https://example.com/twilio/events?token=x" })).toMatch(/EVENTS_URL/);
    expect(configFailure({ EVENTS_PORT: "70000" })).toMatch(/EVENTS_PORT/);
  });

  it("names a mistyped variable", () => {
    expect(configFailure({ EVENTS_PROT: "9465" })).toMatch(/EVENTS_PORT/);
  });
});
