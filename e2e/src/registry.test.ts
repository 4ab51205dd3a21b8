/**
 * Independent releases as a user meets them (ADR 0014). Every public package of this
 * repository is published to a throwaway registry (Verdaccio on 127.0.0.1, its storage in a
 * temp folder); a fresh project outside the repository that depends on the CLI, one
 * template and two plugins only is installed from it with plain `npm install`, and runs the
 * sample shop pipeline into DuckDB. Its node_modules then holds nothing of the plugins it
 * did not ask for.
 *
 * A third-party source plugin, scaffolded by `xo-foundry plugin new` and built, is
 * published next to them under a scope of its own and installed the same way.
 *
 * `@xo-foundry/*` and that scope have no uplink in that registry, so those packages can only
 * be the ones published here; everything else (zod, commander, axios, @duckdb/node-api, ...)
 * comes through its uplink to registry.npmjs.org, which this test needs to reach.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { copyFile, lstat, mkdir, mkdtemp, readdir, readFile, realpath, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { repo, run, xo as repoXo, type CliResult } from "./helpers.js";

interface SampleApi {
  url: string;
  close(): Promise<void>;
}
interface Workspace {
  readonly dir: string;
  readonly name: string;
  readonly version: string;
}
interface Registry {
  readonly url: string;
  stop(): Promise<void>;
}

const fixtures = path.join(repo, "e2e/src/__fixtures__/registry");
const TOKEN = "registry-e2e-token-7c1d";
const DATE = "2026-01-15";
// What the bundled sample API serves for 2026-01-15 (examples/sample-api/data).
const EXPECTED_ROWS = { customers: 250, orders: 23 };
// All the fresh project asks for; core and runtime may only come in as their dependencies.
const WANTED = ["@xo-foundry/cli", "@xo-foundry/template-ingest", "@xo-foundry/plugin-api", "@xo-foundry/plugin-duckdb"];
const OURS_INSTALLED = [...WANTED, "@xo-foundry/core", "@xo-foundry/runtime"].sort();
// The scaffolded third-party plugin: a scope of its own, never looked up on npmjs.
const THIRD_PARTY = "@acme-e2e/xo-foundry-plugin-acme";
const ACME_ROWS = 321;
const ACME_TOKEN = "acme-e2e-token-4b2e";
// What the plugins it did not install would have brought.
const UNWANTED = [/^googleapis$/, /^snowflake-sdk$/, /^@aws-sdk\//, /^ssh2$/, /^@xo-foundry\/(plugin-(gladly|s3|snowflake|sql)|template-hybrid|testkit)$/];

let tmp: string;
let registry: Registry | undefined;
let api: SampleApi | undefined;
let project: string;
let npmEnv: NodeJS.ProcessEnv;
let workspaces: Workspace[];
let thirdParty: string;
let acmeApi: Server | undefined;

/** The public packages of the monorepo, from the root package.json's `workspaces`. */
async function publicWorkspaces(): Promise<Workspace[]> {
  const root = JSON.parse(await readFile(path.join(repo, "package.json"), "utf8")) as { workspaces: string[] };
  const dirs: string[] = [];
  for (const pattern of root.workspaces) {
    if (!pattern.endsWith("/*")) dirs.push(path.join(repo, pattern));
    else {
      const parent = path.join(repo, pattern.slice(0, -2));
      for (const entry of (await readdir(parent, { withFileTypes: true })).filter((e) => e.isDirectory())) dirs.push(path.join(parent, entry.name));
    }
  }
  const found: Workspace[] = [];
  for (const dir of dirs.sort()) {
    const pkg = JSON.parse(await readFile(path.join(dir, "package.json"), "utf8")) as { name: string; version: string; private?: boolean };
    if (!pkg.private) found.push({ dir, name: pkg.name, version: pkg.version });
  }
  return found;
}

function verdaccioConfig(dir: string): string {
  // JSON is YAML, and needs no quoting rules for the temp paths.
  return JSON.stringify(
    {
      storage: path.join(dir, "storage"),
      auth: { htpasswd: { file: path.join(dir, "htpasswd"), max_users: -1 } },
      uplinks: { npmjs: { url: "https://registry.npmjs.org/", timeout: "60s", max_fails: 10 } },
      packages: {
        // No `proxy`: our scope is served only from what this test publishes.
        "@xo-foundry/*": { access: "$all", publish: "$all", unpublish: "$all" },
        "@acme-e2e/*": { access: "$all", publish: "$all", unpublish: "$all" },
        "**": { access: "$all", publish: "$authenticated", proxy: "npmjs" },
      },
      web: { enable: false },
      log: { type: "stdout", format: "json", level: "error" },
    },
    null,
    2,
  );
}

