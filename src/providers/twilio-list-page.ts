/**
 * A page of Twilio's call list (about 1 MB of JSON for 1,000 calls), read as it arrives: the bytes are split
 * into the entries of `calls`, each parsed by `JSON.parse` and reduced at once to `sid`, `status` and
 * `start_time`, and the rest of the page (its "skeleton", `calls` left empty) parsed at the end for
 * `next_page_uri`. Every byte is still read by `JSON.parse` or checked here, so a page that is not valid JSON
 * is refused. Why not a streaming JSON library: its JavaScript tokenizer is several times slower than native
 * parsing, and the list is on a pass's critical path ([Memory](../../docs/scale.md#memory) has the figures).
 */
import type { Readable } from "node:stream";
import type { TwilioCallsPage } from "../model/index.js";
import { listedCall, listedNextPage, type Malformed, malformed } from "./twilio-normalise.js";

const NOT_JSON = "response body is not valid JSON";

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const isSpace = (b: number) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
/** The skeleton's text just before the `[` of the calls array. */
const CALLS_KEY = /"calls"\s*:\s*$/;

/** Splits a list page's bytes into its `calls` entries and its skeleton (see above). */
class PageSplitter {
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** Inside the `calls` array (between its brackets). */
  private inCalls = false;
  private callsSeen = false;
  private entries = 0;
  /** In the calls array: an entry is expected next (after `[` or `,`), else a `,` or the `]`. */
  private wantEntry = true;
  /** The bytes of an entry that started in an earlier chunk. */
  private entryParts: Buffer[] = [];
  private collecting = false;
  /** The root value has closed: only whitespace may follow. */
  private ended = false;
  private readonly skeleton: Buffer[] = [];
  fault: string | null = null;

  constructor(private readonly onEntry: (text: string) => void) {}

  write(chunk: Buffer): void {
    let entryStart = this.collecting ? 0 : -1;
    let skeletonStart = this.inCalls ? -1 : 0;
    for (let i = 0; i < chunk.length; i++) {
      if (this.inString) {
        // Most of a page is inside strings: jumped over at native speed.
        const close = this.stringEnd(chunk, i);
        if (close < 0) break;
        this.inString = false;
        i = close;
        continue;
      }
      const b = chunk[i] as number;
      if (this.inCalls && this.depth === 2) {
        // Between two entries, or at the first byte of one.
        if (isSpace(b)) continue;
        if (!this.wantEntry && b === COMMA) this.wantEntry = true;
        else if (b === CLOSE_BRACKET && (!this.wantEntry || this.entries === 0)) {
          this.inCalls = false;
          this.depth = 1;
          skeletonStart = i;
        } else if (this.wantEntry && b === OPEN_BRACE) {
          this.wantEntry = false;
          this.entries++;
          this.collecting = true;
          entryStart = i;
          this.depth = 3;
        } else {
          const misplaced = !this.wantEntry || b === COMMA || b === CLOSE_BRACKET;
          this.fault = misplaced ? NOT_JSON : "call list entry without sid or status";
          return;
        }
        continue;
      }
      if (this.ended && !isSpace(b)) {
        this.fault = NOT_JSON;
        return;
      }
      if (b === QUOTE) this.inString = true;
      else if (b === OPEN_BRACE || b === OPEN_BRACKET) {
        if (this.depth === 1 && b === OPEN_BRACKET && this.isCallsKey(chunk, skeletonStart, i)) {
          if (this.callsSeen) {
            this.fault = "call list has two calls arrays";
            return;
          }
          // The skeleton keeps the `[` and, later, the `]`: its `calls` is an empty array.
          this.skeleton.push(chunk.subarray(skeletonStart, i + 1));
          skeletonStart = -1;
          this.inCalls = true;
          this.callsSeen = true;
        }
        this.depth++;
      } else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) {
        this.depth--;
        this.ended = this.depth === 0;
        if (this.inCalls && this.depth === 2) {
          const last = chunk.subarray(entryStart, i + 1);
          const text = (
            this.entryParts.length === 0 ? last : Buffer.concat([...this.entryParts, last])
          ).toString("utf8");
          this.entryParts = [];
          this.collecting = false;
          entryStart = -1;
          this.onEntry(text);
        }
      }
    }
    if (this.collecting) this.entryParts.push(chunk.subarray(entryStart));
    if (skeletonStart >= 0) this.skeleton.push(chunk.subarray(skeletonStart));
  }

  /**
   * The index of the quote that closes the string being read, from `from` on; -1 when this chunk ends first
   * (then whether its last byte escapes the next chunk's first is kept).
   */
  private stringEnd(chunk: Buffer, from: number): number {
    let at = from;
    if (this.escaped) {
      this.escaped = false;
      at++;
    }
    for (;;) {
      const quote = chunk.indexOf(QUOTE, at);
      const end = quote < 0 ? chunk.length : quote;
      // The backslashes right before the quote (or the chunk's end): an odd run escapes what follows.
      let run = 0;
      while (end - run - 1 >= at && chunk[end - run - 1] === BACKSLASH) run++;
      if (quote < 0) {
        this.escaped = run % 2 === 1;
        return -1;
      }
      if (run % 2 === 0) return quote;
      at = quote + 1;
    }
  }

  /** Whether the skeleton so far, then this chunk up to `at` (a `[`), ends with the key `"calls":`. */
  private isCallsKey(chunk: Buffer, from: number, at: number): boolean {
    const text = Buffer.concat([...this.skeleton, chunk.subarray(from, at)]).toString("utf8");
    return CALLS_KEY.test(text.slice(-64));
  }

  /** The page without its entries, once every byte has come; null when the bytes did not end the document. */
  end(): string | null {
    if (this.depth !== 0 || this.inString || this.inCalls) return null;
    return Buffer.concat(this.skeleton).toString("utf8");
  }

  get sawCalls(): boolean {
    return this.callsSeen;
  }
}

