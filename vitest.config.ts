import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    environment: "node",
    // Dawn is a native addon: one process per test file keeps its instances apart.
    pool: "forks",
    setupFiles: ["src/gpu/node-globals.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
