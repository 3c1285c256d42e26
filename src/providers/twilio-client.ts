import { type Readable, Stream } from "node:stream";
import type { TwilioCredentials } from "../config/config.js";
import type { RequestScope, SdkRequester, TwilioResponse } from "./twilio-sdk.js";

export interface TwilioClientOptions {
  credentials: TwilioCredentials;
  /** https://api.twilio.com in production; the simulator's URL in tests and the demo. */
  baseUrl: string;
  timeoutMs: number;
  /** Off in tests: under nock 14 the SDK's keep-alive agent makes mocked requests hang. */
  keepAlive?: boolean;
}

/**
 * The largest answer read from Twilio. A page of 1,000 calls is about 1 MB of JSON; anything four times that is
 * not an answer worth holding (a few of 50 MB would not fit the deployed heap): its read is cut off.
 */
export const MAX_TWILIO_BODY_BYTES = 4 * 1024 * 1024;

export type { TwilioResponse } from "./twilio-sdk.js";

export interface TwilioGetOptions {
  /**
   * Aborting it destroys the request and its socket (a pass that ended, a timeout): an answer given up on is
   * not left to drip into an open connection.
   */
  signal?: AbortSignal | undefined;
}

export interface TwilioClient {
  /** GET an absolute URI with the configured credentials; rejects only on transport errors. */
  get(uri: string, opts?: TwilioGetOptions): Promise<TwilioResponse>;
  /**
   * The same, the body left unread: a stream (bounded like `get`'s) for the caller to read as it arrives.
   * The caller reads it to the end or destroys it.
   */
  getStream(uri: string, opts?: TwilioGetOptions): Promise<TwilioResponse & { body: Readable }>;
  /** `<base>/2010-04-01/Accounts/<sid>`: only ever called with a validated Account SID. */
  accountPath(accountSid: string): string;
  baseUrl: string;
  /**
   * Loads the SDK (the first request would): a caller that times its requests awaits this first, so that the
   * load is never counted against a request's timeout.
   */
  ready(): Promise<void>;
}

/**
 * The official SDK's client (auth, user agent, HTTP agent), used through its generic `request()` with an
 * absolute URI so that TWILIO_API_BASE_URL can point at a simulator (the SDK has no base-URL option) and so
 * that the raw JSON can be normalised without the SDK's date trap.
 */
export function createTwilioClient(opts: TwilioClientOptions): TwilioClient {
  // Loaded at the first request: the SDK's import (about 100 ms) is not paid by commands that never ask Twilio.
  let requester: Promise<SdkRequester> | undefined;
  const load = () =>
    (requester ??= import("./twilio-sdk.js").then((sdk) =>
      sdk.createSdkRequester({
        credentials: opts.credentials,
        keepAlive: opts.keepAlive ?? true,
        timeoutMs: opts.timeoutMs,
        maxBodyBytes: MAX_TWILIO_BODY_BYTES,
      }),
    ));
  const get = async (uri: string, scope: Omit<RequestScope, "uri">): Promise<TwilioResponse> =>
    (await load())(uri, scope);
  return {
    get: (uri, o = {}) => get(uri, { signal: o.signal }),
    getStream: async (uri, o = {}) => {
      const answer = await get(uri, { signal: o.signal, stream: true });
      if (!(answer.body instanceof Stream)) throw new Error("the Twilio SDK did not stream the answer");
      return answer as TwilioResponse & { body: Readable };
    },
    accountPath: (accountSid) => `${opts.baseUrl}/2010-04-01/Accounts/${accountSid}`,
    baseUrl: opts.baseUrl,
    ready: async () => {
      await load();
    },
  };
}
