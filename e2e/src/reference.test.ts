/**
 * The reference pipeline (examples/warbyparker-timestamps.yaml) through the built CLI.
 * Real: the CLI, the runtime, the AWS SDK against moto_server's S3 API on loopback.
 * Emulated: Gladly (the plugin's loopback emulator, held to Gladly's published Reports API
 * description: it refuses the requests Gladly refuses; its CSV content and row cap are assumed).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { GetObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { startGladlyEmulator, EMAIL, TOKEN, type GladlyEmulator } from "../../plugins/gladly/src/__fixtures__/gladly-server.js";
import { startMoto, type Moto } from "../../plugins/s3/src/__fixtures__/moto.js";
import { sandbox, xo } from "./helpers.js";

let gladly: GladlyEmulator;
let moto: Moto;
let project: Awaited<ReturnType<typeof sandbox>>;
let env: NodeJS.ProcessEnv;
const AWS_SECRET = "moto-reference-secret-5521";

beforeAll(async () => {
  [gladly, moto] = await Promise.all([startGladlyEmulator(), startMoto()]);
  await moto.createBucket("xo-landing");
  project = await sandbox({}, { copyExamples: true });
  // The example names Gladly's real host; point the connection at the emulator instead.
  env = {
    XO_CONN_GLADLY_WARBYPARKER: JSON.stringify({ host: gladly.url, login: EMAIL, password: TOKEN }),
    XO_CONN_AWS_LANDING: JSON.stringify({ ...moto.connection("aws_landing", AWS_SECRET), conn_type: "aws" }),
    XO_CONN_SNOWFLAKE_RAW: JSON.stringify({ conn_type: "snowflake", login: "loader", password: "snowflake-pw-0192", extra: { account: "xo-test" } }),
  };
  const file = path.join(project.dir, "warbyparker-timestamps.yaml");
  const yaml = (await readFile(file, "utf8")).replace("  organization: warbyparker\n", "");
  await writeFile(file, yaml);
  // The same pipeline with a row cap the emulator reaches within a day.
  await writeFile(path.join(project.dir, "warbyparker-capped.yaml"), yaml.replace("  pool: gladly_warbyparker\n", "  pool: gladly_warbyparker\n  row_cap: 100\n"));
});

afterAll(async () => {
  await Promise.all([gladly?.close(), moto?.stop(), project?.remove()]);
});

const task = (id: string, date: string, e: NodeJS.ProcessEnv = env, file = "warbyparker-timestamps.yaml") =>
  xo(["task", file, id, "--logical-date", date, "--run-id", `scheduled__${date}`, "--project-dir", project.dir], { env: e });

describe("the reference pipeline warbyparker_timestamps_daily", () => {
  it("names every missing connection once, before running anything", async () => {
    const r = await xo(["run", path.join(project.dir, "warbyparker-timestamps.yaml"), "--date", "2026-01-15"], { env: { XO_CONN_GLADLY_WARBYPARKER: "", XO_CONN_AWS_LANDING: "", XO_CONN_SNOWFLAKE_RAW: "" } });
    expect(r.code).toBe(1);
    for (const v of ["XO_CONN_AWS_LANDING", "XO_CONN_GLADLY_WARBYPARKER", "XO_CONN_SNOWFLAKE_RAW"]) {
      expect(r.stderr.split(`set ${v} `).length - 1).toBe(1);
    }
    expect(r.stdout).not.toContain("extract_");
  });

  it("lands a Gladly report in S3 under the load-strategy path, with manifest and marker", async () => {
    const r = await task("extract_contact_timestamps", "2026-01-15");
    expect(r.stderr).not.toContain("error");
    expect(r.code).toBe(0);
    const xcom = JSON.parse(r.stdout.trim().split("\n").pop()!) as { summary: { partition: string; rows: number }; files: { uri: string; sha256: string }[] };
    const partition = "s3://xo-landing/gladly/stage/warbyparker_timestamps_daily/contact_timestamps/incremental/date=2026-01-15";
    expect(xcom.summary.partition).toBe(partition);
    expect(xcom.summary.rows).toBe(144); // one row per 10 minutes of the New York day
    const client = moto.client();
    const keys = (await client.send(new ListObjectsV2Command({ Bucket: "xo-landing", Prefix: "gladly/stage/" }))).Contents!.map((o) => o.Key);
    expect(keys.filter((k) => k!.includes("contact_timestamps")).map((k) => k!.split("/").pop())).toEqual([
      expect.stringMatching(/\.csv$/),
      "_SUCCESS",
      "_manifest.json",
    ]);
    const csv = await (await client.send(new GetObjectCommand({ Bucket: "xo-landing", Key: xcom.files[0]!.uri.slice("s3://xo-landing/".length) }))).Body!.transformToString();
    expect(csv.split("\n")[0]).toContain("\"Contact ID\""); // the report's header row
    // Every row is of the New York day 2026-01-15, none of the 16th.
    const stamps = [...csv.matchAll(/^ContactTimestampsReport-[^,]+,([^,]+),/gm)].map((m) => m[1]!);
    expect(stamps).toHaveLength(144);
    expect(stamps.filter((t) => !t.startsWith("2026-01-15T"))).toEqual([]);
    // The report asked Gladly for that day as its Reports API takes it: a date in the pipeline's zone, endAt inclusive.
    const report = gladly.requests.find((q) => q.path === "/api/v1/reports")!;
    expect(report.body).toEqual({ metricSet: "ContactTimestampsReport", timezone: "America/New_York", startAt: "2026-01-15", endAt: "2026-01-15" });
    expect(report.status).toBe(200);

    // A re-run of the same date replaces the partition: still one data file.
    expect((await task("extract_contact_timestamps", "2026-01-15")).code).toBe(0);
    const again = (await client.send(new ListObjectsV2Command({ Bucket: "xo-landing", Prefix: `${partition.slice("s3://xo-landing/".length)}/` }))).Contents!;
    expect(again.filter((o) => o.Key!.endsWith(".csv"))).toHaveLength(1);
    client.destroy();
  });

  it("fails a day that reaches the row cap with the plugin's code, naming the report, the day and what to do", async () => {
    gladly.rowCap = 100;
    try {
      const r = await task("extract_conversation_timestamps", "2026-01-15", env, "warbyparker-capped.yaml");
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("XO_GLADLY_REPORT_CAPPED");
      expect(r.stderr).toContain("report ConversationTimestampsReport for 2026-01-15 (America/New_York) returned 100 rows, which reaches `row_cap` (100)");
      expect(r.stderr).toContain("split the stream into several with `filters`");
      // Nothing was landed for that day.
      const client = moto.client();
      const listed = await client.send(new ListObjectsV2Command({ Bucket: "xo-landing", Prefix: "gladly/stage/warbyparker_timestamps_daily/conversation_timestamps/" }));
      client.destroy();
      expect(listed.Contents ?? []).toEqual([]);
    } finally {
      gladly.rowCap = 100_000;
    }
  });

  it("fails with a clear message and no secret when the Gladly token is wrong", async () => {
    const wrong = "wrong-gladly-token-7781";
    const r = await task("extract_agent_timestamps", "2026-01-15", { ...env, XO_CONN_GLADLY_WARBYPARKER: JSON.stringify({ host: gladly.url, login: EMAIL, password: wrong }) });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error XO_STEP_FAILED");
    expect(r.stderr).toContain("XO_CONN_GLADLY_WARBYPARKER");
    for (const secret of [wrong, AWS_SECRET, Buffer.from(`${EMAIL}:${wrong}`).toString("base64")]) {
      expect(`${r.stdout}${r.stderr}`).not.toContain(secret);
    }
  });
});
