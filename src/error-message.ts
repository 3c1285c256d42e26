/** The message of anything thrown, for a log field or a one-line error: `throw "x"` happens too. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
