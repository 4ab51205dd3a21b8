import { afterAll, beforeAll, describe, expect, it } from "vitest";
import path from "node:path";
import { sandbox, xo } from "./helpers.js";

const GOOD = `pipeline:
  name: shop
  start_date: 2026-01-01
source:
  plugin: api
  base_url: http://127.0.0.1:9/v1
  streams:
    - name: orders
      path: orders
`;

const aliasBomb = ["a: &a [x, x, x, x, x, x, x, x, x]"];
for (let i = 1; i < 10; i++) {
  const [prev, cur] = [String.fromCharCode(96 + i), String.fromCharCode(97 + i)];
  aliasBomb.push(`${cur}: &${cur} [${Array(9).fill(`*${prev}`).join(", ")}]`);
}

/** Each bad file, the location the error must point at, its code and a phrase of the message or hint. */
const cases: { name: string; yaml: string; at: string; code: string; says: string }[] = [
  { name: "syntax", yaml: "pipeline:\n  name: shop\n  tags: [a, b\n", at: ":4:1", code: "XO_CONFIG_YAML_SYNTAX", says: "YAML syntax error" },
  { name: "unknown-key", yaml: GOOD.replace("start_date", "shedule: '@daily'\n  start_date"), at: ":3:3", code: "XO_CONFIG_UNKNOWN_KEY", says: 'did you mean "schedule"?' },
  { name: "wrong-type", yaml: GOOD.replace("start_date: 2026-01-01", "start_date: 2026-01-01\n  retries: many"), at: ":4:12", code: "XO_CONFIG_INVALID_TYPE", says: 'expected a number, found the string "many"' },
  { name: "missing", yaml: GOOD.replace("  start_date: 2026-01-01\n", ""), at: ":1:1", code: "XO_CONFIG_MISSING_KEY", says: 'missing required key "start_date"' },
  { name: "unknown-plugin", yaml: GOOD.replace("plugin: api", "plugin: apy"), at: ":5:11", code: "XO_PLUGIN_UNKNOWN", says: 'did you mean "api"?' },
  { name: "dotdot-name", yaml: GOOD.replace("name: orders", "name: ../x"), at: ":8:13", code: "XO_CONFIG_UNSAFE_NAME", says: 'stream name "../x" is not a safe name' },
  { name: "space-name", yaml: GOOD.replace("name: shop", "name: my shop"), at: ":2:9", code: "XO_CONFIG_UNSAFE_NAME", says: 'pipeline name "my shop" is not a safe name' },
  { name: "duplicate", yaml: `${GOOD}    - name: orders\n      path: orders2\n`, at: ":10:13", code: "XO_CONFIG_DUPLICATE_NAME", says: "already used at source.streams[0].name" },
  { name: "alias-bomb", yaml: `${aliasBomb.join("\n")}\n`, at: ":1:1", code: "XO_CONFIG_ALIAS_LIMIT", says: "alias bomb" },
];

let project: Awaited<ReturnType<typeof sandbox>>;
beforeAll(async () => {
  project = await sandbox(Object.fromEntries(cases.map((c) => [`${c.name}.yaml`, c.yaml])));
});
afterAll(() => project.remove());

describe("bad input", () => {
  it.each(cases)("$name: one screen, file:line:col, exit 1, no stack trace", async (c) => {
    const file = path.join(project.dir, `${c.name}.yaml`);
    const started = performance.now();
    const r = await xo(["validate-config", file], { cwd: project.dir });
    const elapsed = performance.now() - started;
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${c.name}.yaml${c.at} error ${c.code}`);
    expect(r.stderr).toContain(c.says);
    expect(r.stderr).not.toMatch(/^\s+at /m); // no stack frames
    expect(r.stderr).not.toMatch(/node_modules|\.ts:\d+/);
    expect(r.stderr.split("\n").length).toBeLessThan(25);
    console.log(`${c.name}: ${Math.round(elapsed)} ms for the whole CLI process`);
  });

  it("lists every error of a file, and --json gives the same diagnostics to machines", async () => {
    const yaml = GOOD.replace("name: shop", "name: Shop").replace("name: orders", "name: orders\n      pth: x").replace("plugin: api", "plugin: api\n  timeout_ms: soon");
    const file = path.join(project.dir, "many.yaml");
    await import("node:fs/promises").then((fs) => fs.writeFile(file, yaml));
    const r = await xo(["validate-config", file, "--json"], { cwd: project.dir });
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as { files: { diagnostics: { code: string; path: string; line: number; column: number }[] }[] };
    const ds = report.files[0]!.diagnostics;
    expect(ds.map((d) => d.path).sort()).toEqual(["pipeline.name", "source.streams[0].pth", "source.timeout_ms"]);
    expect(ds.every((d) => d.line > 0 && d.column > 0)).toBe(true);
  });

  it("exits 1 with a clear message for a file that does not exist", async () => {
    const r = await xo(["validate-config", "no/such/pipeline.yaml"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error XO_CONFIG_NOT_FOUND");
  });

  it("refuses an unknown command option with usage help, not a trace", async () => {
    const r = await xo(["generate-dags", "examples"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("required option '-o, --out <dir>' not specified");
  });
});