/**
 * Reads one list page from `body` (the HTTP response stream, already bounded in size by the client) and
 * validates it as the pass needs it. Anything off (not JSON, no `calls` array, an entry without sid or status,
 * a next page outside the account's Calls list) makes the page unusable; reading stops at the first fault.
 * Throws only what reading the stream throws (a transport error, the size bound, an abort).
 */
export async function readCallsPage(
  body: Readable,
  accountSid: string,
): Promise<TwilioCallsPage | Malformed> {
  const calls: TwilioCallsPage["calls"] = [];
  let fault: Malformed | null = null;
  const splitter = new PageSplitter((text) => {
    let entry: unknown;
    try {
      entry = JSON.parse(text);
    } catch {
      fault ??= malformed(NOT_JSON);
      return;
    }
    const c = listedCall(entry);
    if ("kind" in c) fault ??= c;
    else calls.push(c);
  });
  let skeleton: string | null = null;
  try {
    for await (const chunk of body) {
      splitter.write(chunk as Buffer);
      if (splitter.fault !== null) fault ??= malformed(splitter.fault);
      if (fault !== null) break;
    }
    if (fault === null) skeleton = splitter.end();
  } finally {
    // Stopped early (a fault, an error): the rest of the answer is not wanted, nor is its connection.
    body.destroy();
  }
  if (fault !== null) return fault;
  let root: unknown;
  try {
    root = skeleton === null ? undefined : JSON.parse(skeleton);
  } catch {}
  if (root === undefined) return malformed(NOT_JSON);
  // The split's `calls` must be the root's own (its skeleton keeps it as an empty array).
  const rootCalls = typeof root === "object" && root !== null ? (root as { calls?: unknown }).calls : null;
  if (!splitter.sawCalls || !Array.isArray(rootCalls) || rootCalls.length > 0)
    return malformed("call list has no calls array");
  const nextPage = listedNextPage((root as { next_page_uri?: unknown }).next_page_uri, accountSid);
  if ("kind" in nextPage) return nextPage;
  return { kind: "page", calls, nextPageUri: nextPage.uri };
}
