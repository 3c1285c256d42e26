import { type Token, tokenize, Unreadable } from "./check-tokens.js";

/**
 * Reads the set of values a CHECK constraint allows for one column, from its `pg_get_constraintdef` text,
 * when the constraint is of a form whose meaning is certain:
 *
 *   CHECK ((status = ANY (ARRAY['active'::text, 'completed'::text])))          -- status IN (...)
 *   CHECK (((status)::text = ANY ((ARRAY['a'::character varying])::text[])))   -- a varchar column
 *   CHECK ((status = 'active'::text))                                          -- status = '...'
 *   CHECK (VALUE = ANY (...))                                                  -- a domain's
 *
 * combined with AND and OR. Anything else (a function, `<>`, NOT, IS NULL, another column, an escape
 * string, a collation, a typmod) makes that part unknown: an OR with an unknown part is unknown; an AND keeps
 * its known parts (a value must pass every one). `null` means "cannot tell": the caller does not check.
 * (pg_get_constraintdef parenthesises every AND and OR, so the parts between them are read reliably; a CASE,
 * whose WHEN could hold a bare AND, makes the whole constraint unknown.)
 */
export function valuesAllowedByCheck(def: string, subject: string): Set<string> | null {
  const body = /^CHECK \((.*)\)(?: NOT VALID)?$/s.exec(def.trim())?.[1];
  if (body === undefined) return null;
  try {
    const p = new Parser(tokenize(body));
    const node = p.expr();
    if (!p.atEnd()) return null;
    return evaluate(node, subject);
  } catch {
    return null;
  }
}

type Node =
  | { k: "word"; v: string; quoted: boolean }
  | { k: "str"; v: string }
  | { k: "array"; items: Node[] }
  | { k: "any"; of: Node }
  | { k: "cast"; of: Node; type: string }
  | { k: "paren"; of: Node }
  | { k: "eq"; l: Node; r: Node }
  | { k: "and" | "or"; parts: Node[] }
  /** A part that was not read. */
  | { k: "opaque" };

const isKeyword = (tok: Token | undefined, kw: string) =>
  tok?.t === "word" && !tok.quoted && tok.v.toUpperCase() === kw;

class Parser {
  private i = 0;
  constructor(private readonly toks: Token[]) {}

  atEnd(): boolean {
    return this.i === this.toks.length;
  }

  expr(): Node {
    return this.list("or", () => this.list("and", () => this.comparison()));
  }

  private list(kind: "and" | "or", next: () => Node): Node {
    const parts = [next()];
    while (isKeyword(this.toks[this.i], kind.toUpperCase())) {
      this.i++;
      parts.push(next());
    }
    return parts.length === 1 ? (parts[0] as Node) : { k: kind, parts };
  }

  /** A comparison; or, when it is not one this reader knows, the tokens up to the next AND, OR or `)`. */
  private comparison(): Node {
    const start = this.i;
    try {
      return this.knownComparison();
    } catch (err) {
      if (!(err instanceof Unreadable)) throw err;
      this.i = start;
      this.skipPart();
      return { k: "opaque" };
    }
  }

  private skipPart(): void {
    let depth = 0;
    const begin = this.i;
    for (; this.i < this.toks.length; this.i++) {
      const tok = this.toks[this.i] as Token;
      if (isKeyword(tok, "CASE")) throw new Unreadable();
      if (tok.t === "punct" && (tok.v === "(" || tok.v === "[")) depth++;
      else if (tok.t === "punct" && (tok.v === ")" || tok.v === "]")) {
        if (depth === 0) break;
        depth--;
      } else if (depth === 0 && (isKeyword(tok, "AND") || isKeyword(tok, "OR"))) break;
    }
    if (this.i === begin || depth !== 0) throw new Unreadable();
  }

  private knownComparison(): Node {
    const l = this.operand();
    let node: Node = l;
    if (this.punct("=")) {
      if (isKeyword(this.toks[this.i], "ANY")) {
        this.i++;
        this.expect("(");
        const of = this.operand();
        this.expect(")");
        node = { k: "eq", l, r: { k: "any", of } };
      } else {
        node = { k: "eq", l, r: this.operand() };
      }
    }
    // Read only if nothing follows but the end of its group: `status IS NOT NULL` is not `status`.
    const next = this.toks[this.i];
    const boundary =
      next === undefined ||
      (next.t === "punct" && next.v === ")") ||
      isKeyword(next, "AND") ||
      isKeyword(next, "OR");
    if (!boundary) throw new Unreadable();
    return node;
  }

