/**
 * A copy of the example dbt project (examples/dbt) next to a DuckDB file holding the
 * sample shop's customers and orders, as the sample_shop_analytics pipeline loads them,
 * and a StepContext for a dbt step in that project. dbt is the real dbt-core with
 * dbt-duckdb from the repository's .venv/dbt (tools/dbt/setup.sh).
 */
import { execFileSync } from "node:child_process";
import { cpSync, existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { StepContext } from "@xo-foundry/core";
import { fileLanding } from "@xo-foundry/runtime";
import { recordingLogger, stepContext, testdir, type RecordingLogger, type TestDir } from "@xo-foundry/testkit";
import { coreOptions, type CoreOptions } from "../options.js";

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(here, "../../../..");
export const DBT_VENV = path.join(REPO, ".venv/dbt");
export const DBT = path.join(DBT_VENV, "bin/dbt");
export const PYTHON = path.join(DBT_VENV, "bin/python");
const EXAMPLE = path.join(REPO, "examples/dbt");
const SAMPLE_DATA = path.join(REPO, "examples/sample-api/data");

const QUERY = `
import duckdb, json, sys
cursor = duckdb.connect(sys.argv[1]).execute(sys.argv[2])
print(json.dumps(cursor.fetchall() if cursor.description else [], default=str))
`;

export function requireDbt(): void {
  if (!existsSync(DBT)) throw new Error(`the dbt tests need the dbt venv at ${DBT_VENV}; create it with \`bash tools/dbt/setup.sh\` (npm test does)`);
}

/** Environment for dbt in tests: no usage statistics, no version check over the network. */
export const QUIET_DBT = { DBT_SEND_ANONYMOUS_USAGE_STATS: "false", DBT_VERSION_CHECK: "false", DO_NOT_TRACK: "1" } as const;

export interface ShopProject {
  readonly dir: TestDir;
  /** The DuckDB file, relative to the project. */
  readonly database: string;
  /** Runs SQL on a DuckDB file of the project with DuckDB's Python client; returns the rows as JSON. */
  query(sql: string, database?: string): unknown[][];
}

/** A project folder with `dbt/` (the example project) and `warehouse.duckdb` (the shop's tables). */
export async function shopProject(): Promise<ShopProject> {
  requireDbt();
  const dir = await testdir();
  cpSync(EXAMPLE, dir.path("dbt"), { recursive: true, filter: (src) => !/[/\\](target|logs|dbt_packages)$/.test(src) });
  const database = "warehouse.duckdb";
  const query = (sql: string, db = database): unknown[][] =>
    JSON.parse(
      execFileSync(PYTHON, ["-c", QUERY, dir.path(db), sql], { encoding: "utf8" }),
    ) as unknown[][];
  query(
    `create table main.customers as select * from read_json_auto('${path.join(SAMPLE_DATA, "customers.json")}');` +
      `create table main.orders as select * from read_json_auto('${path.join(SAMPLE_DATA, "orders.json")}') where created_at < '2026-01-20'`,
  );
  return { dir, database, query };
}

export interface DbtStepContext extends StepContext<CoreOptions> {
  readonly log: RecordingLogger;
}

/** The context the runtime gives a dbt step of a pipeline whose one sink is the project's DuckDB file. */
export function dbtContext(project: ShopProject, options: Record<string, unknown>, extra: { signal?: AbortSignal; logicalDate?: string } = {}): DbtStepContext {
  const log = recordingLogger();
  const ctx = stepContext({
    projectDir: project.dir.dir,
    logicalDate: extra.logicalDate ?? "2026-01-15",
    ...(extra.signal ? { signal: extra.signal } : {}),
    pipeline: { sinks: { main: { plugin: "duckdb", database: project.database } } },
    options: coreOptions.parse({ dbt: DBT, env: QUIET_DBT, ...options }),
    taskId: "dbt_build",
    landing: { root: pathToFileURL(project.dir.path("landing")).href, store: fileLanding() },
  });
  return { ...ctx, log };
}
