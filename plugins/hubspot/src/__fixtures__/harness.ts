/**
 * A sync as the runtime runs it, for tests: a real DuckDB warehouse holding the model, the
 * runtime's own file landing zone, the HubSpot emulator, and the step run through a StepContext
 * with options parsed by the step's schema (strictly, as the core does).
 */
import { readFile } from "node:fs/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import { clearSecrets, rejectedRecordsUri, silentLogger, type Connection, type JsonObject, type Logger, type StepContext, type StepResult, type Warehouse } from "@xo-foundry/core";
import { duckdbSink, quoteIdent, quoteLiteral, sinkOptions } from "@xo-foundry/plugin-duckdb";
import { fileLanding } from "@xo-foundry/runtime";
import { stepContext, testdir, type TestDir } from "@xo-foundry/testkit";
import { hubspotSync } from "../sync.js";
import type { SyncOptions } from "../options.js";
import { snapshotLocation } from "../snapshot.js";
import { startHubSpotEmulator, type HubSpotEmulator, type HubSpotEmulatorOptions } from "./hubspot_server.js";

export type ModelRow = Readonly<Record<string, string | number | boolean | null>>;

export interface RunInput {
  /** Raw `with:` keys over the harness's defaults (contacts by email, from table `contacts`). */
  readonly options?: Record<string, unknown>;
  readonly signal?: AbortSignal;
  readonly log?: Logger;
  readonly logicalDate?: string;
  readonly connection?: Partial<Connection>;
}

export interface Harness {
  readonly dir: TestDir;
  readonly hubspot: HubSpotEmulator;
  readonly landing: { readonly root: string; readonly store: ReturnType<typeof fileLanding> };
  /** Replaces table `name` (default `contacts`) with `rows`; every row has the same columns, in order. */
  model(rows: readonly ModelRow[], name?: string): Promise<void>;
  run(input?: RunInput): Promise<StepResult>;
  /** The step context a run would get (for the contract test and for paths). */
  context(input?: RunInput): StepContext<SyncOptions>;
  /** The snapshot file's lines (header first), or undefined before the first sync. */
  snapshot(): Promise<JsonObject[] | undefined>;
  /** The rejected-records file of the date's partition, or undefined when there is none. */
  rejected(logicalDate?: string): Promise<JsonObject[] | undefined>;
  close(): Promise<void>;
}

export const TASK_ID = "sync_contacts";

/** Fast retries and a generous budget: tests that are about pacing set their own. */
export const TEST_DEFAULTS: Record<string, unknown> = {
  table: "contacts",
  object_type: "contacts",
  key: "email",
  id_property: "email",
  rate: { requests_per_second: 50 },
  backoff_ms: 20,
  timeout_ms: 5000,
};

export async function startHarness(emulator: HubSpotEmulatorOptions = {}): Promise<Harness> {
  const dir = await testdir();
  const hubspot = await startHubSpotEmulator(emulator);
  const store = fileLanding();
  const landing = { root: pathToFileURL(dir.path("landing")).href, store };
  const database = dir.path("warehouse.duckdb");
  const warehouseFor = (signal: AbortSignal): Warehouse =>
    duckdbSink.warehouse!({ sink: "main", options: sinkOptions.parse({ database }), connection: undefined, projectDir: dir.dir, log: silentLogger, signal });

  const context = (input: RunInput = {}): StepContext<SyncOptions> => {
    const options = hubspotSync.options.strict().parse({ ...TEST_DEFAULTS, ...input.options }) as SyncOptions;
    const signal = input.signal ?? new AbortController().signal;
    const connection: Connection = { id: "crm", host: "127.0.0.1", port: hubspot.port, schema: "http", password: hubspot.token, extra: {}, ...input.connection };
    const ctx = stepContext<SyncOptions>({
      options,
      taskId: TASK_ID,
      projectDir: dir.dir,
      signal,
      landing,
      connection,
      warehouses: { main: warehouseFor(signal) },
      ...(input.logicalDate ? { logicalDate: input.logicalDate } : {}),
    });
    return input.log ? { ...ctx, log: input.log } : ctx;
  };

  const readLines = async (uri: string): Promise<JsonObject[] | undefined> => {
    const text = await readFile(fileURLToPath(uri), "utf8").catch(() => undefined);
    return text === undefined ? undefined : text.split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l) as JsonObject);
  };

  return {
    dir,
    hubspot,
    landing,
    async model(rows, name = "contacts") {
      const warehouse = warehouseFor(new AbortController().signal);
      if (rows.length === 0) {
        await warehouse.execute([`create or replace table ${quoteIdent(name)} as select * from ${quoteIdent(name)} where false`]);
        return;
      }
      const columns = Object.keys(rows[0]!);
      const literal = (v: string | number | boolean | null) => (v === null ? "null" : typeof v === "string" ? quoteLiteral(v) : String(v));
      const values = rows.map((r) => `(${columns.map((c) => literal(r[c] ?? null)).join(", ")})`).join(",\n");
      await warehouse.execute([`create or replace table ${quoteIdent(name)} as select * from (values ${values}) as v(${columns.map(quoteIdent).join(", ")})`]);
    },
    run: (input = {}) => hubspotSync.run(context(input)),
    context,
    snapshot: () => readLines(snapshotLocation({ landing, pipeline: context().pipeline, taskId: TASK_ID }).uri),
    rejected: (logicalDate) => readLines(rejectedRecordsUri(context(logicalDate ? { logicalDate } : {}))),
    async close() {
      await hubspot.close();
      await dir.remove();
      clearSecrets();
    },
  };
}

/** `count` contacts `c<i>@example.com`, with names that depend on `version` so a test can change them all. */
export function contacts(count: number, version = 1): ModelRow[] {
  return Array.from({ length: count }, (_, i) => ({
    email: `c${String(i).padStart(4, "0")}@example.com`,
    firstname: `First${i}`,
    lastname: `Last${i}v${version}`,
    company: `Company ${i % 7}`,
    lifecyclestage: i % 2 === 0 ? "lead" : "customer",
  }));
}

/** What HubSpot holds for the live objects of a type: their id property's value -> properties, for comparing with the model. */
export function crmState(hubspot: HubSpotEmulator, idProperty = "email", objectType = "contacts"): Map<string, Record<string, string>> {
  const state = new Map<string, Record<string, string>>();
  for (const o of hubspot.objects(objectType)) {
    const id = o.properties[idProperty]!;
    if (state.has(id)) throw new Error(`two live ${objectType} objects with ${idProperty} ${id}`);
    state.set(id, o.properties);
  }
  return state;
}