async function startRegistry(dir: string): Promise<Registry> {
  const config = path.join(dir, "verdaccio.yaml");
  await writeFile(config, verdaccioConfig(dir));
  const child: ChildProcess = spawn(process.execPath, [path.join(fixtures, "verdaccio.mjs"), config], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Verdaccio did not start within 60s:\n${output}`)), 60_000);
    child.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const m = /verdaccio listening on (\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("error", reject);
    child.on("exit", (code) => reject(new Error(`Verdaccio exited with ${code}:\n${output}`)));
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    url: `http://127.0.0.1:${port}/`,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

/**
 * The environment of every npm and npx call: the caller's npm_* variables (set when this
 * runs under `npm test`) are dropped so that only the temp userconfig, cache and registry
 * apply; ~/.npmrc is never read or written.
 */
function isolatedNpmEnv(url: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const key of Object.keys(process.env)) if (/^npm_/i.test(key)) env[key] = undefined;
  return {
    ...env,
    npm_config_userconfig: path.join(tmp, ".npmrc"),
    npm_config_cache: path.join(tmp, "npm-cache"),
    npm_config_registry: url,
    npm_config_audit: "false",
    npm_config_fund: "false",
    npm_config_update_notifier: "false",
  };
}

function npm(args: readonly string[], cwd: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return run("npm", args, { cwd, env: { ...npmEnv, ...extraEnv } });
}

const show = (r: CliResult) => `exit ${r.code}\n--- stdout\n${r.stdout.slice(-4000)}\n--- stderr\n${r.stderr.slice(-4000)}`;

/** Every package on disk under a node_modules folder, nested ones included. */
async function installedPackages(nodeModules: string): Promise<string[]> {
  const names: string[] = [];
  const entries = await readdir(nodeModules, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (entry.name.startsWith(".")) continue;
    const inScope = entry.name.startsWith("@") ? (await readdir(path.join(nodeModules, entry.name))).map((n) => `${entry.name}/${n}`) : [entry.name];
    for (const name of inScope) {
      names.push(name);
      names.push(...(await installedPackages(path.join(nodeModules, name, "node_modules"))));
    }
  }
  return names;
}

/** The API shape the scaffolded source reads: GET <path>?limit=&cursor= -> {items, next}; the cursor is an offset. */
async function startAcmeApi(): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${ACME_TOKEN}`) {
      res.writeHead(401).end();
      return;
    }
    const query = new URL(req.url ?? "/", "http://127.0.0.1").searchParams;
    const limit = Number(query.get("limit"));
    const offset = Number(query.get("cursor") ?? 0);
    const items = Array.from({ length: Math.max(0, Math.min(limit, ACME_ROWS - offset)) }, (_, i) => ({ id: offset + i + 1, label: `item ${offset + i + 1}` }));
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ items, next: offset + limit < ACME_ROWS ? String(offset + limit) : "" }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return server;
}

async function tableCounts(database: string): Promise<Record<string, number>> {
  const instance = await DuckDBInstance.create(database, { access_mode: "READ_ONLY" });
  const connection = await instance.connect();
  try {
    const counts: Record<string, number> = {};
    for (const table of Object.keys(EXPECTED_ROWS)) {
      const reader = await connection.runAndReadAll(`SELECT count(*)::INTEGER AS n, count(DISTINCT id)::INTEGER AS ids FROM main.${table}`);
      const [row] = reader.getRowObjects() as { n: number; ids: number }[];
      expect(row!.n).toBe(row!.ids);
      counts[table] = row!.n;
    }
    return counts;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

beforeAll(async () => {
  tmp = await realpath(await mkdtemp(path.join(os.tmpdir(), "xo-registry-")));
  workspaces = await publicWorkspaces();
  registry = await startRegistry(tmp);
  npmEnv = isolatedNpmEnv(registry.url);
  // A dummy token: npm refuses to publish without one, and this registry accepts anyone.
  await writeFile(path.join(tmp, ".npmrc"), `registry=${registry.url}\n//127.0.0.1:${new URL(registry.url).port}/:_authToken=xo-e2e-dummy-token\n`);
  project = path.join(tmp, "project");
  await mkdir(project);
});

