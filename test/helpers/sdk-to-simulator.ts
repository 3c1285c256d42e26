/** The official Twilio SDK asking the Twilio simulator, to test the simulator against the client Twilio's users run. */
import twilio from "twilio";
import type RequestClient from "twilio/lib/base/RequestClient.js";

/** The SDK's own client, every Twilio host (events.twilio.com here) replaced by the simulator's. */
class ToSimulator extends twilio.RequestClient {
  constructor(private readonly base: string) {
    super({ keepAlive: false });
  }
  override request<TData>(opts: RequestClient.RequestOptions<TData>) {
    return super.request({ ...opts, uri: opts.uri.replace(/^https?:\/\/[^/]+/, this.base) });
  }
}

/** An SDK client of `accountSid` at the simulator `simUrl`, signing in as `user` (the account or an API key). */
export const sdkToSimulator = (simUrl: string, accountSid: string, user: string, password: string) =>
  twilio(user, password, { accountSid, httpClient: new ToSimulator(simUrl) });
