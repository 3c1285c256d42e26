/** The message of anything thrown, for a log field or a one-line error: `throw "x"` happens too. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Provider text copied into a detail, a log line or a report: at most this many characters of it. */
export const PROVIDER_TEXT_MAX = 200;

/** A provider's text cut to `max` characters, saying how long it was: a 20 MB message must not become 20 MB of logs. */
export function boundedText(text: string, max = PROVIDER_TEXT_MAX): string {
  return text.length <= max ? text : `${text.slice(0, max)}… [${text.length} characters]`;
}
