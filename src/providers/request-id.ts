/** Twilio's are `RQ` + 32 hex, OpenAI's `req_` + 32 hex; a little room for other forms, never free text. */
const REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

/**
 * The provider's id of one request (Twilio's `Twilio-Request-Id`, OpenAI's `x-request-id`), read from response
 * headers of any shape the clients hand back: a plain record (Node's lowercased `IncomingHttpHeaders`), axios's
 * `AxiosHeaders`, or a fetch `Headers`. The name is matched case-insensitively.
 *
 * The value lands in audit rows as it is, so only a short printable token is kept: anything else (a proxy's
 * junk, a header repeated with different values) is dropped rather than stored.
 */
export function requestIdFrom(headers: unknown, name: string): string | undefined {
  if (typeof headers !== "object" || headers === null) return undefined;
  let value: unknown;
  if (headers instanceof Headers) {
    value = headers.get(name);
  } else {
    const wanted = name.toLowerCase();
    for (const [key, v] of Object.entries(headers)) {
      if (key.toLowerCase() === wanted) {
        value = v;
        break;
      }
    }
  }
  if (Array.isArray(value)) value = value.length === 1 ? value[0] : undefined;
  if (typeof value !== "string") return undefined;
  const id = value.trim();
  return REQUEST_ID.test(id) ? id : undefined;
}
