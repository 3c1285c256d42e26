/**
 * The official Twilio SDK, on its own: importing it takes about 100 ms, which every start of the CLI would pay,
 * so twilio-client.ts loads this file at its first request.
 */
import twilio from "twilio";
import type RequestClient from "twilio/lib/base/RequestClient.js";
import type { TwilioCredentials } from "../config/config.js";

/** What one request adds to the SDK's: how it may be aborted, and whether its body is left as a stream. */
export interface TwilioResponse {
  statusCode: number;
  body: unknown;
  headers?: Record<string, unknown>;
}

export interface RequestScope {
  /** The URI as asked for, before the SDK rewrote its host for TWILIO_REGION / TWILIO_EDGE. */
  uri: string;
  signal?: AbortSignal | undefined;
  stream?: boolean;
}

/**
 * The header that carries a request's scope through the SDK's `request()` to its `httpClient`: both are the
 * SDK's public, documented extension points (a class whose `request(opts)` resolves to `{statusCode, body,
 * headers}`: https://github.com/twilio/twilio-node/blob/main/advanced-examples/custom-http-client.md), and
 * the SDK hands a request's headers on to it. It never reaches the wire.
 */
const SCOPE_HEADER = "X-Call-Reconciler-Scope";

/**
 * The SDK's own RequestClient (its agent, keep-alive, HTTP_PROXY and TWILIO_CA_BUNDLE handling, all set up by
 * its constructor), with `request()` replaced as the SDK documents: the same Basic auth and headers, plus a
 * request's abort signal and streamed body, which the SDK's `request()` does not pass on.
 */
class ScopedRequestClient extends twilio.RequestClient {
  private readonly scopes = new Map<string, RequestScope>();
  private nextId = 0;
  private readonly maxBodyBytes: number;

  constructor(opts: RequestClient.RequestClientOptions, maxBodyBytes: number) {
    super(opts);
    this.maxBodyBytes = maxBodyBytes;
  }

  /** Registers a request's scope; the returned headers carry it to `request`. */
  scoped(scope: RequestScope): Record<string, string> {
    const id = String(++this.nextId);
    this.scopes.set(id, scope);
    return { [SCOPE_HEADER]: id };
  }

  /** Forgets a scope `request` never took (the SDK threw before calling it). */
  drop(headers: Record<string, string>): void {
    const id = headers[SCOPE_HEADER];
    if (id !== undefined) this.scopes.delete(id);
  }

  override async request<TData>(opts: RequestClient.RequestOptions<TData>): Promise<RequestResponse<TData>> {
    const { [SCOPE_HEADER]: id, ...headers } = opts.headers ?? {};
    const scope = id === undefined ? undefined : this.scopes.get(String(id));
    if (scope === undefined)
      throw new Error(
        "the Twilio SDK did not hand the request's headers to its httpClient: its request path changed",
      );
    this.scopes.delete(String(id));
    if (opts.username !== undefined && opts.password !== undefined) {
      headers.Authorization = `Basic ${Buffer.from(`${opts.username}:${opts.password}`).toString("base64")}`;
    }
    headers.Connection = this.keepAlive ? "keep-alive" : "close";
    const response = await this.axios.request({
      // The SDK rewrites every host for TWILIO_REGION / TWILIO_EDGE, and mangles a two-label host even without
      // them (twilio-sim.internal becomes twilio-sim.internal.twilio-sim.internal). That is for Twilio's own
      // hosts: a TWILIO_API_BASE_URL of another host (a simulator, a proxy) is used exactly as given.
      url: new URL(scope.uri).hostname.endsWith(".twilio.com") ? opts.uri : scope.uri,
      method: opts.method,
      headers,
      timeout: opts.timeout ?? this.defaultTimeout,
      maxRedirects: 0,
      proxy: false,
      validateStatus: (status) => status >= 100 && status < 600,
      // axios stops reading past the limit and rejects; a streamed body errors past it.
      maxContentLength: this.maxBodyBytes,
      ...(scope.signal !== undefined ? { signal: scope.signal } : {}),
      ...(scope.stream === true ? { responseType: "stream" as const } : {}),
    });
    return { statusCode: response.status, body: response.data, headers: response.headers };
  }
}

type RequestResponse<TData> = Awaited<ReturnType<RequestClient["request"]>> & { body: TData };

export interface SdkRequesterOptions {
  credentials: TwilioCredentials;
  keepAlive: boolean;
  timeoutMs: number;
  /** Past it, a read is cut off (see MAX_TWILIO_BODY_BYTES). */
  maxBodyBytes: number;
}

/** One GET of an absolute URI through the SDK, with the request's scope. */
export type SdkRequester = (uri: string, scope: Omit<RequestScope, "uri">) => Promise<TwilioResponse>;

/**
 * The official SDK's client (auth, user agent, HTTP agent), used through its generic `request()` with an
 * absolute URI so that TWILIO_API_BASE_URL can point at a simulator (the SDK has no base-URL option) and so
 * that the raw JSON can be normalised without the SDK's date trap.
 */
export function createSdkRequester(opts: SdkRequesterOptions): SdkRequester {
  const { credentials } = opts;
  // Retries belong to one layer (ours): the SDK's autoRetry covers only 429 and ignores Retry-After.
  const httpClient = new ScopedRequestClient(
    { keepAlive: opts.keepAlive, timeout: opts.timeoutMs, autoRetry: false },
    opts.maxBodyBytes,
  );
  const client = twilio(credentials.username, credentials.password, {
    accountSid: credentials.accountSid,
    httpClient,
  });
  return async (uri, scope) => {
    const headers = httpClient.scoped({ uri, ...scope });
    try {
      return (await client.request({ method: "get", uri, headers })) as TwilioResponse;
    } finally {
      httpClient.drop(headers);
    }
  };
}
