/** Reading the product's Markdown in tests: its headings' anchors, its code blocks, its relative links. */
import { readFileSync } from "node:fs";

export const ROOT = new URL("../../", import.meta.url);

export const readDoc = (path: string): string => readFileSync(new URL(path, ROOT), "utf8");

/** The text outside fenced code blocks: a `#` line in a shell block is not a heading, a `[x](y)` not a link. */
export const withoutCode = (markdown: string): string => markdown.replace(/^```[\s\S]*?^```/gm, "");

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens; repeats get -1, -2. */
export function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const [, text] of withoutCode(markdown).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = (text ?? "")
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** The targets of the inline links outside code: `[text](target)`, inline code spans left out. */
export function linkTargets(markdown: string): string[] {
  const prose = withoutCode(markdown).replace(/`[^`\n]*`/g, "");
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] ?? "");
}

/** The first ```sql block after the first heading whose text contains `heading`. */
export function sqlBlockUnder(markdown: string, heading: string): string {
  const at = markdown.search(new RegExp(`^#{1,6} .*${heading}`, "m"));
  if (at < 0) throw new Error(`no heading containing "${heading}"`);
  const block = /```sql\n([\s\S]*?)```/.exec(markdown.slice(at))?.[1];
  if (block === undefined) throw new Error(`no sql block under the heading containing "${heading}"`);
  return block;
}

/** The runtime GRANTs an operator copies: the README's block under its "Database privileges" step. */
export const readmeGrants = (): string => sqlBlockUnder(readDoc("README.md"), "Database privileges");
