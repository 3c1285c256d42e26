/**
 * `doctor`'s line for the SQLite file itself. The daemon writes its ends into the app's file, and SQLite
 * writes its rollback journal (or WAL) beside it: both the file and its directory must be writable by the
 * user the daemon runs as. Kept free of the project's modules: root may write any file whatever its mode, so
 * its test runs this module alone, in a child process, as another user.
 */
import { constants } from "node:fs";
import { access } from "node:fs/promises";
import { dirname } from "node:path";
import type { DoctorFinding } from "../model/database.js";

const NAME = "file";

/** Who this process is, as `chown` and `id` spell it. */
const user = (): string =>
  process.getuid === undefined ? "this user" : `uid ${process.getuid()} (gid ${process.getgid?.()})`;

/** Why an access check failed, as the fix it calls for. */
function fixFor(err: unknown, what: string, chmod: string): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "EROFS") return `${what} is on a read-only filesystem: mount the volume read-write`;
  const owner = process.getuid === undefined ? "" : ` or \`chown ${process.getuid()}:${process.getgid?.()}\``;
  return `${what} is not writable by ${user()}: run the daemon as the app's user, or \`${chmod}\`${owner} it (in a container, the volume's owner)`;
}

/** The file exists and this user may read and write it and create files beside it. */
export async function fileFinding(path: string, busyTimeoutMs: number): Promise<DoctorFinding> {
  try {
    await access(path, constants.F_OK);
  } catch (err) {
    const detail =
      (err as NodeJS.ErrnoException).code === "ENOENT"
        ? `there is no SQLite file at ${path}: check DATABASE_URL and the volume the daemon mounts`
        : `${user()} cannot reach ${path}: give it search (x) permission on every directory above the file`;
    return { name: NAME, state: "fail", detail };
  }
  try {
    await access(path, constants.R_OK | constants.W_OK);
  } catch (err) {
    return { name: NAME, state: "fail", detail: fixFor(err, path, `chmod u+rw ${path}`) };
  }
  const dir = dirname(path);
  try {
    await access(dir, constants.W_OK | constants.X_OK);
  } catch (err) {
    return {
      name: NAME,
      state: "fail",
      detail: `${fixFor(err, `its directory ${dir}`, `chmod u+wx ${dir}`)}; SQLite writes its journal there, beside the file`,
    };
  }
  const wait =
    busyTimeoutMs === 0
      ? "SQLITE_BUSY_TIMEOUT_MS=0: a statement gives up at once whenever the app holds the file's lock; set it to a few seconds (5000)"
      : `a statement waits up to ${busyTimeoutMs} ms for the app's lock (SQLITE_BUSY_TIMEOUT_MS)`;
  return {
    name: NAME,
    state: busyTimeoutMs === 0 ? "warn" : "pass",
    detail: `${path} and its directory are readable and writable by ${user()}; ${wait}`,
  };
}
