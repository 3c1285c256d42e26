/**
 * The Dockerfile and .dockerignore as data, for the tests that check them without Docker: instructions by
 * stage, COPY sources, the context's ignore rules, and a child-process runner.
 */
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, posix } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface Instruction {
  keyword: string;
  args: string;
  stage: string;
}

/** Instructions in order, continuation lines joined and comments dropped, each tagged with its stage. */
export function parseDockerfile(text: string): Instruction[] {
  const logical: string[] = [];
  let pending = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("#")) continue; // comments, also inside a continued instruction
    if (line.endsWith("\\")) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const full = (pending + line).trim();
    pending = "";
    if (full !== "") logical.push(full);
  }
  let stage = "";
  let index = 0;
  return logical.map((l) => {
    const keyword = l.split(/\s/, 1)[0] ?? "";
    const args = l.slice(keyword.length).trim();
    if (keyword.toUpperCase() === "FROM") {
      stage = / AS (\S+)$/i.exec(args)?.[1] ?? String(index);
      index++;
    }
    return { keyword: keyword.toUpperCase(), args, stage };
  });
}

export interface Copy {
  from: string | undefined;
  sources: string[];
  dest: string;
}

export function parseCopy(args: string): Copy {
  const words = args.startsWith("[") ? [] : args.split(/\s+/);
  let from: string | undefined;
  while (words[0]?.startsWith("--")) {
    const flag = words.shift() as string;
    if (flag.startsWith("--from=")) from = flag.slice("--from=".length);
  }
  if (args.startsWith("[")) throw new Error(`COPY in JSON form is not handled by this test: ${args}`);
  const dest = words.pop();
  if (dest === undefined || words.length === 0)
    throw new Error(`COPY without source or destination: ${args}`);
  return { from, sources: words, dest };
}

/** A glob of .dockerignore (Go filepath.Match plus `**`) as a regular expression over a relative path. */
export function ignoreRegex(pattern: string): RegExp {
  const p = posix.normalize(pattern.replace(/^\/+/, ""));
  let re = "";
  for (let i = 0; i < p.length; i++) {
    const c = p[i] as string;
    if (c === "*" && p[i + 1] === "*") {
      re += ".*";
      i++;
      if (p[i + 1] === "/") i++;
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/** Whether .dockerignore keeps `path` (or one of its parent directories) out of the build context. */
export function dockerIgnored(path: string, patterns: string[]): boolean {
  const parts = posix.normalize(path).split("/");
  let ignored = false;
  for (const raw of patterns) {
    const negate = raw.startsWith("!");
    const re = ignoreRegex(negate ? raw.slice(1) : raw);
    for (let n = 1; n <= parts.length; n++) {
      if (re.test(parts.slice(0, n).join("/"))) ignored = !negate;
    }
  }
  return ignored;
}

/** Repo-relative paths a COPY source names (a `*` in the last part is expanded, like Docker does). */
export function expandSource(source: string): string[] {
  const clean = posix.normalize(source.replace(/^\.\//, ""));
  if (!clean.includes("*")) return [clean];
  const dir = posix.dirname(clean);
  const re = ignoreRegex(posix.basename(clean));
  const inDir = existsSync(join(ROOT, dir)) ? readdirSync(join(ROOT, dir)) : [];
  return inDir.filter((f) => re.test(f)).map((f) => posix.join(dir, f));
}

/** The `npm ci …` part of a RUN line, as argv (only flags: nothing else from the Dockerfile is run). */
export function npmCiArgs(run: string): string[] {
  const segment = run
    .split("&&")
    .map((s) => s.trim())
    .find((s) => s.startsWith("npm ci"));
  if (segment === undefined) throw new Error(`no "npm ci" in: ${run}`);
  const args = segment.split(/\s+/).slice(1);
  for (const a of args.slice(1))
    if (!/^--[a-z-]+(=[a-z]+)?$/.test(a)) throw new Error(`unexpected npm ci flag ${a} in: ${run}`);
  return args;
}
export const dockerfile = parseDockerfile(readFileSync(join(ROOT, "Dockerfile"), "utf8"));
export const stages = [...new Set(dockerfile.map((i) => i.stage))];
export const buildStage = stages[0] as string;
export const runtimeStage = stages[stages.length - 1] as string;
export const inStage = (stage: string, keyword: string) =>
  dockerfile.filter((i) => i.stage === stage && i.keyword === keyword);
export const ignorePatterns = readFileSync(join(ROOT, ".dockerignore"), "utf8")
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => l !== "" && !l.startsWith("#"));
export const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  version: string;
  bin: Record<string, string>;
};

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(
  file: string,
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { cwd: opts.cwd, env: opts.env, timeout: opts.timeoutMs, maxBuffer: 32 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === "number" ? err.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
