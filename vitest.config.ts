import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // A hang detector, not a speed check: with three workers a core an e2e test of many CLI runs takes 20 s.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Separate processes: native handles (pg sockets, child servers) and process-wide state stay apart.
    pool: "forks",
    // Test files mostly wait (on PostgreSQL, on the CLI's child processes, on simulated providers and their
    // timers): with 2 workers on 2 cores the suite used 1.2 cores for 290 s; with 4, 176 s. Six were faster
    // still (146 s), but on a slowed shared host one run in four then failed: two workers a core, at most 8.
    maxWorkers: Math.min(8, 2 * Math.max(1, availableParallelism())),
    // test/packaging (real installs, minutes) runs as a CI step of its own: `npm run test:packaging`.
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          // A worker runs file after file: a new process a file cost a quarter of a second of CPU each, and
          // test/setup/unit-file.ts gives each file the start a process of its own would.
          isolate: false,
          setupFiles: ["test/setup/unit-file.ts"],
        },
      },
      {
        extends: true,
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          // Never a worker of the unit files: nock, once imported, would stand between these tests and the
          // network. Files share a worker, and with it the built CLI's modules that test/helpers/cli.ts runs.
          isolate: false,
          globalSetup: ["test/global-setup.ts"],
        },
      },
    ],
  },
});
