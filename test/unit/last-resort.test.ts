import { EventEmitter } from "node:events";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { shutDownOnUnexpectedError } from "../../src/cli/last-resort.js";

/** A logger writing JSON lines into an array. */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: "info" },
    { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  return { logger, lines };
}

describe("the daemon's last resort for an unexpected error", () => {
  it("an unhandled rejection is logged once with its stack and starts the clean shutdown, once", () => {
    const events = new EventEmitter();
    const { logger, lines } = capturingLogger();
    let shutdowns = 0;
    const handler = shutDownOnUnexpectedError(events, logger, () => shutdowns++);
    expect(handler.fired()).toBe(false);

    events.emit("unhandledRejection", Object.assign(new Error("terminating connection"), { code: "57P01" }));
    expect(shutdowns).toBe(1);
    expect(handler.fired()).toBe(true);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 60, err: "terminating connection", alreadyShuttingDown: false });
    expect(String(lines[0]?.stack)).toContain("last-resort.test.ts");

    // A second one while shutting down is logged, and does not start a second shutdown.
    events.emit("uncaughtException", "a thrown string");
    expect(shutdowns).toBe(1);
    expect(lines[1]).toMatchObject({ level: 60, err: "a thrown string", alreadyShuttingDown: true });
    expect(lines[1]).not.toHaveProperty("stack");
  });

  it("removed, it no longer listens", () => {
    const events = new EventEmitter();
    const { logger } = capturingLogger();
    const handler = shutDownOnUnexpectedError(events, logger, () => {});
    expect(events.listenerCount("unhandledRejection")).toBe(1);
    expect(events.listenerCount("uncaughtException")).toBe(1);
    handler.remove();
    expect(events.listenerCount("unhandledRejection")).toBe(0);
    expect(events.listenerCount("uncaughtException")).toBe(0);
  });
});
