/**
 * Text for a human's terminal. Call ids come from the app's calls table, so whoever can create a call can
 * choose one; statuses and provider answers are not ours either. Printed raw, an escape sequence in them
 * retitles the window, clears the screen or paints a false "all clear", a newline forges a table row, and a
 * bidi override reverses what the operator reads. The JSON outputs need none of this: JSON escaping covers it,
 * and they keep every value whole.
 */

/** The widest an id is shown in a table or a line: a page-long id must not widen every row to its size. */
export const ID_WIDTH = 64;

/**
 * What a terminal acts on instead of showing: C0 (newline and tab included, as they break lines and
 * columns), DEL, C1, the line and paragraph separators, and Unicode's Bidi_Control characters.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

const NAMED: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** One unsafe character as the literal an operator can read and a JSON or JS string would take back. */
function spelt(c: string): string {
  const named = NAMED[c];
  if (named !== undefined) return named;
  const code = c.charCodeAt(0);
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, "0")}`
    : `\\u${code.toString(16).padStart(4, "0")}`;
}

/**
 * `value` with every unsafe character spelt out (`\x1b`, `\n`, `\u202e`); at most `maxChars` characters long,
 * the cut marked `…` and never inside a spelt-out character. A backslash is left as it is: ids that hold one
 * stay copyable, and text escaped once comes back unchanged from a second pass.
 */
export function terminalText(value: string, maxChars = Number.POSITIVE_INFINITY): string {
  const pieces: string[] = [];
  let width = 0;
  for (const c of value) {
    const piece = UNSAFE.test(c) ? spelt(c) : c;
    pieces.push(piece);
    width += piece.length;
  }
  if (width <= maxChars) return pieces.join("");
  let kept = "";
  let keptWidth = 0;
  for (const piece of pieces) {
    if (keptWidth + piece.length > maxChars - 1) break;
    kept += piece;
    keptWidth += piece.length;
  }
  return `${kept}…`;
}

/** An id for a table cell or a line: escaped, and cut to ID_WIDTH (the JSON output has it whole). */
export const terminalId = (id: string): string => terminalText(id, ID_WIDTH);
