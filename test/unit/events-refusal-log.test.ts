import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { refusalLog } from "../../src/events/refusal-log.js";
import { createLogger } from "../../src/log.js";

function harness() {
  const lines: Array<Record<string, unknown>> = [];
  const out = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split("\n")) if (l.trim() !== "") lines.push(JSON.parse(l));
      done();
    },
  });
  let ms = 0;
  const log = refusalLog(createLogger("info", out), () => new Date(ms), 60_000);
  return { lines, log, advance: (by: number) => (ms += by) };
}

describe("refusalLog", () => {
  it("writes the first refusal of each reason, at warn, with the peer's address", () => {
    const h = harness();
    h.log.refused("signature_missing", "203.0.113.9");
    h.log.refused("not_found", undefined);
    expect(h.lines).toEqual([
      expect.objectContaining({ level: 40, reason: "signature_missing", remoteAddress: "203.0.113.9" }),
      expect.objectContaining({ level: 40, reason: "not_found", remoteAddress: null }),
    ]);
    expect(h.lines[0]).not.toHaveProperty("alsoRefused");
  });

  it("then at most one line a window per reason, counting those left unwritten", () => {
    const h = harness();
    h.log.refused("signature_invalid", "a");
    h.advance(1);
    h.log.refused("signature_invalid", "b");
    h.advance(59_998);
    h.log.refused("signature_invalid", "c");
    expect(h.lines).toHaveLength(1);
    h.advance(1);
    h.log.refused("signature_invalid", "d", "why");
    expect(h.lines).toHaveLength(2);
    expect(h.lines[1]).toEqual(
      expect.objectContaining({
        reason: "signature_invalid",
        remoteAddress: "d",
        error: "why",
        alsoRefused: 2,
      }),
    );
    h.advance(60_000);
    h.log.refused("signature_invalid", "e");
    expect(h.lines[2]).not.toHaveProperty("alsoRefused");
  });
});
