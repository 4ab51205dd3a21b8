import { defineConfig } from "vitest/config";

// Tests import sibling workspace packages from their TypeScript sources (the
// "xo-source" export condition), so a test run never depends on a stale dist/.
export default defineConfig({
  resolve: { conditions: ["xo-source"] },
  ssr: { resolve: { conditions: ["xo-source"] } },
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
