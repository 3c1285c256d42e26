/**
 * DATABASE_URL is read by pg (pg-connection-string) with the WHATWG URL parser: an unencoded `#`, `/` or `?` in
 * the password ends the authority early, so the URL either fails deep inside pg ("Invalid URL", a stack
 * trace) or, worse, names another host. Checked here the same way, at start-up, without ever echoing it.
 */

const ENCODE_HINT =
  "percent-encode special characters in the user name and password (# as %23, / as %2F, ? as %3F, @ as %40, % as %25)";

/** Parses as pg-connection-string does: spaces and stray `%` encoded first, an empty host allowed. */
function parseLikePg(raw: string): URL | null {
  const str = / |%[^a-f0-9]|%[a-f0-9][^a-f0-9]/i.test(raw)
    ? encodeURI(raw).replace(/%25(\d\d)/g, "%$1")
    : raw;
  for (const candidate of [str, str.replace("@/", "@___DUMMY___/")]) {
    try {
      return new URL(candidate);
    } catch {
      // tried below with a dummy host, as pg does for a socket URL without one
    }
  }
  return null;
}

/**
 * The file a `sqlite:` DATABASE_URL names: `sqlite:///abs/path.db` (three slashes, an absolute path) or
 * `sqlite:relative/path.db` (from the working directory). Null when the URL is not a `sqlite:` one, or names a
 * host (`sqlite://host/…`): a SQLite file is on this host.
 */
export function sqlitePath(raw: string): string | null {
  if (!raw.startsWith("sqlite:")) return null;
  const rest = raw.slice("sqlite:".length);
  const path = rest.startsWith("//") ? (rest.startsWith("///") ? rest.slice(2) : "") : rest;
  if (path === "" || path === "/" || /[?#]/.test(path)) return null;
  return path;
}

/** Why DATABASE_URL cannot be used as it is written (one line without the value), or null. */
export function databaseUrlProblem(raw: string): string | null {
  if (raw.startsWith("sqlite:")) {
    return sqlitePath(raw) === null
      ? "must name a file on this host: sqlite:///absolute/path/calls.db or sqlite:relative/path/calls.db"
      : null;
  }
  if (!/^postgres(ql)?:\/\//.test(raw)) {
    return "must be a postgres:// or postgresql:// URL (e.g. postgres://user:password@host:5432/db), or a sqlite: one naming a file (sqlite:///absolute/path/calls.db)";
  }
  const url = parseLikePg(raw);
  if (url === null) return `is not a valid URL: ${ENCODE_HINT}`;
  if (url.hash !== "") return `has a # that cuts the URL short: ${ENCODE_HINT}`;
  return null;
}
