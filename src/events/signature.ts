/**
 * Whether a delivery comes from Twilio, as Twilio signs a webhook with a JSON body: it appends
 * `bodySHA256=<hex SHA-256 of the body>` to the destination URL's query string, then signs that whole URL
 * (HMAC-SHA1 keyed with the account's auth token, base64) into `X-Twilio-Signature`. The URL signs the hash
 * and the hash signs the body, so the check rests on three things: the auth token being secret, the URL
 * checked being the one Twilio called (EVENTS_URL, the sink's destination, whatever proxy stands between),
 * and the body hashed being the bytes received. The comparison is the SDK's own `validateRequestWithBody`.
 *
 * The SDK's webhooks module alone (node:crypto, url, querystring; none of the REST client) is loaded when the
 * sink starts, not when this file is imported: a command's start loads no provider SDK.
 */
import type * as TwilioWebhooks from "twilio/lib/webhooks/webhooks.js";

export type SignatureRefusal =
  | "signature_missing"
  | "body_hash_missing"
  | "body_hash_mismatch"
  | "signature_invalid";

export interface SignedRequest {
  /** The `X-Twilio-Signature` header, as received. */
  signature: string | undefined;
  /** The request target as received (`req.url`: path and query string, which carries `bodySHA256`). */
  target: string;
  /** The body, as received. */
  body: string;
}

/** null: signed by the holder of the auth token, for this URL and this body. */
export type SignatureCheck = (request: SignedRequest) => SignatureRefusal | null;

/**
 * The URL Twilio signed: the configured public URL's origin and path, exactly as written (the string Twilio
 * was given as destination), followed by the query string of the request as received (the destination's own
 * query, if any, and the `bodySHA256` Twilio added).
 */
export function signedUrl(publicUrl: string, target: string): string {
  const end = publicUrl.search(/[?#]/);
  const base = end === -1 ? publicUrl : publicUrl.slice(0, end);
  const queryStart = target.indexOf("?");
  return queryStart === -1 ? base : base + target.slice(queryStart);
}

export async function loadSignatureCheck(authToken: string, publicUrl: string): Promise<SignatureCheck> {
  if (authToken === "")
    throw new Error("the Event Streams sink needs the account's auth token to verify deliveries");
  const url = new URL(publicUrl);
  if (url.protocol !== "https:" && url.protocol !== "http:")
    throw new Error(`EVENTS_URL must be an http(s) URL, not ${url.protocol}`);
  const webhooks: typeof TwilioWebhooks = await import("twilio/lib/webhooks/webhooks.js");
  return ({ signature, target, body }) => {
    if (signature === undefined || signature === "") return "signature_missing";
    const full = signedUrl(publicUrl, target);
    const queryStart = full.indexOf("?");
    const hash = queryStart === -1 ? null : new URLSearchParams(full.slice(queryStart + 1)).get("bodySHA256");
    if (hash === null || hash === "") return "body_hash_missing";
    let valid: boolean;
    try {
      valid = webhooks.validateRequestWithBody(authToken, signature, full, body);
    } catch {
      // A target the URL parser rejects was signed by nobody.
      return "signature_invalid";
    }
    if (valid) return null;
    return webhooks.validateRequest(authToken, signature, full, {})
      ? "body_hash_mismatch"
      : "signature_invalid";
  };
}
