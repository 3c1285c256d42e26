import { describe, expect, it } from "vitest";
import { createMetrics, startEndedCounters } from "../../src/metrics/metrics.js";

/** The series of one metric in the registry's exposition, label sets → value. */
async function series(name: string, metrics = createMetrics()): Promise<Map<string, number>> {
  const text = await metrics.registry.getSingleMetricAsString(`call_reconciler_${name}`);
  return new Map(
    text
      .split("\n")
      .filter((l) => l.startsWith(`call_reconciler_${name}{`))
      .map((l) => [l.slice(l.indexOf("{"), l.lastIndexOf("}") + 1), Number(l.slice(l.lastIndexOf(" ") + 1))]),
  );
}

describe("every counter with known label values starts at 0 (so increase() sees its first event)", () => {
  it.each([
    ["passes_total", ['{result="success"}', '{result="partial"}', '{result="failed"}']],
    ["realtime_hangups_total", ['{outcome="hung_up"}', '{outcome="already_gone"}', '{outcome="error"}']],
    ["notifications_total", ['{outcome="delivered"}', '{outcome="failed"}', '{outcome="dropped"}']],
    [
      "row_check_failures_total",
      ['{reason="timeout"}', '{reason="server_error"}', '{reason="circuit_open"}'],
    ],
    [
      "provider_requests_total",
      [
        '{provider="twilio",outcome="ok"}',
        '{provider="openai",outcome="rate_limited"}',
        '{provider="twilio",outcome="not_found"}',
      ],
    ],
    ["zombie_causes_total", ['{cause="callback_acknowledged"}', '{cause="age_bound"}', '{cause="unknown"}']],
  ])("%s", async (name, expected) => {
    const found = await series(name);
    for (const labels of expected) expect(found.get(labels), labels).toBe(0);
  });

  it("calls_ended_total: every status the daemon may write, as STATUS_MAP writes it, by every source", async () => {
    const metrics = createMetrics();
    startEndedCounters(metrics, ["completed", "no_answer", "timed_out", "completed"]);
    const found = await series("calls_ended_total", metrics);
    expect(found.size).toBe(9);
    expect(found.get('{status="no_answer",source="twilio"}')).toBe(0);
    expect(found.get('{status="timed_out",source="age_bound"}')).toBe(0);
  });
});
