import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // test/packaging (real installs, minutes) runs as a CI step of its own: `npm run test:packaging`.
    include: ["test/unit/**/*.test.ts", "test/e2e/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Separate processes: native handles (pg sockets, child servers) and process-wide state stay isolated.
    pool: "forks",
    // Test files mostly wait on PostgreSQL, which shares the machine: 2 workers on a 2-core runner, at most 4.
    maxWorkers: Math.min(4, Math.max(2, availableParallelism())),
  },
});
