import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { definePlugin, streamTasks } from "@xo-foundry/core";
import { duckdb } from "@xo-foundry/plugin-duckdb";
import { testdir, type TestDir } from "@xo-foundry/testkit";
import { main } from "../index.js";
import { liveLine, progressMode } from "../output.js";

// Real: the DuckDB plugin, its database file, the runtime and the file:// landing zone.
// Stand-ins: a source that yields two rows, one that yields a row every few milliseconds,
// and a template with one extract and one load per stream.
const injected = vi.hoisted(() => ({ plugins: [] as unknown[] }));
vi.mock("@xo-foundry/core", async (importOriginal) => {
  const core = await importOriginal<typeof import("@xo-foundry/core")>();
  return { ...core, openProject: (start: string) => core.openProject(start, { discover: false, plugins: injected.plugins }) };
});
beforeAll(() => {
  injected.plugins = [
    definePlugin({
      name: "@acme/plugin-rows",
      version: "1.0.0",
      sources: [
        {
          id: "rows",
          description: "two fixed rows",
          options: z.object({}),
          stream: z.object({}),
          async *extract() {
            yield { type: "records", records: [{ id: 1 }, { id: 2 }] };
          },
        },
        {
          id: "slow",
          description: "a page of one row every `delay` ms",
          options: z.object({}),
          stream: z.object({ pages: z.number().int().default(8), delay: z.number().int().default(40) }),
          async *extract(ctx) {
            const o = ctx.streamOptions as { pages: number; delay: number };
            for (let p = 0; p < o.pages; p++) {
              await new Promise((r) => setTimeout(r, o.delay));
              yield { type: "records", records: [{ id: p }] };
            }
          },
        },
      ],
      templates: [{ id: "ingest", description: "", isDefault: true, tasks: (p) => streamTasks(p.config, { groupBySource: false }) }],
    }),
    duckdb(),
  ];
});

let dir: TestDir;
let stdout: string[];
let stderr: string[];
const restore: (() => void)[] = [];
/** Makes a stream look like a terminal, or not, for one test. */
function tty(stream: NodeJS.WriteStream, isTTY: boolean, columns = 100) {
  const saved = { isTTY: Object.getOwnPropertyDescriptor(stream, "isTTY"), columns: Object.getOwnPropertyDescriptor(stream, "columns") };
  Object.defineProperty(stream, "isTTY", { value: isTTY, configurable: true, writable: true });
  Object.defineProperty(stream, "columns", { value: columns, configurable: true, writable: true });
  restore.push(() => {
    for (const key of ["isTTY", "columns"] as const) {
      if (saved[key]) Object.defineProperty(stream, key, saved[key]);
      else delete (stream as unknown as Record<string, unknown>)[key];
    }
  });
}
beforeEach(() => {
  stdout = [];
  stderr = [];
  vi.spyOn(process.stdout, "write").mockImplementation((chunk) => (stdout.push(String(chunk)), true));
  vi.spyOn(process.stderr, "write").mockImplementation((chunk) => (stderr.push(String(chunk)), true));
  tty(process.stdout, false);
  tty(process.stderr, false);
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  while (restore.length) restore.pop()!();
  return dir?.remove();
});

