import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { readCallsPage } from "../../src/providers/twilio-list-page.js";

const ACCOUNT = `AC${"a".repeat(32)}`;
const sid = (n: number) => `CA${n.toString(16).padStart(32, "0")}`;
const NEXT = `/2010-04-01/Accounts/${ACCOUNT}/Calls.json?Status=queued&PageSize=1000&Page=1&PageToken=PA1`;

/** A page as Twilio writes it, with the awkward bytes a splitter must not trip on. */
function page(n: number): string {
  const calls = Array.from({ length: n }, (_, i) => ({
    sid: sid(i),
    status: i % 2 ? "queued" : "in-progress",
    start_time: "Fri, 18 Oct 2019 17:03:00 +0000",
    caller_name: i % 3 ? null : `Zoë "}] {[" \\ ${"é".repeat(i % 5)} \u2028`,
    subresource_uris: { events: `/x/${i}/Events.json`, nested: [[], {}, [{ a: "]" }]] },
    price: i % 4 ? null : -0.015,
  }));
  return JSON.stringify(
    { first_page_uri: "/x", calls, end: n - 1, next_page_uri: NEXT, page: 0 },
    null,
    i2(n),
  );
}
const i2 = (n: number) => (n % 2 ? 1 : undefined);

/** The body cut into chunks of `size` bytes (multi-byte characters split across chunks). */
const chunked = (text: string, size: number) => {
  const bytes = Buffer.from(text);
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) parts.push(bytes.subarray(i, i + size));
  return Readable.from(parts);
};

/** What the page means, read whole by JSON.parse: the answer the split must give. */
function reference(text: string) {
  const body = JSON.parse(text) as { calls: { sid: string; status: string }[]; next_page_uri: string };
  return {
    kind: "page",
    calls: body.calls.map((c) => ({
      sid: c.sid,
      status: c.status,
      startTime: new Date("2019-10-18T17:03:00Z"),
    })),
    nextPageUri: body.next_page_uri,
  };
}

describe("readCallsPage: a list page split into its entries as it arrives", () => {
  it.each([0, 1, 2, 7, 40])(
    "reads a page of %i calls as JSON.parse would, however it is chunked",
    async (n) => {
      const text = page(n);
      for (const size of [1, 2, 3, 7, 64, 1000, text.length]) {
        expect(await readCallsPage(chunked(text, size), ACCOUNT), `chunks of ${size}`).toEqual(
          reference(text),
        );
      }
    },
  );

  it.each([
    ['{"calls": [{"sid": "CA1", "status": "queued"},]}', /not valid JSON/],
    ['{"calls": [,{"sid": "CA1", "status": "queued"}]}', /not valid JSON/],
    ['{"calls": [{"sid": "CA1", "status": "queued"} {"sid": "CA2", "status": "queued"}]}', /not valid JSON/],
    ['{"calls": [{"sid": "CA1", "status": "queued"}], "next_page_uri": nul}', /not valid JSON/],
    ['{"calls": [{"sid": "CA1" "status": "queued"}]}', /not valid JSON/],
    ['{"calls": []} {"calls": []}', /not valid JSON/],
    ['{"calls": ["CA1"]}', /without sid or status/],
    ['{"calls": [{"sid": "CA1"}]}', /without sid or status/],
    ['{"calls": [], "calls": []}', /two calls arrays/],
    ['{"a\\"calls": [{"sid": "CA1", "status": "queued"}]}', /no calls array/],
    ['{"nested": {"calls": [{"sid": "CA1", "status": "queued"}]}}', /no calls array/],
    ["", /not valid JSON/],
  ])("refuses %s", async (text, detail) => {
    for (const size of [1, 5, 1000]) {
      expect(await readCallsPage(chunked(text, size), ACCOUNT), `chunks of ${size}`).toMatchObject({
        kind: "error",
        reason: "malformed_response",
        detail: expect.stringMatching(detail),
      });
    }
  });

  it.each([
    ["a status", `{"calls": [{"sid": "CA1", "status": "${"s".repeat(100_000)}"}]}`],
    ["a sid", `{"calls": [{"sid": "CA${"1".repeat(100_000)}", "status": "queued"}]}`],
  ])("refuses an entry with %s of 100,000 characters, in a bounded detail", async (_what, text) => {
    const answer = await readCallsPage(chunked(text, 4096), ACCOUNT);
    expect(answer).toMatchObject({
      kind: "error",
      reason: "malformed_response",
      detail: expect.stringMatching(/longer than/),
    });
    expect(answer.kind === "error" && answer.detail.length).toBeLessThan(300);
  });
});
