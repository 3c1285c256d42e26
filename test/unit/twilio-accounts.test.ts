import { setImmediate } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { createRateLimiter, underOverallLimit } from "../../src/providers/rate-limiter.js";
import type { BreakerState, ProviderPolicy } from "../../src/providers/resilience.js";
import { accountPolicies } from "../../src/providers/twilio-accounts.js";

const A = `AC${"a".repeat(32)}`;
const B = `AC${"b".repeat(32)}`;

describe("accountPolicies", () => {
  it("makes one policy per account on first use and reports the worst breaker state over all of them", () => {
    const made: string[] = [];
    const changes: { account: string; state: BreakerState; worst: BreakerState }[] = [];
    const flip = new Map<string, (s: BreakerState) => void>();
    const policyOf = accountPolicies(
      { twilioTotalMaxRps: null, twilioTotalConcurrency: null },
      {
        make: (account, _overall, onChange) => {
          made.push(account);
          flip.set(account, onChange);
          return { account } as unknown as ProviderPolicy<unknown>;
        },
        onBreakerStateChange: (change) => changes.push(change),
      },
    );
    expect(policyOf(A)).toBe(policyOf(A));
    policyOf(B);
    expect(made).toEqual([A, B]);
    flip.get(A)?.("open");
    flip.get(B)?.("half-open");
    flip.get(A)?.("half-open");
    flip.get(A)?.("closed");
    flip.get(B)?.("closed");
    expect(changes.map((c) => c.worst)).toEqual(["open", "open", "half-open", "half-open", "closed"]);
  });

  it("hands every account the same overall caps, and none when they are unset", () => {
    const overalls: unknown[] = [];
    const hooks = {
      make: (_a: string, overall: unknown) => {
        overalls.push(overall);
        return {} as ProviderPolicy<unknown>;
      },
      onBreakerStateChange: () => {},
    };
    const capped = accountPolicies({ twilioTotalMaxRps: 5, twilioTotalConcurrency: 3 }, hooks);
    capped(A);
    capped(B);
    expect(overalls[0]).toBe(overalls[1]);
    expect(overalls[0]).toMatchObject({ limiter: expect.any(Object), slots: expect.any(Function) });
    accountPolicies({ twilioTotalMaxRps: null, twilioTotalConcurrency: null }, hooks)(A);
    expect(overalls[2]).toEqual({ limiter: undefined, slots: undefined });
  });
});

describe("underOverallLimit", () => {
  it("holds a request to the overall budget after its own, and a 429 pauses only its own account", async () => {
    const overall = createRateLimiter({ maxRps: 2 });
    const a = underOverallLimit(createRateLimiter({ maxRps: 5 }), overall);
    const b = underOverallLimit(createRateLimiter({ maxRps: 5 }), overall);
    await a.acquire();
    await b.acquire();
    // The overall window is full (both places held in flight): a third request waits, whatever its account.
    let third = false;
    const stop = new AbortController();
    const pending = a.acquire(stop.signal).then(() => {
      third = true;
    });
    await setImmediate();
    expect(third).toBe(false);
    expect(overall.waiting).toBe(1);
    stop.abort(new Error("pass over"));
    await expect(pending).rejects.toThrow("pass over");
    expect(overall.waiting).toBe(0);

    b.pauseFor(60_000);
    expect(b.waiting).toBe(0);
    // A's own limiter is not paused by B's 429: only the shared window (still full) holds it.
    const own = createRateLimiter({ maxRps: 1 });
    const c = underOverallLimit(own, createRateLimiter({ maxRps: 10 }));
    c.pauseFor(60_000);
    let paused = false;
    const waiting = new AbortController();
    c.acquire(waiting.signal).then(
      () => {
        paused = true;
      },
      () => {},
    );
    await setImmediate();
    expect(paused).toBe(false);
    expect(own.waiting).toBe(1);
    waiting.abort();
  });
});
