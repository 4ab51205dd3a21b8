import { afterEach, describe, expect, it, vi } from "vitest";
import { testdir, type TestDir } from "@xo-foundry/testkit";
import { main } from "./index.js";

let dir: TestDir;
afterEach(() => {
  vi.restoreAllMocks();
  return dir?.remove();
});

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, "write").mockImplementation((chunk) => (out.push(String(chunk)), true));
  vi.spyOn(process.stderr, "write").mockImplementation((chunk) => (err.push(String(chunk)), true));
  // Colors depend on the terminal running the tests; the words do not.
  const plain = (parts: string[]) => parts.join("").replace(/\x1b\[[0-9;]*m/g, "");
  return { out: () => plain(out), err: () => plain(err) };
}

describe("main", () => {
  it("exits 1 with diagnostics, not a trace, when no plugin provides the source", async () => {
    dir = await testdir({
      "package.json": "{}",
      "p.yaml": "pipeline:\n  name: p\n  start_date: 2026-01-01\nsource:\n  plugin: api\n  streams:\n    - name: s\n",
    });
    const io = capture();
    const code = await main(["node", "xo-foundry", "validate-config", dir.path("p.yaml")]);
    expect(code).toBe(1);
    expect(io.err()).toContain("error XO_PLUGIN_UNKNOWN");
    expect(io.err()).toContain("npm install @xo-foundry/plugin-api");
    expect(io.err()).toContain("npm install @xo-foundry/template-ingest");
    expect(io.err()).not.toMatch(/^\s+at /m);
  });

  it("prints the version and help", async () => {
    const io = capture();
    expect(await main(["node", "xo-foundry", "--version"])).toBe(0);
    expect(io.out()).toMatch(/^\d+\.\d+\.\d+\n$/);
    expect(await main(["node", "xo-foundry", "--help"])).toBe(0);
    for (const command of ["validate-config", "generate-dag", "generate-dags", "run", "task", "plugins", "schema"]) {
      expect(io.out()).toContain(command);
    }
  });

  it("answers an unknown command with exit 1", async () => {
    const io = capture();
    expect(await main(["node", "xo-foundry", "generate"])).toBe(1);
    expect(io.err()).toContain("unknown command 'generate'");
  });

  it("rejects an impossible --date before touching anything", async () => {
    dir = await testdir({ "package.json": "{}" });
    const io = capture();
    expect(await main(["node", "xo-foundry", "task", "p.yaml", "extract_s", "--logical-date", "2026-02-30", "--run-id", "r", "--project-dir", dir.dir])).toBe(1);
    expect(io.err()).toContain("error XO_DATE_INVALID");
    expect(io.err()).toContain("use YYYY-MM-DD");
  });
});
