import { spawnSync } from "node:child_process";

/** True under CI (CI set and not "0"/"false"): a missing promtool is then a failure, not a skip. */
export const inCI = (() => {
  const ci = (process.env.CI ?? "").trim().toLowerCase();
  return ci !== "" && ci !== "0" && ci !== "false";
})();

/** `promtool --version`'s first line, or null when promtool is not on PATH. */
export function promtoolVersion(): string | null {
  const probe = spawnSync("promtool", ["--version"], { encoding: "utf8" });
  if (probe.error !== undefined) return null;
  return `${probe.stdout}${probe.stderr}`.split("\n")[0] ?? "promtool";
}

/** Runs promtool with `args` (and `input` on stdin); its exit status and everything it printed. */
export function promtool(
  args: string[],
  opts: { cwd?: string; input?: string } = {},
): { status: number | null; output: string } {
  const r = spawnSync("promtool", args, {
    encoding: "utf8",
    timeout: 60_000,
    ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
    ...(opts.input !== undefined ? { input: opts.input } : {}),
  });
  if (r.error !== undefined) throw new Error(`could not run promtool ${args.join(" ")}: ${r.error.message}`);
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}
