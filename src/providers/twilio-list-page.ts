/**
 * A page of Twilio's call list, read as it arrives. A page of 1,000 calls is about 1 MB of JSON; parsed whole,
 * every page became a megabyte string and a thousand full call resources of 30 fields, garbage that V8 (sized
 * from the host's memory) collects lazily: a pass over 100,000 live calls peaked 80 % higher than one over
 * 10,000. Read as a stream, only `sid`, `status` and `start_time` (the slice check) of each call and the
 * page's `next_page_uri` are kept; one call's resource exists at a time.
 *
 * The parser is `@streamparser/json` (well kept, no dependencies, `JSON.parse`-compliant, and written for
 * untrusted input, which `stream-json` says it is not). It costs more CPU than `JSON.parse` (about 20 ms a
 * page against 3 ms): small beside a page's round trip, and the pages are read concurrently.
 */
import type { Readable } from "node:stream";
import { type ParsedElementInfo, Tokenizer, TokenParser, TokenType } from "@streamparser/json";
import type { TwilioCallsPage } from "../model/index.js";
import { listedCall, listedNextPage } from "./twilio-normalise.js";

type Malformed = { kind: "error"; reason: "malformed_response"; detail: string };
const malformed = (detail: string): Malformed => ({ kind: "error", reason: "malformed_response", detail });

/**
 * Whether the root object's `calls` is an array, read from the tokens: the token parser (keeping nothing it
 * does not emit) cannot tell an empty `calls` array from none.
 */
class CallsArrayWatch {
  private depth = 0;
  private key: string | null = null;
  private valueNext = false;
  isArray = false;

  see(token: TokenType, value: unknown): void {
    if (this.depth === 1) {
      if (this.valueNext) {
        this.valueNext = false;
        if (this.key === "calls") this.isArray = token === TokenType.LEFT_BRACKET;
      } else if (token === TokenType.COLON) this.valueNext = true;
      else if (token === TokenType.STRING) this.key = value as string;
    }
    if (token === TokenType.LEFT_BRACE || token === TokenType.LEFT_BRACKET) this.depth++;
    else if (token === TokenType.RIGHT_BRACE || token === TokenType.RIGHT_BRACKET) this.depth--;
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
  let next: unknown = null;
  let fault: Malformed | null = null;
  const invalid = () => {
    fault ??= malformed("response body is not valid JSON");
  };
  const watch = new CallsArrayWatch();
  const tokenizer = new Tokenizer();
  // keepStack false: an emitted call is not kept in its array, so the page never exists whole.
  const parser = new TokenParser({ paths: ["$.calls.*", "$.next_page_uri"], keepStack: false });
  // Faults are noted, not thrown: reading stops at the first, and only the stream's own errors are thrown.
  tokenizer.onError = invalid;
  parser.onError = invalid;
  tokenizer.onToken = (t) => {
    watch.see(t.token, t.value);
    parser.write(t);
  };
  parser.onValue = ({ value, key, stack }: ParsedElementInfo) => {
    if (fault !== null) return;
    if (stack.length === 1) {
      next = value;
      return;
    }
    // A `calls` that is an object also matches `$.calls.*`: the watch refuses it at the end.
    if (typeof key !== "number") return;
    const c = listedCall(value);
    if ("kind" in c) fault = c;
    else calls.push(c);
  };
  try {
    for await (const chunk of body) {
      tokenizer.write(chunk as Buffer);
      if (fault !== null) break;
    }
    if (fault === null) tokenizer.end();
    // The document must have ended, not merely the bytes (a page cut short).
    if (!parser.isEnded) invalid();
  } finally {
    // Stopped early (a fault, an error): the rest of the answer is not wanted, nor is its connection.
    body.destroy();
  }
  if (fault !== null) return fault;
  if (!watch.isArray) return malformed("call list has no calls array");
  const nextPage = listedNextPage(next, accountSid);
  if ("kind" in nextPage) return nextPage;
  return { kind: "page", calls, nextPageUri: nextPage.uri };
}
