/**
 * One cheap authenticated read with OPENAI_API_KEY: the first page of `GET /v1/models` (`models.list` in the
 * official SDK). OpenAI has no call-status read to try the key on, and the realtime probe would open a socket
 * on a call; the model list needs only a valid key, so a 401 here is a key every probe would be refused with.
 */
import { boundedText } from "../error-message.js";

export type OpenAIKeyAnswer =
  | { kind: "accepted"; models: number }
  /** 401: wrong, revoked or mistyped key. */
  | { kind: "rejected"; detail: string }
  /** 403: a valid key restricted from listing models: it says nothing about realtime access. */
  | { kind: "restricted"; detail: string }
  | { kind: "error"; detail: string };

/** OpenAI's error text is copied into one line: bounded, whatever the server sends. */
const bounded = (s: string): string => boundedText(s);

export async function checkOpenAIKey(opts: {
  apiKey: string;
  baseUrl: string;
  timeoutMs: number;
}): Promise<OpenAIKeyAnswer> {
  // Imported here: the SDK (about 70 ms to load) is not paid by every start of the CLI that imports doctor.
  const { default: OpenAI } = await import("openai");
  const client = new OpenAI({
    apiKey: opts.apiKey,
    baseURL: opts.baseUrl,
    maxRetries: 0,
    timeout: opts.timeoutMs,
    // Looked up per request, so that nock (or any later-installed fetch) intercepts it.
    fetch: (...args: Parameters<typeof fetch>) => globalThis.fetch(...args),
  });
  try {
    const page = await client.models.list();
    return { kind: "accepted", models: page.data.length };
  } catch (err) {
    if (err instanceof OpenAI.AuthenticationError) return { kind: "rejected", detail: bounded(err.message) };
    if (err instanceof OpenAI.PermissionDeniedError)
      return { kind: "restricted", detail: bounded(err.message) };
    if (err instanceof OpenAI.APIConnectionTimeoutError) {
      return { kind: "error", detail: `no answer within ${opts.timeoutMs} ms` };
    }
    if (err instanceof OpenAI.APIConnectionError) {
      const cause = err.cause instanceof Error ? `: ${err.cause.message}` : "";
      return { kind: "error", detail: bounded(`could not reach ${opts.baseUrl}${cause}`) };
    }
    if (err instanceof OpenAI.APIError) {
      return { kind: "error", detail: bounded(`HTTP ${err.status ?? "?"}: ${err.message}`) };
    }
    return { kind: "error", detail: bounded(err instanceof Error ? err.message : String(err)) };
  }
}
