/** The tokens of a `pg_get_constraintdef` text, for check-values.ts. */

/** Thrown for anything the reader does not interpret. */
export class Unreadable extends Error {}

export type Token =
  | { t: "punct"; v: "(" | ")" | "[" | "]" | "," | "::" | "=" }
  | { t: "str"; v: string }
  | { t: "word"; v: string; quoted: boolean }
  /** Operators other than a lone `=`, numbers, and anything else this reader does not interpret. */
  | { t: "other"; v: string };

/** Splits the text; throws Unreadable on an unterminated string or quoted name. */
export function tokenize(s: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i] as string;
    if (c === " ") {
      i++;
    } else if (s.startsWith("::", i)) {
      out.push({ t: "punct", v: "::" });
      i += 2;
    } else if ("()[],".includes(c) || (c === "=" && !/[=<>!~]/.test(s[i + 1] ?? ""))) {
      out.push({ t: "punct", v: c as "(" | ")" | "[" | "]" | "," | "=" });
      i++;
    } else if (c === "'") {
      let v = "";
      i++;
      for (;;) {
        if (i >= s.length) throw new Unreadable();
        if (s[i] === "'") {
          if (s[i + 1] === "'") {
            v += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        v += s[i];
        i++;
      }
      out.push({ t: "str", v });
    } else if (c === '"') {
      const end = s.indexOf('"', i + 1);
      if (end < 0 || s[end + 1] === '"') throw new Unreadable();
      out.push({ t: "word", v: s.slice(i + 1, end), quoted: true });
      i = end + 1;
    } else {
      const word = /^[A-Za-z_][A-Za-z0-9_$]*/.exec(s.slice(i));
      const other = word === null ? /^[^\sA-Za-z_()[\],'"]+/.exec(s.slice(i)) : null;
      const v = (word ?? other)?.[0];
      if (v === undefined || v === "") throw new Unreadable();
      out.push(word !== null ? { t: "word", v, quoted: false } : { t: "other", v });
      i += v.length;
    }
  }
  return out;
}
