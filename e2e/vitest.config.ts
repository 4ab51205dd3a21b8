import { defineConfig } from "vitest/config";

// End-to-end tests run the built CLI (dist), exactly as a user does.
export default defineConfig({
  test: { include: ["src/**/*.test.ts"], testTimeout: 120_000, hookTimeout: 120_000, fileParallelism: false },
});
