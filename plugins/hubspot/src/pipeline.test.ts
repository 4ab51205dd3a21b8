/**
 * `hubspot.sync` run by the runtime from a pipeline file, as `xo-foundry run` does: the core
 * parses `with:`, resolves the connection from XO_CONN_CRM, hands the step the DuckDB sink's
 * warehouse and the landing zone, and records the task's summary.
 */
import { readFile } from "node:fs/promises";
import { afterEach, beforeEach, expect, test } from "vitest";
import { clearSecrets, definePlugin, loadPipeline, openProject, silentLogger, type ResolvedPipeline, type TemplateDefinition } from "@xo-foundry/core";
import { duckdb, duckdbSink, sinkOptions } from "@xo-foundry/plugin-duckdb";
import { consoleLogger, runPipeline } from "@xo-foundry/runtime";
import { testdir, type TestDir } from "@xo-foundry/testkit";
import { hubspot } from "./index.js";
import { startHubSpotEmulator, type HubSpotEmulator } from "./__fixtures__/hubspot_server.js";

// A pipeline of steps only: the model is already in the warehouse.
const stepsOnly: TemplateDefinition = { id: "steps_only", description: "The pipeline's steps and nothing else.", needsSource: false, tasks: () => [] };

const PIPELINE = `pipeline:
  name: contacts_to_crm
  start_date: 2026-01-01
template: steps_only
sink:
  plugin: duckdb
  database: warehouse.duckdb
landing:
  uri: file://landing
steps:
  - id: sync_contacts
    uses: hubspot.sync
    connection: crm
    with:
      query: select email, first_name as firstname, company from contacts
      object_type: contacts
      key: email
      id_property: email
      deletes: archive
`;

let dir: TestDir;
let crm: HubSpotEmulator;
beforeEach(async () => {
  dir = await testdir({ "pipeline.yaml": PIPELINE });
  crm = await startHubSpotEmulator();
});
afterEach(async () => {
  await crm.close();
  await dir.remove();
  clearSecrets();
});

async function model(sql: string): Promise<void> {
  const warehouse = duckdbSink.warehouse!({ sink: "main", options: sinkOptions.parse({ database: dir.path("warehouse.duckdb") }), connection: undefined, projectDir: dir.dir, log: silentLogger, signal: new AbortController().signal });
  await warehouse.execute([`create or replace table contacts as ${sql}`]);
}

async function run(logicalDate: string, lines: string[] = []) {
  const project = await openProject(dir.dir, { discover: false, plugins: [duckdb(), hubspot(), definePlugin({ name: "test-templates", version: "0.0.0", templates: [stepsOnly] })] });
  const { pipeline, diagnostics } = await loadPipeline(dir.path("pipeline.yaml"), project);
  expect(diagnostics).toEqual([]);
  const env = { XO_CONN_CRM: JSON.stringify({ host: "127.0.0.1", port: crm.port, schema: "http", password: crm.token }) };
  return runPipeline({ pipeline: pipeline as ResolvedPipeline, project, logicalDate, log: consoleLogger({ write: (line) => void lines.push(line) }), env });
}

test("a pipeline's sync step inserts, then sends only the change, with the snapshot in the landing zone's state folder", async () => {
  await model("select * from (values ('ana@example.com', 'Ana', 'Lumen'), ('ben@example.com', 'Ben', 'Northwind'), ('not-an-email', 'Frank', 'Orbit')) v(email, first_name, company)");
  const lines: string[] = [];
  const first = await run("2026-01-15", lines);
  expect(first.ok).toBe(true);
  expect(first.tasks[0]!.outcome?.summary).toEqual({
    rows: 3,
    inserts: 2,
    updates: 0,
    deletes: 0,
    unchanged: 0,
    conflicts: 0,
    rejected: 1,
    rejected_file: expect.stringMatching(/\/landing\/rejected\/contacts_to_crm\/sync_contacts\/incremental\/date=2026-01-15\/rejected\.ndjson$/),
  });
  expect(lines.join("\n")).toContain("hubspot.sync contacts: 3 rows, 2 inserts, 0 updates, 0 deletes, 0 unchanged, 0 conflicts, 1 rejected");
  // The runtime registered the connection's password with the redactor: no log line holds it.
  expect(lines.join("\n")).not.toContain(crm.token);
  const snapshot = await readFile(dir.path("landing", "state", "contacts_to_crm", "sync__sync_contacts.ndjson"), "utf8");
  expect(snapshot.trim().split("\n")).toHaveLength(3);

  await model("select * from (values ('ana@example.com', 'Ana', 'Lumen AG')) v(email, first_name, company)");
  const second = await run("2026-01-16");
  expect(second.tasks[0]!.outcome?.summary).toMatchObject({ rows: 1, updates: 1, deletes: 1, rejected: 0 });
  expect(crm.objects("contacts").map((o) => o.properties)).toEqual([{ email: "ana@example.com", firstname: "Ana", company: "Lumen AG" }]);
});

test("a wrong token fails the task with HUBSPOT_AUTH_FAILED, naming the connection's variable", async () => {
  await model("select 'ana@example.com' as email, 'Ana' as first_name, 'Lumen' as company");
  const project = await openProject(dir.dir, { discover: false, plugins: [duckdb(), hubspot(), definePlugin({ name: "test-templates", version: "0.0.0", templates: [stepsOnly] })] });
  const { pipeline } = await loadPipeline(dir.path("pipeline.yaml"), project);
  const env = { XO_CONN_CRM: JSON.stringify({ host: "127.0.0.1", port: crm.port, schema: "http", password: "pat-na1-revoked" }) };
  const summary = await runPipeline({ pipeline: pipeline as ResolvedPipeline, project, logicalDate: "2026-01-15", log: consoleLogger({ write: () => {} }), env });
  expect(summary.ok).toBe(false);
  const error = summary.tasks[0]!.error as readonly { code: string; message: string; hint?: string }[];
  expect(error[0]).toMatchObject({ code: "HUBSPOT_AUTH_FAILED", message: expect.stringContaining("XO_CONN_CRM") });
  expect(JSON.stringify(error)).not.toContain("pat-na1-revoked");
});
