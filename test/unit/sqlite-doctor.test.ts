import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ts from "typescript";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DoctorFinding } from "../../src/model/index.js";
import { fileFinding, journalModeFinding, readStatusWords } from "../../src/sqlite/doctor.js";
import { setJournalMode } from "../../src/sqlite/migrate.js";
import { APP_MAPPING, type AppFile, appFile, insertCall } from "../helpers/sqlite-app-file.js";

/**
 * Root may write any file whatever its mode, so as root the check runs as another user (nobody), in a child
 * process, on the module's own code; the file and directory are given to that user as the app's would be.
 */
const ROOT = process.getuid?.() === 0;
const OTHER = 65534;

function fileFindingAsOtherUser(path: string, busyTimeoutMs: number): DoctorFinding {
  const source = readFileSync(new URL("../../src/sqlite/doctor-file.ts", import.meta.url), "utf8");
  const js = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  const run = spawnSync(
    process.execPath,
    [
      "--input-type=module",
      "-e",
      `${js}\nconsole.log(JSON.stringify(await fileFinding(${JSON.stringify(path)}, ${busyTimeoutMs})));`,
    ],
    { uid: OTHER, gid: OTHER, cwd: "/", encoding: "utf8" },
  );
  if (run.status !== 0) throw new Error(run.stderr);
  return JSON.parse(run.stdout) as DoctorFinding;
}

const checkFile = (path: string, busyTimeoutMs = 5_000): Promise<DoctorFinding> =>
  ROOT ? Promise.resolve(fileFindingAsOtherUser(path, busyTimeoutMs)) : fileFinding(path, busyTimeoutMs);

/** Gives the file or directory to the user the check runs as, with `mode`. */
function own(path: string, mode: number): void {
  if (ROOT) chownSync(path, OTHER, OTHER);
  chmodSync(path, mode);
}

describe("the SQLite file's doctor line", () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "sqlite-doctor-"));
    path = join(dir, "calls.db");
    writeFileSync(path, "");
  });
  afterEach(() => {
    chmodSync(dir, 0o700);
    rmSync(dir, { recursive: true, force: true });
  });

  it("passes a file and directory this user may write, with the busy timeout", async () => {
    own(dir, 0o755);
    own(path, 0o644);
    const found = await checkFile(path);
    expect(found).toMatchObject({ name: "file", state: "pass" });
    expect(found.detail).toContain("waits up to 5000 ms");
  });

  it("fails a file this user may only read, with the fix", async () => {
    own(dir, 0o755);
    own(path, 0o444);
    const found = await checkFile(path);
    expect(found.state).toBe("fail");
    expect(found.detail).toContain(`${path} is not writable by`);
    expect(found.detail).toContain(`chmod u+rw ${path}`);
  });

  it("fails a directory this user cannot write: the journal goes beside the file", async () => {
    own(path, 0o666);
    if (ROOT) chmodSync(dir, 0o755);
    else chmodSync(dir, 0o555);
    const found = await checkFile(path);
    expect(found.state).toBe("fail");
    expect(found.detail).toContain(`its directory ${dir} is not writable`);
    expect(found.detail).toContain("journal");
  });

  it("fails a file that is not there, and warns when the daemon would never wait for the app's lock", async () => {
    own(dir, 0o755);
    expect(await checkFile(join(dir, "nope.db"))).toMatchObject({ state: "fail" });
    expect((await checkFile(join(dir, "nope.db"))).detail).toContain("no SQLite file at");
    own(path, 0o644);
    expect(await checkFile(path, 0)).toMatchObject({ state: "warn" });
  });
});

describe("journal mode and status words", () => {
  let f: AppFile;
  beforeEach(async () => {
    f = await appFile({ own: false });
  });
  afterEach(() => f.close());

  it("passes a rollback journal, and WAL with what it needs", async () => {
    expect(await journalModeFinding(f.file)).toMatchObject({ state: "pass", name: "journal mode" });
    expect((await journalModeFinding(f.file)).detail).toMatch(/^delete/);
    await setJournalMode(f.file, "wal");
    const wal = await journalModeFinding(f.file);
    expect(wal.state).toBe("pass");
    expect(wal.detail).toContain("-wal and -shm");
  });

  it("warns when the app's finished rows spell a status the daemon would write otherwise", async () => {
    const startedAt = new Date("2026-12-06T10:00:00Z");
    const endedAt = new Date("2026-12-06T10:01:00Z");
    insertCall(f.app, { id: "CA1", status: "completed", startedAt, endedAt });
    insertCall(f.app, { id: "CA2", status: "cancelled", startedAt, endedAt });
    insertCall(f.app, { id: "CA3", status: "active", startedAt });
    const words = await readStatusWords(f.file, APP_MAPPING, {});
    expect(words.finished).toEqual(["cancelled", "completed"]);
    expect(words.warnings).toEqual([
      'the daemon would write canceled, which no finished row of calls carries, but "cancelled" does: set STATUS_MAP=canceled:cancelled',
    ]);
    const mapped = await readStatusWords(f.file, APP_MAPPING, { canceled: "cancelled" });
    expect(mapped.warnings).toEqual([]);
  });
});