  private operand(): Node {
    let node = this.atom();
    while (this.punct("::")) node = { k: "cast", of: node, type: this.typeName() };
    return node;
  }

  private atom(): Node {
    const tok = this.toks[this.i++];
    if (tok === undefined) throw new Unreadable();
    if (tok.t === "str") return { k: "str", v: tok.v };
    if (tok.t === "punct" && tok.v === "(") {
      const of = this.expr();
      this.expect(")");
      return { k: "paren", of };
    }
    if (tok.t === "word" && isKeyword(tok, "ARRAY") && this.punct("[")) {
      const items = [this.operand()];
      while (this.punct(",")) items.push(this.operand());
      this.expect("]");
      return { k: "array", items };
    }
    // A function call (a word followed by a parenthesis) is not read.
    if (tok.t === "word" && !this.peekPunct("(")) return { k: "word", v: tok.v, quoted: tok.quoted };
    throw new Unreadable();
  }

  /** Words (`character varying`, `schema.type`, `"Call State"`), then `[]` for an array type. */
  private typeName(): string {
    const words: string[] = [];
    for (;;) {
      const tok = this.toks[this.i];
      if (tok?.t !== "word" || isKeyword(tok, "AND") || isKeyword(tok, "OR")) break;
      // A collation changes what `=` means (a case-insensitive one, say): not read.
      if (isKeyword(tok, "COLLATE")) throw new Unreadable();
      words.push(tok.quoted ? `"${tok.v}"` : tok.v.toLowerCase());
      this.i++;
    }
    if (words.length === 0) throw new Unreadable();
    let type = words.join(" ");
    if (this.peekPunct("[")) {
      this.i++;
      this.expect("]");
      type += "[]";
    }
    return type;
  }

  private punct(v: string): boolean {
    if (!this.peekPunct(v)) return false;
    this.i++;
    return true;
  }

  private peekPunct(v: string): boolean {
    const tok = this.toks[this.i];
    return tok?.t === "punct" && tok.v === v;
  }

  private expect(v: string): void {
    if (!this.punct(v)) throw new Unreadable();
  }
}

/** Casts that keep a status's text as it is. */
const TEXT_CASTS = new Set(["text", "character varying", "varchar"]);

function unparen(n: Node): Node {
  return n.k === "paren" ? unparen(n.of) : n;
}

function isSubject(n: Node, subject: string): boolean {
  const x = unparen(n);
  if (x.k === "cast") return TEXT_CASTS.has(x.type) && isSubject(x.of, subject);
  return x.k === "word" && x.v === subject;
}

/** A string literal, possibly cast to a scalar type (its label for an enum). */
function literal(n: Node): string | null {
  const x = unparen(n);
  if (x.k === "str") return x.v;
  if (x.k === "cast" && !x.type.endsWith("[]")) return literal(x.of);
  return null;
}

function arrayOfLiterals(n: Node): string[] | null {
  const x = unparen(n);
  if (x.k === "cast") return x.type.endsWith("[]") ? arrayOfLiterals(x.of) : null;
  if (x.k !== "array") return null;
  const values = x.items.map(literal);
  return values.every((v): v is string => v !== null) ? values : null;
}

function evaluate(n: Node, subject: string): Set<string> | null {
  const x = unparen(n);
  if (x.k === "or") {
    const parts = x.parts.map((p) => evaluate(p, subject));
    if (parts.some((p) => p === null)) return null;
    return new Set(parts.flatMap((p) => [...(p as Set<string>)]));
  }
  if (x.k === "and") {
    const known = x.parts.map((p) => evaluate(p, subject)).filter((p): p is Set<string> => p !== null);
    if (known.length === 0) return null;
    const [first, ...rest] = known as [Set<string>, ...Set<string>[]];
    return new Set([...first].filter((v) => rest.every((k) => k.has(v))));
  }
  if (x.k !== "eq") return null;
  for (const [col, other] of [
    [x.l, x.r],
    [x.r, x.l],
  ] as const) {
    if (!isSubject(col, subject)) continue;
    if (other.k === "any") {
      const values = arrayOfLiterals(other.of);
      return values === null ? null : new Set(values);
    }
    const value = literal(other);
    return value === null ? null : new Set([value]);
  }
  return null;
}
