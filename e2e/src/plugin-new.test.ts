/**
 * `xo-foundry plugin new`, as a plugin author uses it: every kind of scaffold compiles and
 * passes its testkit contract suite as written, and a scaffolded source plugin, installed
 * in a user project next to first-party plugins, runs a pipeline end to end.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DuckDBInstance } from "@duckdb/node-api";
import { repo, run, sandbox, xo } from "./helpers.js";

const KINDS = ["source", "sink", "step", "template"] as const;
const tsc = path.join(repo, "node_modules/typescript/bin/tsc");
const vitest = path.join(repo, "node_modules/vitest/vitest.mjs");

let base: string;

beforeAll(async () => {
  // Inside the repo, so the scaffolds' dependencies resolve to the workspace packages.
  await mkdir(path.join(repo, "e2e/.tmp"), { recursive: true });
  base = await mkdtemp(path.join(repo, "e2e/.tmp/plugin-new-"));
});
afterAll(() => rm(base, { recursive: true, force: true }));

async function scaffold(name: string, kind: string): Promise<string> {
  const dir = path.join(base, `${kind}-${name}`);
  const r = await xo(["plugin", "new", name, "--kind", kind, "--dir", dir]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return dir;
}

describe.each(KINDS)("plugin new --kind %s", (kind) => {
  it("writes a package that builds and passes its contract suite as written", async () => {
    const dir = await scaffold(`acme_${kind}`, kind);
    expect((await readdir(dir)).sort()).toEqual([".gitignore", "README.md", "package.json", "src", "tsconfig.build.json", "tsconfig.json"]);
    const pkg = JSON.parse(await readFile(path.join(dir, "package.json"), "utf8")) as Record<string, Record<string, string>>;
    expect(pkg["xo-foundry"]).toEqual({ factory: `acme${kind[0]!.toUpperCase()}${kind.slice(1)}` });
    expect(pkg.peerDependencies!["@xo-foundry/core"]).toMatch(/^\^\d+\.\d+\.\d+$/);

    // Sources and tests type-check; the build compiles the sources to dist/.
    for (const config of ["tsconfig.json", "tsconfig.build.json"]) {
      const typecheck = await run(process.execPath, [tsc, "-p", config], { cwd: dir });
      expect(typecheck.stdout + typecheck.stderr).toBe("");
      expect(typecheck.code).toBe(0);
    }
    expect((await readdir(path.join(dir, "dist"))).sort()).toEqual(["index.d.ts", "index.js", `${kind}.d.ts`, `${kind}.js`]);

    // Its README documents the options from the built plugin's own schemas.
    const docs = await xo(["plugin", "docs", "."], { cwd: dir });
    expect(docs.code, docs.stderr).toBe(0);
    const readme = await readFile(path.join(dir, "README.md"), "utf8");
    expect(readme).toContain(`\`acme_${kind}`);
    if (kind !== "template") expect(readme).toMatch(/\| Key \| Type \| Required \| Description \|/);
    expect((await xo(["plugin", "docs", ".", "--check"], { cwd: dir })).code).toBe(0);

    const test = await run(process.execPath, [vitest, "run", "--reporter=verbose"], { cwd: dir, env: { CI: "1" } });
    const out = test.stdout + test.stderr;
    expect(out, out).toMatch(/Tests\s+\d+ passed/);
    expect(out).not.toMatch(/failed|skipped/i);
    expect(out).toContain("contract");
    expect(test.code).toBe(0);
  });
});

describe("plugin new refuses", () => {
  it("a folder that is not empty, and changes nothing in it", async () => {
    const dir = path.join(base, "taken");
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, "notes.txt"), "mine");
    const r = await xo(["plugin", "new", "acme", "--kind", "source", "--dir", dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("XO_CONFIG_INVALID_VALUE");
    expect(r.stderr).toContain("is not empty");
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(await readdir(dir)).toEqual(["notes.txt"]);
  });

  it("a name that cannot name a component, with an example of one that can", async () => {
    const r = await xo(["plugin", "new", "Acme-CRM", "--kind", "source", "--dir", path.join(base, "bad-name")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("lower-case letter");
    expect(r.stderr).toContain("acme_crm");
  });

  it("an unknown kind, naming the kinds", async () => {
    const r = await xo(["plugin", "new", "acme", "--kind", "warehouse", "--dir", path.join(base, "bad-kind")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/source, sink, step, template|"source", "sink", "step", "template"/);
  });
});

describe("a scaffolded source in a user project", () => {
  let api: Server;
  let url: string;
  const ROWS = 1234;

  beforeAll(async () => {
    // The scaffold's API shape: GET <path>?limit=&cursor= -> {items, next}; the cursor is an offset.
    api = createServer((req, res) => {
      const q = new URL(req.url ?? "/", "http://127.0.0.1").searchParams;
      if (req.headers.authorization !== "Bearer s3cret-token") {
        res.writeHead(401).end();
        return;
      }
      const limit = Number(q.get("limit"));
      const offset = Number(q.get("cursor") ?? 0);
      const items = Array.from({ length: Math.max(0, Math.min(limit, ROWS - offset)) }, (_, i) => ({ id: offset + i + 1, name: `item ${offset + i + 1}` }));
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ items, next: offset + limit < ROWS ? String(offset + limit) : "" }));
    });
    await new Promise<void>((resolve) => api.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => api.close(() => resolve())));

  it("validates, generates and runs next to the first-party plugins: exact rows", async () => {
    const plugin = await scaffold("acme", "source");
    expect((await run(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: plugin })).code).toBe(0);

    const project = await sandbox({
      "package.json": JSON.stringify({
        name: "uses-acme",
        private: true,
        dependencies: { "xo-foundry-plugin-acme": "0.1.0", "@xo-foundry/plugin-duckdb": "*", "@xo-foundry/template-ingest": "*" },
      }),
      "items.yaml": [
        "pipeline: { name: acme_items, schedule: '@daily', start_date: 2026-01-01, load_strategy: full_refresh }",
        "source:",
        "  plugin: acme",
        "  connection: acme_api",
        "  page_size: 100",
        "  streams:",
        "    - { name: items, path: /v1/items }",
        "",
      ].join("\n"),
    });
    try {
      // As `npm install` would place it.
      await mkdir(path.join(project.dir, "node_modules"), { recursive: true });
      await symlink(plugin, path.join(project.dir, "node_modules/xo-foundry-plugin-acme"), "dir");
      const env = { XO_CONN_ACME_API: JSON.stringify({ host: url, password: "s3cret-token" }) };

      const plugins = await xo(["plugins", "--json"], { cwd: project.dir });
      expect(plugins.code, plugins.stderr).toBe(0);
      expect(plugins.stdout).toContain('"xo-foundry-plugin-acme"');

      const valid = await xo(["validate-config", "items.yaml"], { cwd: project.dir });
      expect(valid.code, valid.stderr).toBe(0);
      const dags = await xo(["generate-dags", ".", "-o", "dags"], { cwd: project.dir });
      expect(dags.code, dags.stderr).toBe(0);
      expect(await readFile(path.join(project.dir, "dags/acme_items.py"), "utf8")).toContain("xo-foundry-plugin-acme 0.1.0");

      const r = await xo(["run", "items.yaml", "--date", "2026-01-15"], { cwd: project.dir, env });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout + r.stderr).not.toContain("s3cret-token");

      const db = await DuckDBInstance.create(path.join(project.dir, ".xo-foundry/warehouse.duckdb"), { access_mode: "READ_ONLY" });
      const conn = await db.connect();
      const [row] = (await conn.runAndReadAll("SELECT count(*)::INT AS n, count(DISTINCT id)::INT AS ids, max(id)::INT AS top FROM main.items")).getRowObjectsJS();
      conn.closeSync();
      db.closeSync();
      expect(row).toEqual({ n: ROWS, ids: ROWS, top: ROWS });
    } finally {
      await project.remove();
    }
  });
});
