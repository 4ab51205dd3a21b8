/**
 * dbt_cloud.run through its real HTTP client (axios) against the loopback emulator of the
 * dbt Cloud Administrative API v2 in __fixtures__/dbt_cloud_server.ts, which follows the
 * published OpenAPI description. Nothing else is emulated.
 */
import { readFile } from "node:fs/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import { clearSecrets, type Connection, type StepContext } from "@xo-foundry/core";
import { fileLanding } from "@xo-foundry/runtime";
import { describeStep, recordingLogger, rejectionOf, stepContext, testdir, type RecordingLogger, type TestDir } from "@xo-foundry/testkit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { artifactsUri } from "./core.js";
import { cloudOptions, dbtCloudRun, type CloudOptions } from "./cloud.js";
import { dbt } from "./index.js";
import { startDbtCloud, type DbtCloudEmulator } from "./__fixtures__/dbt_cloud_server.js";

const ACCOUNT = 4387;
const TOKEN = "dbtc_secret-token-value-9f2k";
const JOB = 765532;
let cloud: DbtCloudEmulator;
let dir: TestDir;

beforeEach(async () => {
  cloud = await startDbtCloud({ accountId: ACCOUNT, token: TOKEN });
  dir = await testdir();
});
afterEach(async () => {
  await cloud.close();
  await dir.remove();
  clearSecrets();
});

const RUN_RESULTS = (failing = false) => ({
  elapsed_time: 12.5,
  results: [
    { unique_id: "model.shop.stg_orders", status: "success", message: "OK", adapter_response: { rows_affected: 23 } },
    { unique_id: "model.shop.customer_orders", status: "success", message: "OK", adapter_response: { rows_affected: 250 } },
    failing
      ? { unique_id: "test.shop.not_null_orders_id.1a2b", status: "fail", message: "Got 3 results, configured to fail if != 0", failures: 3 }
      : { unique_id: "test.shop.not_null_orders_id.1a2b", status: "pass", message: null, failures: 0 },
  ],
});

const connectionTo = (emulator: DbtCloudEmulator): Connection => ({ id: "dbt_cloud_default", type: "dbt_cloud", host: emulator.url, login: String(ACCOUNT), password: TOKEN, extra: {} });

function context(options: Partial<CloudOptions> & Record<string, unknown>, extra: { signal?: AbortSignal; connection?: Partial<Connection> } = {}): StepContext<CloudOptions> & { log: RecordingLogger } {
  const log = recordingLogger();
  const base = stepContext({
    projectDir: dir.dir,
    options: cloudOptions.parse({ job_id: JOB, poll_interval_seconds: 0.01, ...options }),
    taskId: "dbt_cloud",
    ...(extra.signal ? { signal: extra.signal } : {}),
    landing: { root: pathToFileURL(dir.path("landing")).href, store: fileLanding() },
    connection: { ...connectionTo(cloud), ...extra.connection },
  });
  return { ...base, log };
}

describeStep(
  {
    plugin: dbt(),
    step: "dbt_cloud.run",
    // The README's examples.
    examples: [{ job_id: JOB, poll_interval_seconds: 0.01 }, { job_id: JOB, git_branch: "main", steps_override: ["dbt build -s tag:daily"], timeout_seconds: 60, poll_interval_seconds: 0.01 }],
    environment: () => {
      cloud.script(JOB, { statuses: [3, 10], artifacts: { "run_results.json": RUN_RESULTS() } });
      return { projectDir: dir.dir, connection: connectionTo(cloud), landing: { root: pathToFileURL(dir.path("landing")).href, store: fileLanding() } };
    },
  },
  { timeout: 30_000 },
);

