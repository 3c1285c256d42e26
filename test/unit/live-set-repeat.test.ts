import pLimit from "p-limit";
import { describe, expect, it } from "vitest";
import type { ProviderProbes, TwilioListAnswer } from "../../src/model/index.js";
import { listLiveCalls } from "../../src/reconcile/list-live-calls.js";

const SID = (n: number) => `CA${String(n).padStart(32, "0")}`;

/** A Twilio whose every page links to `next(uri)`. */
function twilio(next: (uri: string | null) => string | null): NonNullable<ProviderProbes["twilio"]> {
  return {
    fetchCall: async () => ({ kind: "not_found" }),
    listCallsPage: async (_q, uri): Promise<TwilioListAnswer> => ({
      kind: "page",
      calls: [{ sid: SID(1), status: "in-progress" }] as never,
      nextPageUri: next(uri),
    }),
  };
}

describe("a list whose next page repeats is given up, not followed 10,000 times", () => {
  const query = { account: null, status: "in-progress" as const };

  it("a next_page_uri pointing back to itself", async () => {
    const r = await listLiveCalls(
      twilio(() => "/2010-04-01/Accounts/AC/Calls.json?Page=1"),
      [query],
      undefined,
      pLimit(4),
    );
    expect(r).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/next page .* already read/),
      requests: 2,
    });
  });

  it("a loop of two pages", async () => {
    const a = "/p?Page=1";
    const b = "/p?Page=2";
    const r = await listLiveCalls(
      twilio((uri) => (uri === a ? b : a)),
      [query],
      undefined,
      pLimit(4),
    );
    expect(r).toMatchObject({ ok: false, requests: 3 });
  });

  it("a chain that ends is read whole", async () => {
    const r = await listLiveCalls(
      twilio((uri) => (uri === null ? "/p?Page=1" : uri === "/p?Page=1" ? "/p?Page=2" : null)),
      [query],
      undefined,
      pLimit(4),
    );
    expect(r).toMatchObject({ ok: true, requests: 3 });
  });
});
