import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/log.js";
import { callEndedEvent } from "../../src/notify/event.js";
import { createWebhookNotifier } from "../../src/notify/webhook.js";

/** The notify URL in the logs: origin and path, never a user, a password or a query. */
describe("the webhook notifier never logs its URL whole", () => {
  const event = callEndedEvent({
    callId: "call-1",
    status: "completed",
    endedAt: new Date("2026-01-01T00:00:00Z"),
    source: "twilio",
    runId: "run-1",
  });

  function capture() {
    let out = "";
    const stream = new Writable({
      write(chunk, _enc, cb) {
        out += String(chunk);
        cb();
      },
    });
    return { logger: createLogger("debug", stream), text: () => out };
  }

  it("logs a failed delivery with origin + path only, even when the error quotes the URL", async () => {
    const url = "https://hooks.example.com:8443/calls/ended?k=hunter2-query";
    const { logger, text } = capture();
    const notifier = createWebhookNotifier({
      url,
      secret: "s",
      logger,
      maxAttempts: 2,
      initialBackoffMs: 1,
      fetch: async (input) => {
        throw new TypeError(`fetch failed for ${String(input)}`);
      },
    });
    notifier.notify(event);
    await notifier.drain(5_000);
    const logged = text();
    expect(logged).toContain("not delivered after 2 attempts");
    expect(logged).toContain("https://hooks.example.com:8443/calls/ended");
    expect(logged).not.toContain("hunter2");
  });

  it("refuses a URL with a user or password, without repeating it", () => {
    const { logger } = capture();
    expect(() =>
      createWebhookNotifier({ url: "https://u:hunter2@hooks.example.com/x", secret: "s", logger }),
    ).toThrow(/^the notify URL must not contain a user or password; the signature authenticates$/);
  });
});