afterAll(async () => {
  await api?.close();
  await new Promise<void>((resolve) => (acmeApi ? acmeApi.close(() => resolve()) : resolve()));
  if (thirdParty) await rm(thirdParty, { recursive: true, force: true });
  await registry?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe("released packages, installed from a registry into a fresh project", () => {
  it("publishes every public package of the repository", { timeout: 180_000 }, async () => {
    expect(workspaces.map((w) => w.name)).toEqual(expect.arrayContaining([...WANTED, "@xo-foundry/core", "@xo-foundry/runtime", "@xo-foundry/plugin-snowflake"]));
    for (const w of workspaces) {
      // `npm test` (tools/test.mjs) builds every package before any test runs.
      const built = await readdir(path.join(w.dir, "dist")).catch(() => []);
      expect(built.length, `${w.name} has no dist/; run \`npx nx run-many -t build\` first`).toBeGreaterThan(0);
    }
    for (const w of workspaces) {
      const r = await npm(["publish", "--registry", registry!.url, "--access", "public", "--ignore-scripts"], w.dir);
      expect(r.code, `npm publish of ${w.name}\n${show(r)}`).toBe(0);
    }
    for (const w of workspaces) {
      const res = await fetch(`${registry!.url}${w.name.replace("/", "%2f")}`);
      expect(res.status, w.name).toBe(200);
      const doc = (await res.json()) as { "dist-tags": Record<string, string> };
      expect(doc["dist-tags"].latest, w.name).toBe(w.version);
    }
  });

  it("publishes a third-party source plugin that `plugin new` scaffolded", { timeout: 180_000 }, async () => {
    // Scaffolded and built inside the repo, where its dev dependencies (TypeScript, the
    // testkit) resolve to the workspace; what users install is the published tarball.
    await mkdir(path.join(repo, "e2e/.tmp"), { recursive: true });
    thirdParty = await mkdtemp(path.join(repo, "e2e/.tmp/acme-plugin-"));
    const dir = path.join(thirdParty, "acme");
    const scaffold = await repoXo(["plugin", "new", "acme", "--kind", "source", "--dir", dir, "--package-name", THIRD_PARTY]);
    expect(scaffold.code, show(scaffold)).toBe(0);
    const build = await run(process.execPath, [path.join(repo, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"], { cwd: dir });
    expect(build.code, show(build)).toBe(0);
    const r = await npm(["publish", "--registry", registry!.url, "--access", "public", "--ignore-scripts"], dir);
    expect(r.code, show(r)).toBe(0);
    const res = await fetch(`${registry!.url}${THIRD_PARTY.replace("/", "%2f")}`);
    expect(res.status).toBe(200);
  });

  it("installs only the CLI, one template, two first-party plugins, the third-party one, and what they depend on", { timeout: 300_000 }, async () => {
    expect(path.relative(repo, project).startsWith("..")).toBe(true);
    const version = (name: string) => workspaces.find((w) => w.name === name)!.version;
    await writeFile(
      path.join(project, "package.json"),
      `${JSON.stringify({ name: "fresh-project", private: true, dependencies: { ...Object.fromEntries(WANTED.map((n) => [n, `^${version(n)}`])), [THIRD_PARTY]: "^0.1.0" } }, null, 2)}\n`,
    );
    const install = await npm(["install", "--registry", registry!.url, "--no-audit", "--no-fund"], project);
    expect(install.code, show(install)).toBe(0);

    // Peer ranges hold: one core, the one the CLI and every plugin accept.
    const ls = await npm(["ls", "--all"], project);
    expect(ls.code, show(ls)).toBe(0);

    const lock = JSON.parse(await readFile(path.join(project, "package-lock.json"), "utf8")) as { packages: Record<string, { version?: string; resolved?: string }> };
    const ours = Object.entries(lock.packages).filter(([key]) => /(^|\/)node_modules\/@xo-foundry\//.test(key));
    expect(ours.map(([key]) => key.replace(/^.*node_modules\//, "")).sort()).toEqual(OURS_INSTALLED);
    for (const [key, entry] of ours) {
      const name = key.replace(/^.*node_modules\//, "");
      expect(entry.version, name).toBe(version(name));
      expect(entry.resolved, name).toMatch(new RegExp(`^${registry!.url.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
      // Real folders from the tarballs, not links back into this repository.
      const dir = path.join(project, key);
      expect((await lstat(dir)).isSymbolicLink(), name).toBe(false);
      expect(path.relative(repo, await realpath(dir)).startsWith(".."), name).toBe(true);
    }
    const acme = lock.packages[`node_modules/${THIRD_PARTY}`];
    expect(acme?.resolved).toMatch(new RegExp(`^${registry!.url.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
    expect((await lstat(path.join(project, "node_modules", THIRD_PARTY))).isSymbolicLink()).toBe(false);
  });

  it("validates, generates and runs a pipeline from the fresh project with npx", { timeout: 180_000 }, async () => {
    for (const file of ["xo-foundry.yaml", "shop.yaml"]) await copyFile(path.join(fixtures, file), path.join(project, file));
    const { startSampleApi } = (await import(path.join(repo, "examples/sample-api/server.mjs"))) as { startSampleApi(o: { token: string }): Promise<SampleApi> };
    api = await startSampleApi({ token: TOKEN });
    // `--no`: run the project's own bin, never fetch one.
    const xo = (args: readonly string[]) =>
      run("npx", ["--no", "xo-foundry", ...args], { cwd: project, env: { ...npmEnv, XO_CONN_SAMPLE_SHOP: JSON.stringify({ host: api!.url, password: TOKEN }) } });

    const validate = await xo(["validate-config", "."]);
    expect(validate.code, show(validate)).toBe(0);

    const generate = await xo(["generate-dags", ".", "-o", "dags"]);
    expect(generate.code, show(generate)).toBe(0);
    const dag = await readFile(path.join(project, "dags/fresh_shop.py"), "utf8");
    const v = (name: string) => workspaces.find((w) => w.name === name)!.version;
    expect(dag).toContain(`# generator: @xo-foundry/cli ${v("@xo-foundry/cli")}`);
    const pluginsLine = dag.split("\n").find((line) => line.startsWith("# plugins: ")) ?? "";
    for (const name of WANTED.slice(1)) expect(pluginsLine).toContain(`${name} ${v(name)}`);

    const r = await xo(["run", "shop.yaml", "--date", DATE]);
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toMatch(/✔ fresh_shop: 4 tasks succeeded in \d/);
    expect(await tableCounts(path.join(project, ".xo-foundry/warehouse.duckdb"))).toEqual(EXPECTED_ROWS);
  });

  it("runs a pipeline of the third-party source next to the first-party plugins", { timeout: 180_000 }, async () => {
    await copyFile(path.join(fixtures, "acme.yaml"), path.join(project, "acme.yaml"));
    acmeApi = await startAcmeApi();
    const url = `http://127.0.0.1:${(acmeApi.address() as AddressInfo).port}`;
    const xo = (args: readonly string[]) =>
      run("npx", ["--no", "xo-foundry", ...args], { cwd: project, env: { ...npmEnv, XO_CONN_ACME_API: JSON.stringify({ host: url, password: ACME_TOKEN }) } });

    const plugins = await xo(["plugins"]);
    expect(plugins.code, show(plugins)).toBe(0);
    expect(plugins.stdout).toContain(`${THIRD_PARTY} 0.1.0  source:acme`);
    const generate = await xo(["generate-dags", ".", "-o", "dags"]);
    expect(generate.code, show(generate)).toBe(0);
    expect(await readFile(path.join(project, "dags/fresh_acme.py"), "utf8")).toContain(`${THIRD_PARTY} 0.1.0`);

    const r = await xo(["run", "acme.yaml", "--date", DATE]);
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(ACME_TOKEN);
    const instance = await DuckDBInstance.create(path.join(project, ".xo-foundry/warehouse.duckdb"), { access_mode: "READ_ONLY" });
    const connection = await instance.connect();
    const [row] = (await connection.runAndReadAll("SELECT count(*)::INTEGER AS n, count(DISTINCT id)::INTEGER AS ids FROM main.items")).getRowObjects();
    connection.closeSync();
    instance.closeSync();
    expect(row).toEqual({ n: ACME_ROWS, ids: ACME_ROWS });
  });

  it("holds nothing of the plugins the project did not install", async () => {
    const installed = await installedPackages(path.join(project, "node_modules"));
    expect(installed).toEqual(expect.arrayContaining(["@xo-foundry/cli", "@duckdb/node-api", "axios", "zod", "commander"]));
    expect(installed.filter((name) => UNWANTED.some((re) => re.test(name)))).toEqual([]);
  });
});
