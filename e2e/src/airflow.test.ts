/**
 * Generated DAGs in real Apache Airflow (3.3, and 2.11 for imports), from the
 * pinned venvs that `npm test` creates with tools/airflow/setup.sh. Airflow,
 * the CLI, the landing folder and DuckDB are real; the shop API is the bundled
 * loopback sample server (emulated SaaS).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { GetObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { startGladlyEmulator, EMAIL, TOKEN as GLADLY_TOKEN, type GladlyEmulator } from "../../plugins/gladly/src/__fixtures__/gladly-server.js";
import { startMoto, type Moto } from "../../plugins/s3/src/__fixtures__/moto.js";
import { startStatefulSnowflake, type StatefulSnowflake } from "../../plugins/snowflake/src/__fixtures__/stateful_snowflake.js";
import { cliShim, repo, run, sandbox, xo } from "./helpers.js";

const airflowEnv = path.join(repo, "tools/airflow/airflow-env.sh");
const quiet = { AIRFLOW__LOGGING__LOGGING_LEVEL: "WARNING", PYTHONWARNINGS: "ignore" };
const TOKEN = "airflow-e2e-token-91d2";

interface SampleApi {
  url: string;
  close(): Promise<void>;
}

let scratch: string;
let project: Awaited<ReturnType<typeof sandbox>>;
let api: SampleApi;
let shim: string;

/** Hostile values that Airflow itself accepts (a hostile schedule or time zone is a config error there). */
const HOSTILE_YAML = `pipeline:
  name: hostile_strings
  description: ${JSON.stringify(`"""'''\\ {{ ds }} {% raw %} \${HOME} $(id) \u2028 \ud800 \u{1f600} # -*- coding: utf-7 -*-\nline2`)}
  start_date: 2026-01-01
  owner: ${JSON.stringify("o'wner \"{{ conn.x.password }}\" \\")}
  tags: [${JSON.stringify("{{ 7 * 7 }}")}, ${JSON.stringify("class")}, ${JSON.stringify("\u00e9\u202e")}]
source:
  plugin: api
  base_url: http://127.0.0.1:9/v1
  streams:
    - name: items
      path: items
runner:
  command: ${JSON.stringify("echo '{{ 7 * 7 }}' \"$(id)\" {% if x %}")}
`;

beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), "xo-airflow-e2e-"));
  project = await sandbox({ "hostile/hostile.yaml": HOSTILE_YAML }, { copyExamples: true });
  // Airflow workers find the CLI on PATH, as the runner docs say.
  shim = await cliShim(scratch);
  const { startSampleApi } = (await import(path.join(repo, "examples/sample-api/server.mjs"))) as {
    startSampleApi(o: { token: string }): Promise<SampleApi>;
  };
  api = await startSampleApi({ token: TOKEN });
});

afterAll(async () => {
  await api?.close();
  await project?.remove();
  await rm(scratch, { recursive: true, force: true });
});

async function generate(version: 2 | 3, name: string, inputs: string[]): Promise<string> {
  const out = path.join(scratch, name);
  const r = await xo(["generate-dags", ...inputs, "-o", out, "--airflow-version", String(version)]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return out;
}

async function importErrors(version: 2 | 3, dags: string): Promise<unknown[]> {
  // --local parses the files now; without it Airflow 3 answers from an empty database.
  const args = version === 3 ? ["dags", "list-import-errors", "--local", "-o", "json"] : ["dags", "list-import-errors", "-o", "json"];
  const r = await run(airflowEnv, [String(version), dags, "--", "airflow", ...args], { env: quiet });
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as unknown[];
}

async function dagBag(version: 2 | 3, dags: string) {
  const r = await run(path.join(repo, `.venv/airflow${version}/bin/python`), [path.join(repo, "tools/airflow/check_dags.py"), dags], { env: quiet });
  return { code: r.code, ...(JSON.parse(r.stdout) as { dags: string[]; import_errors: Record<string, string>; tasks: Record<string, Record<string, string[]>> }) };
}

/** The examples' DAGs and the hostile-string pipeline's, in dag_id order. */
const ALL_DAGS = [
  "contacts_to_crm",
  "fx_rates_history",
  "github_issues",
  "gmail_vendor_invoices",
  "hostile_strings",
  "orders_quality",
  "orders_report",
  "orders_to_api",
  "orders_to_partner_sftp",
  "orders_to_s3",
  "sample_shop",
  "sample_shop_analytics",
  "sheets_finance",
  "shop_daily",
  "warbyparker_timestamps_daily",
];

describe.each([3, 2] as const)("Airflow %i", (version) => {
  it("imports the DAG of every example and of the hostile-string pipeline without errors", async () => {
    const dags = await generate(version, `dags-${version}`, [project.dir]);
    expect(await importErrors(version, dags)).toEqual([]);
    const bag = await dagBag(version, dags);
    expect(bag.import_errors).toEqual({});
    expect(bag.dags).toEqual(ALL_DAGS);
    // The hybrid example: a task group per source, a step after the loads, a conditional copy after it.
    expect(bag.tasks.shop_daily).toEqual({
      archive_orders: [],
      "rates.extract_fx_rates": ["rates.load_fx_rates"],
      "rates.load_fx_rates": ["revenue_eur"],
      revenue_eur: ["archive_orders"],
      "shop.extract_shop_orders": ["shop.load_shop_orders"],
      "shop.load_shop_orders": ["revenue_eur"],
    });
    expect(bag.tasks.sample_shop).toEqual({
      extract_customers: ["load_customers"],
      extract_orders: ["load_orders"],
      load_customers: [],
      load_orders: [],
    });
    // An export: the source's tasks in their group, then the export, then its delivery.
    expect(bag.tasks.orders_to_partner_sftp).toEqual({
      changed_orders: ["to_partner"],
      "main.extract_orders": ["main.load_orders"],
      "main.load_orders": ["changed_orders"],
      to_partner: [],
    });
    // The reference pipeline: one extract and one load per report, the reports in parallel.
    const reports = ["agent_timestamps", "contact_timestamps", "conversation_timestamps", "work_sessions"];
    expect(bag.tasks.warbyparker_timestamps_daily).toEqual(
      Object.fromEntries(reports.flatMap((r) => [[`extract_${r}`, [`load_${r}`]], [`load_${r}`, []]]).sort(([a], [b]) => (a! < b! ? -1 : 1))),
    );
  });

  it("reports a broken DAG file, so the check above can fail", async () => {
    const dags = path.join(scratch, `broken-${version}`);
    await mkdir(dags, { recursive: true });
    await writeFile(path.join(dags, "broken.py"), "from airflow import DAG\nimport no_such_module_here\n");
    expect(await importErrors(version, dags)).toEqual([expect.objectContaining({ filepath: path.join(dags, "broken.py") })]);
  });

  it("serializes a parsed DAG to the same hash every time, so no new DAG version per parse", async () => {
    const dags = await generate(version, `hash-${version}`, [project.dir]);
    const hashes = async () => {
      const r = await run(path.join(repo, `.venv/airflow${version}/bin/python`), [path.join(repo, "tools/airflow/dag_hashes.py"), dags], { env: quiet });
      expect(r.code).toBe(0);
      return JSON.parse(r.stdout.trim().split("\n").pop()!) as Record<string, string>;
    };
    const first = await hashes();
    expect(Object.keys(first)).toEqual(ALL_DAGS);
    expect(await hashes()).toEqual(first);
  });
});

describe("the KubernetesPodOperator runner on Airflow 3", () => {
  it("imports with the real cncf-kubernetes provider, one pod task per step", async () => {
    const file = path.join(project.dir, "k8s/shop-pods.yaml");
    const yaml = (await readFile(path.join(project.dir, "sample-shop.yaml"), "utf8"))
      .replace("name: sample_shop", "name: sample_shop_pods")
      .concat(
        "\nrunner:\n  type: kubernetes\n  image: registry.example.com/data/pipelines:1.4.0\n  namespace: data-pipelines\n" +
          "  resources:\n    requests: { cpu: 500m, memory: 512Mi }\n  env:\n    XO_FOUNDRY_PROJECT_DIR: /app\n",
      );
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, yaml);
    const dags = await generate(3, "dags-k8s", [file]);
    expect(await readFile(path.join(dags, "sample_shop_pods.py"), "utf8")).toContain("KubernetesPodOperator(");
    expect(await importErrors(3, dags)).toEqual([]);
    const bag = await dagBag(3, dags);
    expect(bag.dags).toEqual(["sample_shop_pods"]);
    expect(Object.keys(bag.tasks.sample_shop_pods!).sort()).toEqual(["extract_customers", "extract_orders", "load_customers", "load_orders"]);
  });
});

describe("airflow dags test on Airflow 3", () => {
  let dags: string;

  beforeAll(async () => {
    // No retries: a failing task would otherwise keep `dags test` waiting out the retry delay.
    const file = path.join(project.dir, "sample-shop.yaml");
    await writeFile(file, (await readFile(file, "utf8")).replace("  load_strategy: incremental", "  load_strategy: incremental\n  retries: 0"));
    dags = await generate(3, "dags-test", [file]);
  });

  const connection = (password: string) =>
    JSON.stringify({ conn_type: "http", host: "127.0.0.1", port: Number(new URL(api.url).port), schema: "v1", password });

  async function dagsTest(date: string, password: string) {
    const log = path.join(scratch, `dags-test-${date}-${password.slice(0, 5)}.log`);
    const r = await run(path.join(repo, "tools/airflow/dags-test.sh"), ["3", dags, "sample_shop", date, log], {
      env: {
        ...quiet,
        AIRFLOW__LOGGING__LOGGING_LEVEL: "INFO",
        PATH: `${shim}:${process.env.PATH}`,
        XO_FOUNDRY_PROJECT_DIR: project.dir,
        // The secret reaches the task only through Airflow's connection store.
        AIRFLOW_CONN_SAMPLE_SHOP: connection(password),
        XO_CONN_SAMPLE_SHOP: "",
      },
    });
    expect(r.stderr).toBe("");
    return { ...(JSON.parse(r.stdout.trim()) as { exit_code: number; tasks: Record<string, string> }), log: await readFile(log, "utf8") };
  }

  async function counts(): Promise<Record<string, number>> {
    const instance = await DuckDBInstance.create(path.join(project.dir, ".xo-foundry/warehouse.duckdb"), { access_mode: "READ_ONLY" });
    const c = await instance.connect();
    try {
      const rows = (await c.runAndReadAll("SELECT (SELECT count(*) FROM main.customers)::INTEGER AS customers, (SELECT count(*) FROM main.orders)::INTEGER AS orders")).getRowObjects();
      return rows[0] as Record<string, number>;
    } finally {
      c.closeSync();
      instance.closeSync();
    }
  }

  it("runs the demo pipeline end to end through the BashOperator tasks", async () => {
    const result = await dagsTest("2026-01-15", TOKEN);
    expect(result.tasks).toEqual({ extract_customers: "success", extract_orders: "success", load_customers: "success", load_orders: "success" });
    expect(result.exit_code).toBe(0);
    expect(result.log).toContain('task sample-shop.yaml extract_orders --logical-date "$XO_LOGICAL_DATE" --run-id "$XO_RUN_ID"');
    // The logical date and run id reached the CLI through the rendered environment.
    const manifest = JSON.parse(
      await readFile(path.join(project.dir, ".xo-foundry/landing/stage/sample_shop/orders/incremental/date=2026-01-15/_manifest.json"), "utf8"),
    ) as { logicalDate: string; runId: string };
    expect(manifest.logicalDate).toBe("2026-01-15");
    expect(manifest.runId).toMatch(/^manual__/);
    const loaded = await counts();
    expect(loaded.customers).toBe(250);
    expect(loaded.orders).toBeGreaterThan(0);

    // A second run of the same date through Airflow leaves the same rows.
    expect((await dagsTest("2026-01-15", TOKEN)).exit_code).toBe(0);
    expect(await counts()).toEqual(loaded);
  });

  it("takes the secret from the Airflow connection; the DAG file holds none", async () => {
    const text = await readFile(path.join(dags, "sample_shop.py"), "utf8");
    expect(text).not.toContain(TOKEN);
    expect(text).toContain('"XO_CONN_SAMPLE_SHOP": "{{ conn.sample_shop.get_uri() }}"');
  });

  it("fails the DagRun when the source fails, and says which task and why", async () => {
    const result = await dagsTest("2026-01-16", "not-the-token");
    expect(result.exit_code).not.toBe(0);
    expect(result.tasks).toEqual({
      extract_customers: "failed",
      extract_orders: "failed",
      load_customers: "upstream_failed",
      load_orders: "upstream_failed",
    });
    expect(result.log).toContain("DagRun failed");
    expect(result.log).toMatch(/task "extract_customers" failed in @xo-foundry\/plugin-api@[\d.]+ \(extract\): GET http:\/\/127\.0\.0\.1:\d+\/v1\/customers\?limit=100&offset=0 failed with HTTP 401/);
  });
});

/**
 * Ingest -> dbt under `airflow dags test`, in both render modes: the example pipeline
 * shop-analytics.yaml, with dbt-core 1.11 and dbt-duckdb (.venv/dbt) on the tasks' PATH.
 * per_model reads the manifest `dbt parse` wrote, and the DAG holds one task per model.
 */
describe("the ingest -> dbt DAG sample_shop_analytics under airflow dags test", () => {
  const dbtBin = path.join(repo, ".venv/dbt/bin");
  const dbtEnv = { DBT_SEND_ANONYMOUS_USAGE_STATS: "false" };

  async function dagsTest(dags: string, dir: string) {
    const log = path.join(scratch, `dags-test-dbt-${path.basename(dags)}.log`);
    const r = await run(path.join(repo, "tools/airflow/dags-test.sh"), ["3", dags, "sample_shop_analytics", "2026-01-15", log], {
      env: {
        ...quiet,
        ...dbtEnv,
        PATH: `${shim}:${dbtBin}:${process.env.PATH}`,
        XO_FOUNDRY_PROJECT_DIR: dir,
        AIRFLOW_CONN_SAMPLE_SHOP: JSON.stringify({ conn_type: "http", host: "127.0.0.1", port: Number(new URL(api.url).port), schema: "v1", password: TOKEN }),
        XO_CONN_SAMPLE_SHOP: "",
      },
    });
    expect(r.stderr).toBe("");
    return { ...(JSON.parse(r.stdout.trim()) as { exit_code: number; tasks: Record<string, string> }), log: await readFile(log, "utf8") };
  }

  async function mart(dir: string): Promise<unknown[]> {
    const instance = await DuckDBInstance.create(path.join(dir, ".xo-foundry/analytics.duckdb"), { access_mode: "READ_ONLY" });
    const c = await instance.connect();
    try {
      return (await c.runAndReadAll("SELECT count(*)::INTEGER AS customers, sum(orders)::INTEGER AS orders FROM main.customer_orders")).getRowObjects();
    } finally {
      c.closeSync();
      instance.closeSync();
    }
  }

  it("runs dbt build as one task (render: single)", async () => {
    const own = await sandbox({}, { copyExamples: true });
    try {
      const dags = await generate(3, "dags-dbt-single", [path.join(own.dir, "shop-analytics.yaml")]);
      const result = await dagsTest(dags, own.dir);
      expect(result.tasks).toEqual({ dbt_build: "success", extract_customers: "success", extract_orders: "success", load_customers: "success", load_orders: "success" });
      expect(result.exit_code).toBe(0);
      expect(await mart(own.dir)).toEqual([{ customers: 250, orders: expect.any(Number) }]);
    } finally {
      await own.remove();
    }
  });

  it("runs one task per model, wired by dbt's graph (render: per_model)", async () => {
    const own = await sandbox({}, { copyExamples: true });
    try {
      await writeFile(path.join(own.dir, "profiles.yml"), "shop_analytics:\n  target: dev\n  outputs:\n    dev: { type: duckdb, path: parse-only.duckdb }\n");
      const parse = await run(path.join(dbtBin, "dbt"), ["parse", "--project-dir", path.join(own.dir, "dbt"), "--profiles-dir", own.dir], { env: dbtEnv });
      expect(parse.code).toBe(0);
      const file = path.join(own.dir, "shop-analytics.yaml");
      await writeFile(file, (await readFile(file, "utf8")).replace("      project_dir: dbt\n", "      project_dir: dbt\n      render: per_model\n"));
      const dags = await generate(3, "dags-dbt-per-model", [file]);
      const bag = await dagBag(3, dags);
      expect(bag.tasks.sample_shop_analytics).toEqual({
        "dbt_build.customer_orders": [],
        "dbt_build.stg_customers": ["dbt_build.customer_orders"],
        "dbt_build.stg_orders": ["dbt_build.customer_orders"],
        extract_customers: ["load_customers"],
        extract_orders: ["load_orders"],
        load_customers: ["dbt_build.stg_customers", "dbt_build.stg_orders"],
        load_orders: ["dbt_build.stg_customers", "dbt_build.stg_orders"],
      });
      const result = await dagsTest(dags, own.dir);
      expect(result.tasks).toEqual({
        "dbt_build.customer_orders": "success",
        "dbt_build.stg_customers": "success",
        "dbt_build.stg_orders": "success",
        extract_customers: "success",
        extract_orders: "success",
        load_customers: "success",
        load_orders: "success",
      });
      expect(result.exit_code).toBe(0);
      expect(await mart(own.dir)).toEqual([{ customers: 250, orders: expect.any(Number) }]);
    } finally {
      await own.remove();
    }
  });
});

/**
 * The hybrid example under `airflow dags test`: two sources in task groups, SQL after the
 * loads, and a copy that runs only on Mondays. Skipping is Airflow's own: the task exits
 * with skip_on_exit_code and Airflow marks it skipped.
 */
describe("the hybrid DAG shop_daily under airflow dags test", () => {
  let dags: string;

  beforeAll(async () => {
    const file = path.join(project.dir, "shop-daily.yaml");
    await writeFile(file, (await readFile(file, "utf8")).replace("  load_strategy: incremental", "  load_strategy: incremental\n  retries: 0"));
    dags = await generate(3, "dags-hybrid", [file]);
  });

  async function dagsTest(date: string) {
    const log = path.join(scratch, `dags-test-hybrid-${date}.log`);
    const r = await run(path.join(repo, "tools/airflow/dags-test.sh"), ["3", dags, "shop_daily", date, log], {
      env: {
        ...quiet,
        AIRFLOW__LOGGING__LOGGING_LEVEL: "INFO",
        PATH: `${shim}:${process.env.PATH}`,
        XO_FOUNDRY_PROJECT_DIR: project.dir,
        AIRFLOW_CONN_SAMPLE_SHOP: JSON.stringify({ conn_type: "http", host: "127.0.0.1", port: Number(new URL(api.url).port), schema: "v1", password: TOKEN }),
        XO_CONN_SAMPLE_SHOP: "",
      },
    });
    expect(r.stderr).toBe("");
    return { ...(JSON.parse(r.stdout.trim()) as { exit_code: number; tasks: Record<string, string> }), log: await readFile(log, "utf8") };
  }

  async function count(database: string, table: string): Promise<number> {
    const instance = await DuckDBInstance.create(path.join(project.dir, ".xo-foundry", database), { access_mode: "READ_ONLY" });
    const c = await instance.connect();
    try {
      const rows = (await c.runAndReadAll(`SELECT count(*)::INTEGER AS n, count(DISTINCT id)::INTEGER AS ids FROM ${table}`)).getRowObjects();
      expect(rows[0]!.n).toBe(rows[0]!.ids);
      return rows[0]!.n as number;
    } finally {
      c.closeSync();
      instance.closeSync();
    }
  }

  const ordersBefore = async (iso: string) =>
    (JSON.parse(await readFile(path.join(repo, "examples/sample-api/data/orders.json"), "utf8")) as { updated_at: string }[]).filter(
      (o) => Date.parse(o.updated_at) < Date.parse(iso),
    );

  it("skips the Monday copy on Thursday 2026-01-15 and runs every other task", async () => {
    const result = await dagsTest("2026-01-15");
    expect(result.tasks).toEqual({
      archive_orders: "skipped",
      "rates.extract_fx_rates": "success",
      "rates.load_fx_rates": "success",
      revenue_eur: "success",
      "shop.extract_shop_orders": "success",
      "shop.load_shop_orders": "success",
    });
    expect(result.exit_code).toBe(0);
    expect(await count("shop-daily.duckdb", "shop_orders")).toBe((await ordersBefore("2026-01-16T00:00:00Z")).length);
  });

  it("runs the copy on Monday 2026-01-19, with only the orders that changed since the last load", async () => {
    const saved = JSON.parse(await readFile(path.join(project.dir, ".xo-foundry/landing/state/shop_daily/shop_orders.json"), "utf8")) as {
      value: { cursor: string };
      runId: string;
    };
    // The cursor was saved by the Airflow run of the 15th.
    expect(saved.runId).toMatch(/^manual__/);
    const result = await dagsTest("2026-01-19");
    expect(result.tasks).toMatchObject({ archive_orders: "success", revenue_eur: "success", "shop.load_shop_orders": "success" });
    expect(result.exit_code).toBe(0);
    const changed = (await ordersBefore("2026-01-20T00:00:00Z")).filter((o) => o.updated_at >= saved.value.cursor);
    expect(await count("shop-daily.duckdb", "shop_orders")).toBe((await ordersBefore("2026-01-20T00:00:00Z")).length);
    expect(await count("archive.duckdb", "shop_orders")).toBe(changed.length);
  });
});

/**
 * The reference DAG under `airflow dags test`, every task a real BashOperator running
 * the CLI, with the warehouse side stateful so row counts in the target tables are real.
 *
 * Real: Airflow 3, the CLI, the AWS SDK against moto_server's S3 API (the landed files
 * are read back from moto's bucket), snowflake-sdk, and the SQL engine: every statement
 * fakesnow supports (ADD COLUMN, UPDATE, INFORMATION_SCHEMA, CREATE TABLE ... LIKE,
 * BEGIN/DELETE/INSERT/COMMIT, DROP TABLE) runs as generated, with its binds, on fakesnow
 * (Snowflake's dialect on DuckDB) in one Python process whose tables outlive each run.
 *
 * Emulated: Gladly (loopback server) and the Snowflake service protocol (loopback server,
 * plugins/snowflake/src/__fixtures__/stateful_snowflake.ts), which also stands in for what
 * fakesnow cannot run: ALTER SESSION gets a status reply; CREATE FILE FORMAT is kept by name
 * (the CSV format COPY reads with); the external stage RAW.GLADLY.XO_LANDING is one this server did
 * not create, so its files come from moto; CREATE TABLE ... USING TEMPLATE (INFER_SCHEMA) becomes a CREATE TABLE of the
 * staged CSV's header columns (all VARCHAR); COPY INTO ... FROM @stage FILES = (...) reads
 * each named file from moto's bucket (`xo-landing`, key `gladly/` + the stage-relative path),
 * parses the CSV and INSERTs its rows by column name with the INCLUDE_METADATA columns filled;
 * ALTER TABLE ... SWAP WITH (not used by this append load) would be three renames.
 */
describe("the reference DAG warbyparker_timestamps_daily under airflow dags test", () => {
  let gladly: GladlyEmulator;
  let moto: Moto;
  let snowflake: StatefulSnowflake;
  let dags: string;
  const REPORTS = ["agent_timestamps", "contact_timestamps", "conversation_timestamps", "work_sessions"];

  beforeAll(async () => {
    [gladly, moto] = await Promise.all([startGladlyEmulator(), startMoto()]);
    // The external stage RAW.GLADLY.XO_LANDING has url_prefix s3://xo-landing/gladly: COPY reads the files from moto.
    snowflake = await startStatefulSnowflake({
      readStagedFile: async (relativePath) => {
        const client = moto.client();
        try {
          return await (await client.send(new GetObjectCommand({ Bucket: "xo-landing", Key: `gladly/${relativePath}` }))).Body!.transformToString();
        } finally {
          client.destroy();
        }
      },
    });
    await moto.createBucket("xo-landing");
    const file = path.join(project.dir, "warbyparker-timestamps.yaml");
    await writeFile(
      file,
      (await readFile(file, "utf8")).replace("  organization: warbyparker\n", "").replace("  retries: 3\n", "  retries: 0\n"),
    );
    dags = await generate(3, "dags-reference", [file]);
  });

  afterAll(async () => {
    await Promise.all([gladly?.close(), moto?.stop(), snowflake?.close()]);
  });

  async function dagsTest(date: string) {
    const log = path.join(scratch, `reference-${date}-${Date.now()}.log`);
    const aws = moto.connection("aws_landing");
    const r = await run(path.join(repo, "tools/airflow/dags-test.sh"), ["3", dags, "warbyparker_timestamps_daily", date, log], {
      env: {
        ...quiet,
        AIRFLOW__LOGGING__LOGGING_LEVEL: "INFO",
        PATH: `${shim}:${process.env.PATH}`,
        XO_FOUNDRY_PROJECT_DIR: project.dir,
        XO_AIRFLOW_POOLS: "gladly_warbyparker=1",
        // Credentials come from Airflow connections only; the tasks get them through get_uri().
        AIRFLOW_CONN_GLADLY_WARBYPARKER: JSON.stringify({ conn_type: "http", host: "127.0.0.1", port: Number(new URL(gladly.url).port), login: EMAIL, password: GLADLY_TOKEN }),
        AIRFLOW_CONN_AWS_LANDING: JSON.stringify({ conn_type: "aws", login: aws.login, password: aws.password, extra: aws.extra }),
        AIRFLOW_CONN_SNOWFLAKE_RAW: JSON.stringify({ conn_type: "snowflake", login: "loader", password: "snowflake-pw-4471", host: "127.0.0.1", port: snowflake.port, extra: { account: "xo-test", protocol: "http" } }),
      },
    });
    expect(r.stderr).toBe("");
    return { ...(JSON.parse(r.stdout.trim()) as { exit_code: number; tasks: Record<string, string> }), log: await readFile(log, "utf8") };
  }

  async function stagedRows(date: string): Promise<Record<string, number>> {
    const client = moto.client();
    const rows: Record<string, number> = {};
    for (const report of REPORTS) {
      const prefix = `gladly/stage/warbyparker_timestamps_daily/${report}/incremental/date=${date}/`;
      const objects = (await client.send(new ListObjectsV2Command({ Bucket: "xo-landing", Prefix: prefix }))).Contents ?? [];
      expect(objects.map((o) => o.Key!.slice(prefix.length)).filter((k) => !k.endsWith(".csv"))).toEqual(["_SUCCESS", "_manifest.json"]);
      const manifest = JSON.parse(
        await (await client.send(new GetObjectCommand({ Bucket: "xo-landing", Key: `${prefix}_manifest.json` }))).Body!.transformToString(),
      ) as { rows: number; files: unknown[] };
      expect(manifest.files).toHaveLength(1);
      rows[report] = manifest.rows;
    }
    client.destroy();
    return rows;
  }

  const TABLES: Record<string, string> = {
    agent_timestamps: "AGENT_TIMESTAMPS",
    contact_timestamps: "CONTACT_TIMESTAMPS",
    conversation_timestamps: "CONVERSATION_TIMESTAMPS",
    work_sessions: "WORK_SESSIONS",
  };

  /**
   * Rows in each target table, rows of each distinct (file, row) origin, rows stamped with the run's
   * date, and rows whose report Timestamp (New York wall clock) falls on that date, asked of the engine directly.
   */
  async function tableRows(date: string) {
    const out = { rows: {} as Record<string, number>, distinctOrigins: {} as Record<string, number>, ofDate: {} as Record<string, number>, onDay: {} as Record<string, number> };
    for (const report of REPORTS) {
      const t = `"RAW"."GLADLY"."${TABLES[report]}"`;
      const r = await snowflake.query(
        `SELECT count(*), count(DISTINCT "_XO_SOURCE_FILE" || '#' || CAST("_XO_SOURCE_ROW" AS VARCHAR)), count_if("_XO_LOGICAL_DATE" = CAST(? AS DATE)), count_if("TIMESTAMP" LIKE ?) FROM ${t}`,
        [date, `${date}T%`],
      );
      const [rows, distinct, ofDate, onDay] = r.rows[0]!.map(Number);
      out.rows[report] = rows!;
      out.distinctOrigins[report] = distinct!;
      out.ofDate[report] = ofDate!;
      out.onDay[report] = onDay!;
    }
    return out;
  }

  it("extracts and loads each report in its own tasks, lands them in S3 and loads each into its own table; a re-run changes nothing", async () => {
    const first = await dagsTest("2026-01-15");
    const expected = Object.fromEntries(REPORTS.flatMap((r) => [[`extract_${r}`, "success"], [`load_${r}`, "success"]]));
    expect(first.tasks).toEqual(expected);
    expect(first.exit_code).toBe(0);
    const rows = await stagedRows("2026-01-15");
    // Exactly the New York day of each report: 24 hours x one row per 10 minutes (the emulator's data).
    expect(rows).toEqual({ agent_timestamps: 144, contact_timestamps: 144, conversation_timestamps: 144, work_sessions: 144 });
    // Each report was asked for that day as Gladly's Reports API takes it (a date in the pipeline's zone, endAt inclusive), and accepted.
    const requests = gladly.requests.filter((q) => q.path === "/api/v1/reports");
    expect(requests.map((q) => (q.body as { metricSet: string }).metricSet).sort()).toEqual(["AgentTimestampsReport", "ContactTimestampsReport", "ConversationTimestampsReport", "WorkSessionsReportV3"]);
    for (const q of requests) {
      expect(q.body).toMatchObject({ timezone: "America/New_York", startAt: "2026-01-15", endAt: "2026-01-15" });
      expect(q.status).toBe(200);
    }
    // Gladly never served two reports at once, and the extracts sit in its one-slot pool.
    expect(gladly.maxConcurrentReports).toBe(1);
    expect(await readFile(path.join(dags, "warbyparker_timestamps_daily.py"), "utf8")).toContain('pool="gladly_warbyparker"');

    // Each target table holds exactly the rows the manifest counted, each staged row once, all of the run's
    // date, and every report row is of 2026-01-15 in New York: no row of 2026-01-16.
    const afterFirst = await tableRows("2026-01-15");
    expect(afterFirst).toEqual({ rows, distinctOrigins: rows, ofDate: rows, onDay: rows });
    // No staging table is left behind.
    const leftover = await snowflake.query(`SELECT count(*) FROM "RAW".INFORMATION_SCHEMA.TABLES WHERE TABLE_NAME LIKE '%__XO_STAGE_%'`);
    expect(leftover.rows[0]![0]).toBe("0");

    const loads = snowflake.queries.filter((q) => /^(DELETE|INSERT|COPY) /.test(q.sql));
    for (const table of ["AGENT_TIMESTAMPS", "CONTACT_TIMESTAMPS", "CONVERSATION_TIMESTAMPS", "WORK_SESSIONS"]) {
      // incremental without keys appends idempotently: the run's date is deleted, then inserted.
      const del = loads.find((q) => q.sql.startsWith(`DELETE FROM "RAW"."GLADLY"."${table}"`));
      expect(del?.binds).toContain("2026-01-15");
      expect(loads.some((q) => q.sql.startsWith(`INSERT INTO "RAW"."GLADLY"."${table}"`))).toBe(true);
    }
    // COPY from the external stage over the landing bucket, naming exactly the staged file.
    const copies = loads.filter((q) => q.sql.startsWith("COPY INTO"));
    expect(copies).toHaveLength(4);
    // DELETE and INSERT ran on the engine as generated; COPY (stage files) was emulated.
    expect(loads.filter((q) => !q.sql.startsWith("COPY")).every((q) => q.how === "ran")).toBe(true);
    expect(copies.every((q) => q.how === "emulated")).toBe(true);
    for (const copy of copies) {
      expect(copy.sql).toMatch(/ FROM @"?RAW"?\."?GLADLY"?\."?XO_LANDING"? FILES = \('stage\/warbyparker_timestamps_daily\/[a-z_]+\/incremental\/date=2026-01-15\/[^']+\.csv'\) /);
    }

    const before = snowflake.queries.length;
    const second = await dagsTest("2026-01-15");
    expect(second.tasks).toEqual(expected);
    expect(await stagedRows("2026-01-15")).toEqual(rows);
    // A re-run of the same date deletes that date's rows and inserts them again: the same counts, no duplicates.
    expect(await tableRows("2026-01-15")).toEqual(afterFirst);
    // The same statements again; only the per-run staging table names differ.
    const shape = (sql: string) => sql.split(" ").slice(0, 3).join(" ").replace(/__XO_STAGE_[0-9A-F]+/g, "__XO_STAGE_*");
    expect(snowflake.queries.slice(before).map((q) => shape(q.sql)).sort()).toEqual(snowflake.queries.slice(0, before).map((q) => shape(q.sql)).sort());
    // Two whole `airflow dags test` runs of an eight-task DAG: minutes on a two-core machine under load.
  }, 300_000);
});
