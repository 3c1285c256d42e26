/** The parsed JSON, or undefined when `text` is not JSON (which JSON.parse can never return otherwise). */
export function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
