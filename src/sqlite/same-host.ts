/**
 * SQLite is for one host: its locks are the file system's, and on a network file system they do not hold
 * between hosts (SQLite's own documentation warns of corruption). A file there is refused: two daemons, or the
 * daemon and the app, on two hosts could both write. PostgreSQL is where a deployment grows past one host.
 */
import { statfs } from "node:fs/promises";
import { dirname } from "node:path";

/** statfs(2) `f_type` of the network file systems Linux mounts (linux/magic.h), by name. */
const NETWORK_FILESYSTEMS: ReadonlyMap<number, string> = new Map([
  [0x6969, "NFS"],
  [0x517b, "SMB"],
  [0xff534d42, "CIFS"],
  [0xfe534d42, "SMB2"],
  [0x01021997, "9P"],
  [0x564c, "NCP"],
  [0x5346414f, "AFS"],
  [0x6b414653, "AFS"],
  [0x00c36400, "CephFS"],
  [0x47504653, "GPFS"],
  [0x0bd00bd0, "Lustre"],
]);

/** The network file system a statfs type names, or null for a local one. */
export function networkFilesystem(type: number): string | null {
  return NETWORK_FILESYSTEMS.get(type) ?? null;
}

/**
 * Why the file at `path` cannot be shared safely with the app through SQLite's locks (a network file system),
 * or null. Asked of the file's directory: the file may not exist yet.
 */
export async function sharedFileProblem(path: string): Promise<string | null> {
  const stats = await statfs(dirname(path)).catch(() => null);
  const name = stats === null ? null : networkFilesystem(Number(stats.type));
  return name === null
    ? null
    : `DATABASE_URL: ${path} is on a network file system (${name}), where SQLite's locks do not hold between hosts: run the daemon on the host that writes the file, with the file on a local disk, or move the calls table to PostgreSQL to run on several hosts`;
}
