/**
 * How Twilio signs a webhook with a JSON body, written from its description rather than taken from the SDK:
 * the daemon verifies with the SDK, so two independent implementations agreeing is what a test shows.
 */
import { createHash, createHmac } from "node:crypto";

/** The URL a JSON body is posted to and signed as: the destination plus `bodySHA256=<hex SHA-256 of the body>`. */
export function urlWithBodyHash(destination: string, body: string): string {
  const hash = createHash("sha256").update(body, "utf8").digest("hex");
  return `${destination}${destination.includes("?") ? "&" : "?"}bodySHA256=${hash}`;
}

/** `X-Twilio-Signature` of a request with no form parameters: base64 HMAC-SHA1 of the full URL. */
export function twilioSignature(authToken: string, fullUrl: string): string {
  return createHmac("sha1", authToken).update(fullUrl, "utf8").digest("base64");
}

/** The URL to post a JSON body to and its signature header. */
export function signJsonWebhook(
  destination: string,
  body: string,
  authToken: string,
): { url: string; signature: string } {
  const url = urlWithBodyHash(destination, body);
  return { url, signature: twilioSignature(authToken, url) };
}