const plain = (parts: string[]) => parts.join("").replace(/\x1b\[[0-9;]*m/g, "");

const PIPELINE = `pipeline:
  name: shop
  start_date: 2026-01-01
source:
  plugin: rows
  streams:
    - name: orders
      target:
        create: false
sink:
  plugin: duckdb
  database: warehouse.duckdb
`;

describe("xo-foundry run", () => {
  it("reports the DuckDB plugin's own code for a `create: false` target whose table is missing", async () => {
    dir = await testdir({ "package.json": "{}", "shop.yaml": PIPELINE });
    const code = await main(["node", "xo-foundry", "run", dir.path("shop.yaml"), "--date", "2026-01-02"]);
    const err = plain(stderr);
    expect(code).toBe(1);
    expect(err).toMatch(
      /^error XO_DUCKDB_TABLE_MISSING\n {2}task "load_orders" failed in @xo-foundry\/plugin-duckdb@\S+ \(load\): table main\.orders does not exist and the target has `create: false`\n {2}hint: create the table first/m,
    );
    expect(err).not.toContain("XO_STEP_FAILED");
    expect(err).not.toMatch(/^\s+at /m);
  });
});

const SLOW = `pipeline:
  name: slow_shop
  start_date: 2026-01-01
source:
  plugin: slow
  streams:
    - name: orders
sink:
  plugin: duckdb
  database: warehouse.duckdb
`;

describe("progress", () => {
  const PROGRESS = /^progress extract_orders: \d+ rows?, \d+ pages?, \d+ B, [\d,]+ rows\/s, \ds elapsed$/m;

  it("prints plain progress lines on stderr every interval when stderr is no terminal", async () => {
    vi.stubEnv("XO_PROGRESS_INTERVAL_SECONDS", "0.05");
    dir = await testdir({ "package.json": "{}", "shop.yaml": SLOW });
    const code = await main(["node", "xo-foundry", "run", dir.path("shop.yaml"), "--date", "2026-01-02"]);
    expect(code).toBe(0);
    expect(plain(stderr)).toMatch(PROGRESS);
    expect(plain(stdout)).toMatch(/✔ extract_orders\s+8 rows, 1 file\(s\) landed/);
    expect(plain(stdout)).not.toContain("progress");
  });

  it("keeps --json output to the document alone", async () => {
    vi.stubEnv("XO_PROGRESS_INTERVAL_SECONDS", "0.05");
    dir = await testdir({ "package.json": "{}", "shop.yaml": SLOW });
    const code = await main(["node", "xo-foundry", "run", dir.path("shop.yaml"), "--date", "2026-01-02", "--json"]);
    expect(code).toBe(0);
    expect(stderr.join("")).toBe("");
    expect(JSON.parse(stdout.join(""))).toMatchObject({ ok: true });
  });

  it("prints nothing with XO_PROGRESS_INTERVAL_SECONDS=0 and refuses a value that is no number", async () => {
    dir = await testdir({ "package.json": "{}", "shop.yaml": SLOW });
    vi.stubEnv("XO_PROGRESS_INTERVAL_SECONDS", "0");
    expect(await main(["node", "xo-foundry", "run", dir.path("shop.yaml"), "--date", "2026-01-02"])).toBe(0);
    expect(stderr.join("")).toBe("");
    vi.stubEnv("XO_PROGRESS_INTERVAL_SECONDS", "often");
    expect(await main(["node", "xo-foundry", "run", dir.path("shop.yaml"), "--date", "2026-01-02"])).toBe(1);
    expect(plain(stderr)).toContain('XO_PROGRESS_INTERVAL_SECONDS must be a number of seconds (0 turns progress off) (found "often")');
  });

  it("prints the lines from `task` too, with its XCom still the last stdout line", async () => {
    vi.stubEnv("XO_PROGRESS_INTERVAL_SECONDS", "0.05");
    dir = await testdir({ "package.json": "{}", "shop.yaml": SLOW });
    const code = await main(["node", "xo-foundry", "task", "shop.yaml", "extract_orders", "--logical-date", "2026-01-02", "--run-id", "r1", "--project-dir", dir.path()]);
    expect(code).toBe(0);
    expect(plain(stderr)).toMatch(PROGRESS);
    expect(JSON.parse(stdout.join("").trim().split("\n").pop()!)).toMatchObject({ task: "extract_orders", summary: { rows: 8 } });
  });

  it("draws live lines on a terminal and erases them when the run ends", async () => {
    vi.stubEnv("CI", "");
    vi.stubEnv("TERM", "xterm-256color");
    tty(process.stderr, true);
    dir = await testdir({ "package.json": "{}", "shop.yaml": SLOW.replace("- name: orders", "- name: orders\n      pages: 12") });
    const code = await main(["node", "xo-foundry", "run", dir.path("shop.yaml"), "--date", "2026-01-02"]);
    expect(code).toBe(0);
    const err = plain(stderr);
    expect(err).toMatch(/› extract_orders\s+\d+ rows?, \d+ pages?, \d+ B, [\d,]+ rows\/s\s+\d+s/);
    expect(err).not.toMatch(/^progress /m);
    expect(stderr.join("")).toContain("\x1b[?25h"); // the cursor is back
    expect(plain(stdout)).toMatch(/✔ extract_orders\s+12 rows/);
  });

  it("decides how progress is shown", () => {
    const terminal = { isTTY: true };
    expect(progressMode(false, 5000, {}, terminal)).toBe("live");
    expect(progressMode(false, 5000, {}, {})).toBe("lines");
    expect(progressMode(false, 5000, { CI: "true" }, terminal)).toBe("lines");
    expect(progressMode(false, 5000, { TERM: "dumb" }, terminal)).toBe("lines");
    expect(progressMode(true, 5000, {}, terminal)).toBe("off");
    expect(progressMode(false, 0, {}, {})).toBe("off");
  });

  it("fits a live line to the terminal, giving up colours before text", () => {
    const p = { task: "extract_orders", step: "extract", startedAt: 0, phase: "extracting" as const, rows: 1_250_000, pages: 250, bytes: 310_000_000, files: 0 };
    const wide = liveLine(p, 16, 120, 30_000).replace(/\x1b\[[0-9;]*m/g, "");
    expect(wide).toBe("› extract_orders   1,250,000 rows, 250 pages, 310 MB, 41,667 rows/s     30s");
    const narrow = liveLine(p, 16, 50, 30_000);
    expect(narrow).toBe("› extract_orders   1,250,000 rows, 250 p…     30s");
    expect(narrow).toHaveLength(49);
  });
});
