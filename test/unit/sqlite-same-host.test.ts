import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { networkFilesystem, sharedFileProblem } from "../../src/sqlite/same-host.js";

describe("a SQLite file is for one host", () => {
  it.each([
    [0x6969, "NFS"],
    [0xff534d42, "CIFS"],
    [0xfe534d42, "SMB2"],
    [0x01021997, "9P"],
    [0x00c36400, "CephFS"],
  ])("a file system of type %s is a network one (%s)", (type, name) => {
    expect(networkFilesystem(type)).toBe(name);
  });

  it.each([
    [0xef53, "ext4"],
    [0x58465342, "XFS"],
    [0x9123683e, "Btrfs"],
    [0x794c7630, "overlayfs"],
    [0x01021994, "tmpfs"],
  ])("a file system of type %s is local (%s)", (type) => {
    expect(networkFilesystem(type)).toBeNull();
  });

  it("accepts a file on this machine's temporary directory, existing or not", async () => {
    const dir = mkdtempSync(join(tmpdir(), "same-host-"));
    try {
      expect(await sharedFileProblem(join(dir, "calls.db"))).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
