import { type Readable, Stream } from "node:stream";
import twilio from "twilio";
import type { TwilioCredentials } from "../config/config.js";

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

export interface TwilioResponse {
  statusCode: number;
  body: unknown;
  headers?: Record<string, unknown>;
}

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
}

type RequestScope = { signal?: AbortSignal | undefined; stream?: boolean };

/**
 * What the next request adds to the axios config the SDK builds. The SDK's `request()` passes on neither a
 * signal nor a response type, so they reach its axios instance through this slot, read by a synchronous request
 * interceptor: every request keeps the SDK's auth, user agent, host rules and agent. With a username and password
 * (always, here) the SDK calls axios, and axios its synchronous interceptors, in the same turn as `request()`:
 * the slot is set just before that call and read within it. Not an AsyncLocalStorage: on Node 20 one turns on
 * promise hooks for the whole process, and every promise of a pass then allocates a resource (measured: the
 * 100,000-row pass's garbage grew by half).
 */
let nextRequest: RequestScope | undefined;

/**
 * The official SDK's client (auth, user agent, HTTP agent), used through its generic `request()` with an
 * absolute URI so that TWILIO_API_BASE_URL can point at a simulator (the SDK has no base-URL option) and so
 * that the raw JSON can be normalised without the SDK's date trap.
 */
export function createTwilioClient(opts: TwilioClientOptions): TwilioClient {
  const { credentials } = opts;
  // Retries belong to one layer (ours): the SDK's autoRetry covers only 429 and ignores Retry-After.
  const httpClient = new twilio.RequestClient({
    keepAlive: opts.keepAlive ?? true,
    timeout: opts.timeoutMs,
    autoRetry: false,
  });
  // The SDK's own axios instance (public on RequestClient): axios stops reading past the limit and rejects.
  httpClient.axios.defaults.maxContentLength = MAX_TWILIO_BODY_BYTES;
  // axios bounds a streamed body by maxContentLength too (the stream errors past it).
  httpClient.axios.interceptors.request.use(
    (config) => {
      const scope = nextRequest;
      nextRequest = undefined;
      if (scope?.signal !== undefined) config.signal = scope.signal;
      if (scope?.stream === true) config.responseType = "stream";
      return config;
    },
    null,
    { synchronous: true },
  );
  const client = twilio(credentials.username, credentials.password, {
    accountSid: credentials.accountSid,
    httpClient,
  });
  // The SDK rewrites every request's host name with TWILIO_REGION / TWILIO_EDGE (api.twilio.com becomes
  // api.dublin.ie1.twilio.com), and mangles a two-label host even without them (twilio-sim.internal becomes
  // twilio-sim.internal.twilio-sim.internal). That is for Twilio's own hosts only: a TWILIO_API_BASE_URL of
  // another host (a simulator, a proxy) is used exactly as given.
  if (!new URL(opts.baseUrl).hostname.endsWith(".twilio.com")) client.getHostname = (hostname) => hostname;
  const get = (uri: string, scope: RequestScope): Promise<TwilioResponse> => {
    nextRequest = scope;
    try {
      return client.request({ method: "get", uri }) as Promise<TwilioResponse>;
    } finally {
      // Read by now (see nextRequest); cleared anyway so that it never reaches another request.
      nextRequest = undefined;
    }
  };
  return {
    get: (uri, o = {}) => get(uri, { signal: o.signal }),
    getStream: async (uri, o = {}) => {
      const answer = await get(uri, { signal: o.signal, stream: true });
      // The slot not read in time would leave a parsed body here: say so rather than misread the page.
      if (!(answer.body instanceof Stream))
        throw new Error(
          "the Twilio SDK did not take the streamed request: its request path is no longer synchronous",
        );
      return answer as TwilioResponse & { body: Readable };
    },
    accountPath: (accountSid) => `${opts.baseUrl}/2010-04-01/Accounts/${accountSid}`,
    baseUrl: opts.baseUrl,
  };
}