describe("dbt_cloud.run", () => {
  it("triggers the job with the overrides, follows the run to success and keeps its artifacts", async () => {
    cloud.script(JOB, {
      statuses: [1, 2, 3, 3, 10],
      artifacts: { "run_results.json": RUN_RESULTS(), "manifest.json": { nodes: {} } },
      steps: [
        { name: "Clone git repository", status: 10, logs: "cloned" },
        { name: "Invoke dbt with `dbt build`", status: 10, logs: "Done. PASS=3" },
      ],
    });
    const ctx = context({ git_branch: "release", schema_override: "dbt_ci", steps_override: ["dbt build -s tag:daily"], threads_override: 8, cause: "daily load finished" });
    const result = await dbtCloudRun.run(ctx);

    const [run] = [...cloud.runs.values()];
    expect(run!.trigger).toEqual({ cause: "daily load finished", git_branch: "release", schema_override: "dbt_ci", steps_override: ["dbt build -s tag:daily"], threads_override: 8 });
    expect(result.summary).toMatchObject({ job_id: JOB, run_id: 70_000_001, status: "Success", nodes: 3, success: 2, pass: 1, rows_affected: 273, failed: [] });
    expect(String(result.summary!.href)).toContain("/runs/70000001/");
    const kept = fileURLToPath(artifactsUri(ctx));
    expect(JSON.parse(await readFile(`${kept}/run_results.json`, "utf8"))).toEqual(RUN_RESULTS());
    expect(JSON.parse(await readFile(`${kept}/manifest.json`, "utf8"))).toEqual({ nodes: {} });
    expect(await readFile(`${kept}/run_steps.log`, "utf8")).toBe("== Clone git repository (Success)\ncloned\n\n== Invoke dbt with `dbt build` (Success)\nDone. PASS=3\n");
    expect(ctx.log.infos).toEqual(expect.arrayContaining(["dbt Cloud run 70000001: Starting", "dbt Cloud run 70000001: Running", "dbt Cloud run 70000001: Success"]));
    expect(cloud.requests.filter((r) => r.method === "GET" && r.path.endsWith("/runs/70000001/") && !r.query.include_related)).toHaveLength(5);
  });

  it("fails naming the failing test and the failed step when the run ends in error", async () => {
    cloud.script(JOB, {
      statuses: [3, 20],
      artifacts: { "run_results.json": RUN_RESULTS(true) },
      steps: [
        { name: "Clone git repository", status: 10, logs: "cloned" },
        { name: "Invoke dbt with `dbt build`", status: 20, logs: "1 of 3 START sql view model\nFAIL 3 not_null_orders_id\nDone. PASS=2 WARN=0 ERROR=0 FAIL=1" },
      ],
    });
    const error = await rejectionOf(() => dbtCloudRun.run(context({})));
    expect(error).toMatchObject({ code: "XO_DBT_CLOUD_FAILED" });
    expect(error.message).toContain("dbt Cloud run 70000001 of job 765532 failed");
    expect(error.message).toContain("- test not_null_orders_id (fail): Got 3 results, configured to fail if != 0");
    expect(error.message).toContain("failed step: Invoke dbt with `dbt build`\n  | 1 of 3 START sql view model");
  });

  it("fails when the run is cancelled in dbt Cloud", async () => {
    cloud.script(JOB, { statuses: [1, 30] });
    const error = await rejectionOf(() => dbtCloudRun.run(context({})));
    expect(error).toMatchObject({ code: "XO_DBT_CLOUD_FAILED" });
    expect(error.message).toContain("was cancelled");
  });

  it("retries 429 (after Retry-After) and 5xx while polling, but never re-sends a trigger a server error may have started", async () => {
    cloud.script(JOB, { statuses: [3, 10] });
    cloud.failNext(/\/jobs\/\d+\/run\/$/, 429, 1, 1);
    cloud.failNext(/\/runs\/\d+\/$/, 502, 2);
    const result = await dbtCloudRun.run(context({}));
    expect(result.summary).toMatchObject({ status: "Success" });
    expect(cloud.requests.filter((r) => r.method === "POST" && r.path.endsWith("/run/"))).toHaveLength(2);
    expect(cloud.runs.size).toBe(1);

    cloud.failNext(/\/jobs\/\d+\/run\/$/, 500, 1);
    const error = await rejectionOf(() => dbtCloudRun.run(context({})));
    expect(error).toMatchObject({ code: "XO_DBT_CLOUD_REQUEST_FAILED" });
    expect(error.message).toContain("dbt Cloud answered POST jobs/765532/run/ with 500");
    expect(cloud.runs.size).toBe(1);
  });

  it("cancels the run when it outlasts timeout_seconds", async () => {
    cloud.script(JOB, { statuses: [3] });
    const error = await rejectionOf(() => dbtCloudRun.run(context({ timeout_seconds: 0.3, poll_interval_seconds: 0.05 })));
    expect(error).toMatchObject({ code: "XO_DBT_CLOUD_TIMEOUT" });
    expect([...cloud.runs.values()][0]!.cancelled).toBe(true);
  });

  it("cancels the run when the task is cancelled, and ends with the abort reason", async () => {
    cloud.script(JOB, { statuses: [3] });
    const controller = new AbortController();
    const reason = new Error("task killed");
    const running = dbtCloudRun.run(context({ poll_interval_seconds: 0.05 }, { signal: controller.signal }));
    setTimeout(() => controller.abort(reason), 300);
    await expect(running).rejects.toBe(reason);
    expect([...cloud.runs.values()][0]!.cancelled).toBe(true);
    expect(cloud.requests.some((r) => r.method === "POST" && r.path.endsWith("/cancel/"))).toBe(true);
  });

  it("says what to check when dbt Cloud refuses the token, the account or the job, and never shows the token", async () => {
    cloud.script(JOB, { statuses: [10] });
    const badToken = await rejectionOf(() => dbtCloudRun.run(context({}, { connection: { password: "wrong" } })));
    expect(badToken).toMatchObject({ code: "XO_DBT_CLOUD_REQUEST_FAILED", hint: "check the API token in the connection's password and the account id" });
    expect(badToken.message).toContain("with 401: Invalid token.");
    const otherAccount = await rejectionOf(() => dbtCloudRun.run(context({ account_id: 1 })));
    expect(otherAccount.message).toContain("with 403");
    const noJob = await rejectionOf(() => dbtCloudRun.run(context({ job_id: 1 })));
    expect(noJob).toMatchObject({ hint: "check the job id and the account id" });
    for (const e of [badToken, otherAccount, noJob]) expect(e.message).not.toContain(TOKEN);
  });

  it("only triggers with wait: false", async () => {
    cloud.script(JOB, { statuses: [1, 10] });
    const result = await dbtCloudRun.run(context({ wait: false }));
    expect(result.summary).toMatchObject({ run_id: 70_000_001, status: "Queued" });
    expect(cloud.requests.map((r) => r.method)).toEqual(["POST"]);
  });
});
