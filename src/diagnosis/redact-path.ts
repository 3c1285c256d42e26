/**
 * Secrets in a webhook URL's path. Tokens ride in paths as in query strings (`/status/sk_live_…/x`), and Twilio's
 * records keep whole URLs: a segment any rule below matches is replaced, the path keeping its shape so that
 * callbacks still group by endpoint.
 */

export const REDACTED_SEGMENT = ":redacted";

// Stripe, Slack, GitHub, GitLab and AWS keys; Stripe's `sk_live_…` is what webhook paths most often carry.
const SECRET_PREFIX = /^(?:sk_|pk_|rk_|whsec_|xox[a-z]-|gh[pousr]_|github_pat_|glpat-|AKIA)[\w-]{8,}/;
const TWILIO_SID = /^[A-Z]{2}[0-9a-f]{32}$/i;
// An id, but in a webhook path often the only secret of an unguessable URL; grouping loses nothing by it.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HEX_RUN = /^[0-9a-f]{16,}$/i;
const JWT = /^eyJ[\w-]*\.[\w-]+\.[\w-]*$/;
// Not a token, but numbers are kept nowhere else either.
const PHONE = /^\+\d{7,15}$/;

function isBase64Run(s: string): boolean {
  return /^[\w-]{32,}={0,2}$/.test(s) && /[a-z]/.test(s) && /[A-Z]/.test(s);
}

/** 20+ characters, a word of 8+ mixing letters and digits: `for-region-eu1` is a slug, `Xy7-kP2_qR9sT4` not. */
function isLongMixed(s: string): boolean {
  return s.length >= 20 && s.split(/[-_.~+]/).some((w) => w.length >= 8 && /\d/.test(w) && /[a-z]/i.test(w));
}

function isSecretSegment(raw: string): boolean {
  let s = raw;
  try {
    s = decodeURIComponent(raw);
  } catch {
    // A malformed escape is judged as written.
  }
  return (
    SECRET_PREFIX.test(s) ||
    TWILIO_SID.test(s) ||
    UUID.test(s) ||
    HEX_RUN.test(s) ||
    JWT.test(s) ||
    PHONE.test(s) ||
    isBase64Run(s) ||
    isLongMixed(s)
  );
}

/** `path` with each token-like segment replaced by REDACTED_SEGMENT; applying it twice changes nothing. */
export function redactPath(path: string): string {
  return path
    .split("/")
    .map((segment) => (segment !== "" && isSecretSegment(segment) ? REDACTED_SEGMENT : segment))
    .join("/");
}
