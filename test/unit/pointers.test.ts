/**
 * A reader who follows a pointer in a comment or a page must find its target: every path a source file, test
 * comment, doc or script names exists (in this repository, or in the installed package it names), and nothing
 * points at notes or tracker numbers outside the repository.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..", "..");
const tracked = execFileSync("git", ["ls-files"], { cwd: ROOT, encoding: "utf8" })
  .split("\n")
  .filter((f) => f !== "" && existsSync(join(ROOT, f)));
const trackedSet = new Set(tracked);

/** Files a reader reads: the code and its tests, the docs, the scripts and the CI. */
const READ = tracked.filter(
  (f) => /^(src|test|docs|bench|scripts|config)\//.test(f) || f === "README.md" || f.startsWith(".ci/"),
);
const TEXT = READ.filter((f) => /\.(ts|md|ya?ml|sh|cjs)$/.test(f) || f === ".ci/run");

/** In tests only comments are pointers: paths inside strings there are fixtures (made-up files, URLs). */
function pointerText(file: string): string {
  const text = readFileSync(join(ROOT, file), "utf8");
  if (!file.startsWith("test/")) return text;
  return text
    .split("\n")
    .filter((l) => /^\s*(\/\/|\/?\*)/.test(l))
    .join("\n");
}

/** `dir/…/name.ext`, not inside a URL or a longer word. */
const PATH = /(?<![\w/.:@-])((?:\.\.\/)*(?:[\w.-]+\/)+[\w.-]+\.(?:ts|md|ya?ml|json|cjs|sh|js))\b/g;

/** A path counts as found relative to the file, any folder above it, the root, or an installed package. */
function resolves(file: string, path: string): boolean {
  const candidates: string[] = [];
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    candidates.push(normalize(join(dir, path)));
    if (dir === "." || dir === "") break;
  }
  const withTs = candidates.flatMap((c) => (c.endsWith(".js") ? [c, `${c.slice(0, -3)}.ts`] : [c]));
  if (withTs.some((c) => trackedSet.has(c))) return true;
  // A path inside a dependency (`openai/realtime/…`) is checked against what npm installed.
  return existsSync(join(ROOT, "node_modules", path));
}

/** Paths named for a repository that is not this one: where the comment says which (a provider's spec). */
const ELSEWHERE = [/^spec\/json\/twilio_/, /^api\.twilio\.com\//];

describe("pointers in code, tests and docs", () => {
  it("every path a file names exists", () => {
    const dead: string[] = [];
    for (const file of TEXT) {
      const lines = pointerText(file).split("\n");
      lines.forEach((line, i) => {
        // A path resolved against the module's own URL is code that runs from the build folder, not a pointer.
        if (line.includes("import.meta.url")) return;
        for (const m of line.matchAll(PATH)) {
          const path = m[1] ?? "";
          if (path.startsWith("node_modules/") || /(^|\/)(dist|\.bench-build|\.scripts-build)\//.test(path))
            continue;
          if (ELSEWHERE.some((re) => re.test(path))) continue;
          if (!resolves(file, path)) dead.push(`${file}:${i + 1}: ${path}`);
        }
      });
    }
    expect(dead).toEqual([]);
  });

  it("every file named without its folder exists somewhere in the repository", () => {
    const names = new Set(tracked.map((f) => f.slice(f.lastIndexOf("/") + 1)));
    const BARE = /(?<![\w/.-])([A-Za-z][\w-]*\.(?:ts|md|ya?ml|cjs))\b/g;
    const dead: string[] = [];
    for (const file of TEXT) {
      pointerText(file)
        .split("\n")
        .forEach((line, i) => {
          for (const m of line.matchAll(BARE)) {
            const name = m[1] ?? "";
            if (!names.has(name)) dead.push(`${file}:${i + 1}: ${name}`);
          }
        });
    }
    expect(dead).toEqual([]);
  });

  it("nothing points at notes outside the repository or at tracker numbers", () => {
    const outside: string[] = [];
    const NOTES = /DESIGN\.md|PROVIDERS\.md|\.\.\/shared\/|\b[Ii]ssue #?\d+|(?<![\w&/])#\d{1,4}\b(?![\w-])/;
    for (const file of TEXT.filter((f) => f !== "test/unit/pointers.test.ts")) {
      readFileSync(join(ROOT, file), "utf8")
        .split("\n")
        .forEach((line, i) => {
          const m = NOTES.exec(line);
          if (m !== null) outside.push(`${file}:${i + 1}: ${m[0]}`);
        });
    }
    expect(outside).toEqual([]);
  });

  it("the check finds a dead path and a tracker number (it can fail)", () => {
    expect(resolves("src/db/sql.ts", "sql/ends.ts")).toBe(true);
    expect(resolves("src/db/sql.ts", "sql/no-such-file.ts")).toBe(false);
    expect([..."see src/db/gone.ts here".matchAll(PATH)].map((m) => m[1])).toEqual(["src/db/gone.ts"]);
  });
});
