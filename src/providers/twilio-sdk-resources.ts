/**
 * The official Twilio SDK's resource API (`client.events.v1.sinks` and the like), on its own: like twilio-sdk.ts
 * it is loaded at a client's first request, never at start-up.
 */
import twilio from "twilio";
import type RequestClient from "twilio/lib/base/RequestClient.js";
import type { TwilioCredentials } from "../config/config.js";

/**
 * The SDK's own RequestClient (form encoding, auth, agent, HTTP_PROXY, TWILIO_CA_BUNDLE), with `request()`
 * extended as the SDK documents (https://github.com/twilio/twilio-node/blob/main/advanced-examples/custom-http-client.md):
 * each product's host (events.twilio.com, …) is kept for a Twilio base URL, and a base URL of another host (a
 * simulator, a proxy) receives every product's paths itself, as TWILIO_API_BASE_URL is used for the Calls API.
 */
class BaseUrlRequestClient extends twilio.RequestClient {
  private readonly base: URL | null;

  constructor(opts: RequestClient.RequestClientOptions, baseUrl: string, maxBodyBytes: number) {
    super(opts);
    const base = new URL(baseUrl);
    // The same rule as twilio-sdk.ts: Twilio's hosts are the SDK's to choose (TWILIO_REGION / TWILIO_EDGE).
    this.base = base.hostname.endsWith(".twilio.com") ? null : base;
    this.axios.defaults.maxContentLength = maxBodyBytes;
  }

  override request<TData>(opts: RequestClient.RequestOptions<TData>) {
    if (this.base === null) return super.request(opts);
    const asked = new URL(opts.uri);
    const uri = new URL(
      `${this.base.pathname.replace(/\/$/, "")}${asked.pathname}${asked.search}`,
      this.base,
    );
    return super.request({ ...opts, uri: uri.href });
  }
}

export interface SdkResourceOptions {
  credentials: TwilioCredentials;
  /** TWILIO_API_BASE_URL: Twilio's own hosts for a *.twilio.com URL, else this host for every product. */
  baseUrl: string;
  timeoutMs: number;
  keepAlive: boolean;
  maxBodyBytes: number;
}

export type SdkClient = ReturnType<typeof twilio>;

/** The SDK's client, its retries off: a command that fails says so, and the operator runs it again. */
export function createSdkResourceClient(opts: SdkResourceOptions): SdkClient {
  const httpClient = new BaseUrlRequestClient(
    { keepAlive: opts.keepAlive, timeout: opts.timeoutMs, autoRetry: false },
    opts.baseUrl,
    opts.maxBodyBytes,
  );
  return twilio(opts.credentials.username, opts.credentials.password, {
    accountSid: opts.credentials.accountSid,
    httpClient,
  });
}
