import { createHash, createHmac } from "node:crypto";

/**
 * Signs a delivery as Twilio signs a webhook with a JSON body, written from the published scheme with
 * node:crypto alone (not the SDK the sink verifies with), so that a test passing shows the two agree: the
 * hex SHA-256 of the body goes into the URL's query string as `bodySHA256`, and the whole URL is signed,
 * HMAC-SHA1 keyed with the auth token, base64.
 */
export function signEventBatch(
  authToken: string,
  url: string,
  body: string,
): { url: string; signature: string } {
  const hash = createHash("sha256").update(body, "utf8").digest("hex");
  const signed = `${url}${url.includes("?") ? "&" : "?"}bodySHA256=${hash}`;
  return { url: signed, signature: createHmac("sha1", authToken).update(signed, "utf8").digest("base64") };
}
