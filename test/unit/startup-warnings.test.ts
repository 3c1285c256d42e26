import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { createRuntime, plainWarnings, type Runtime } from "../../src/cli/runtime.js";
import { loadConfig } from "../../src/config/config.js";
import { createLogger } from "../../src/log.js";

/** Lines written to a stream, as they were written. */
function sink(): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(
        ...chunk
          .toString()
          .split("\n")
          .filter((l) => l !== ""),
      );
      done();
    },
  });
  return { lines, stream };
}

// Nothing connects: the pool opens a connection only for a query, and none is made here.
const BASE = { DATABASE_URL: "postgres://u@127.0.0.1:1/app" };
const TWILIO = { TWILIO_ACCOUNT_SID: `AC${"0".repeat(32)}`, TWILIO_AUTH_TOKEN: "t" };
const TWILIO_LINE =
  "call-reconciler: warning: Twilio is not configured (TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN unset): rows with a Call SID stay unverified";

describe("start-up warnings: readable for a one-shot command, a log line for the daemon", () => {
  const runtimes: Runtime[] = [];
  afterEach(async () => {
    await Promise.all(runtimes.splice(0).map((r) => r.close()));
  });

  it("a one-shot command without Twilio: one plain line on stderr, no JSON", async () => {
    const log = sink();
    const stderr = sink();
    const logger = createLogger("warn", log.stream);
    runtimes.push(
      await createRuntime(loadConfig(BASE), logger, { warn: plainWarnings(logger, stderr.stream) }),
    );
    expect(stderr.lines).toEqual([TWILIO_LINE]);
    expect(log.lines).toEqual([]);
  });

  it("the daemon without Twilio keeps its JSON warning", async () => {
    const log = sink();
    runtimes.push(await createRuntime(loadConfig(BASE), createLogger("info", log.stream)));
    const lines = log.lines.map((l) => JSON.parse(l) as { level: number; msg: string });
    expect(lines.filter((l) => l.level === 40).map((l) => l.msg)).toEqual([
      TWILIO_LINE.replace("call-reconciler: warning: ", ""),
    ]);
  });

  it("LOG_LEVEL above warn silences the plain line too", async () => {
    const stderr = sink();
    const logger = createLogger("error", sink().stream);
    runtimes.push(
      await createRuntime(loadConfig(BASE), logger, { warn: plainWarnings(logger, stderr.stream) }),
    );
    expect(stderr.lines).toEqual([]);
  });

  it("a table without a Call SID column (CALLS_COL_TWILIO_SID set empty) has no row Twilio could judge: no warning", async () => {
    const stderr = sink();
    const logger = createLogger("warn", sink().stream);
    runtimes.push(
      await createRuntime(loadConfig({ ...BASE, CALLS_COL_TWILIO_SID: "" }), logger, {
        warn: plainWarnings(logger, stderr.stream),
      }),
    );
    expect(stderr.lines).toEqual([]);
  });

  it("with Twilio configured there is nothing to warn of", async () => {
    const stderr = sink();
    const logger = createLogger("warn", sink().stream);
    runtimes.push(
      await createRuntime(loadConfig({ ...BASE, ...TWILIO }), logger, {
        warn: plainWarnings(logger, stderr.stream),
      }),
    );
    expect(stderr.lines).toEqual([]);
  });
});
