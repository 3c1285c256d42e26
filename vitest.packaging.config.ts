import { defineConfig } from "vitest/config";

/** `npm run test:packaging`: the image's stages replayed with real installs (minutes); no database needed. */
export default defineConfig({
  test: {
    include: ["test/packaging/**/*.test.ts"],
    testTimeout: 180_000,
    pool: "forks",
  },
});
