/**
 * The sink contract: what the runtime and re-runs rely on. Loads report what they loaded,
 * the same manifest loaded twice leaves the rows once, strings and column names survive
 * (or are refused with a code), and a broken file changes nothing.
 */
import path from "node:path";
import { isDeepStrictEqual } from "node:util";
import { silentLogger, type Connection, type JsonObject, type LoadResult, type LoadStrategy, type Manifest, type SinkDefinition, type XoPlugin } from "@xo-foundry/core";
import { loadContext } from "../context.js";
import { writeManifestFile, writeNdjsonManifest, manifest as manifestOf } from "../files.js";
import { generateRecords } from "../generate.js";
import { HOSTILE_COLUMN_NAMES, HOSTILE_TEXT } from "../hostile.js";
import { check, errorText, subjectOf, type ContractCheck, type Fail, type SuiteOptions } from "./check.js";
import { definitionCheck, expectDeclaredCode, firstDifference, pick, pluginChecks, schemaChecks, truncate } from "./common.js";
import { registerChecks } from "./register.js";

/** An empty place to load into (a database file in a fresh folder, a schema), one per check. */
export interface SinkPlace {
  /** The project directory; landed files are written under it, and relative options resolve against it. */
  readonly projectDir: string;
  /** The sink block's options for this place. */
  readonly options: Record<string, unknown>;
  readonly connection?: Connection;
  cleanup?(): void | Promise<void>;
}

export interface SinkExample {
  readonly options: Record<string, unknown>;
  readonly target: Record<string, unknown>;
}

export interface SinkContractInput {
  readonly plugin: XoPlugin;
  /** The sink's id; optional when the plugin provides one sink. */
  readonly sink?: string;
  /** Option and target blocks the README documents. */
  readonly examples: readonly SinkExample[];
  /** A fresh, empty place to load into; called once per check. */
  place(): SinkPlace | Promise<SinkPlace>;
  /**
   * Every row of `table` (as the load reported it) with the loaded columns; metadata
   * columns may be there too. By default `SELECT * FROM <table>` on the sink's warehouse.
   */
  readRows?(place: SinkPlace, table: string): Promise<readonly JsonObject[]>;
  /** How many rows the checks load; 500 by default. */
  readonly rows?: number;
  /**
   * How the warehouse spells a landed key as a column, for a sink that folds names the way
   * its warehouse does (Snowflake upper-cases them). The name itself by default. The hostile
   * column names stay distinct when case is folded, so folding loses none of them.
   */
  columnName?(name: string): string;
}

export function sinkChecks(input: SinkContractInput): ContractCheck[] {
  const sink = pick(input.plugin, input.plugin.sinks, "sink", input.sink) as SinkDefinition;
  const subject = subjectOf(input.plugin, "sink", sink.id);
  const count = input.rows ?? 500;
  const column = input.columnName ?? ((name: string) => name);

  const readRows =
    input.readRows ??
    (async (place: SinkPlace, table: string): Promise<readonly JsonObject[]> => {
      if (!sink.warehouse) throw new Error(`${input.plugin.name} sink ${sink.id} offers no warehouse; pass readRows in the contract input`);
      const warehouse = sink.warehouse({ sink: "main", options: place.options, connection: place.connection, projectDir: place.projectDir, log: silentLogger, signal: new AbortController().signal });
      return warehouse.query(`SELECT * FROM ${table}`);
    });

  async function inPlace(use: (place: SinkPlace) => Promise<void>): Promise<void> {
    const place = await input.place();
    try {
      await use(place);
    } finally {
      await place.cleanup?.();
    }
  }

  let partitions = 0;
  const landed = (place: SinkPlace, records: readonly JsonObject[], stream: string, strategy: LoadStrategy, logicalDate = "2026-01-15", files = 3) =>
    writeNdjsonManifest({ dir: path.join(place.projectDir, "landing", `p${partitions++}`), records, files, stream, strategy, logicalDate, runId: `contract__${logicalDate}` });

  const load = (place: SinkPlace, manifest: Manifest, target: Record<string, unknown> = {}) =>
    sink.load(loadContext({ manifest, options: place.options, target, projectDir: place.projectDir, plugin: sink.id, ...(place.connection ? { connection: place.connection } : {}) }));

  const expectLoaded = (fail: Fail, result: LoadResult, rows: number, what: string) => {
    if (typeof result !== "object" || result === null || typeof result.table !== "string" || result.table === "") {
      fail(`${what} returned ${truncate(JSON.stringify(result))}`, "return { table, rowsLoaded, rowsInTable? } with the table as the warehouse spells it");
    }
    if (result.rowsLoaded !== rows) fail(`${what} reported rowsLoaded ${String(result.rowsLoaded)} for ${rows} rows`, "report the number of rows this load wrote");
  };

  /** The loaded columns of `rows`, by id, for comparing with what went in. */
  const project = (rows: readonly JsonObject[], like: readonly JsonObject[]): JsonObject[] => {
    const keys = Object.keys(like[0] ?? {});
    return rows
      .map((row) => Object.fromEntries(keys.map((k) => [k, k === "id" ? Number(row[column(k)]) : (row[column(k)] ?? null)])) as JsonObject)
      .sort((a, b) => Number(a.id) - Number(b.id));
  };

  const checks: ContractCheck[] = [
    ...pluginChecks(subject, input.plugin),
    definitionCheck(subject, sink),
    ...schemaChecks(subject, "options", sink.options, input.examples.map((e) => e.options)),
    ...schemaChecks(subject, "target", sink.target, input.examples.map((e) => e.target)),

    check(subject, "loads N generated rows and reports rowsLoaded N", async (fail: Fail) => {
      await inPlace(async (place) => {
        const records = generateRecords({ seed: 21, count, fields: { name: "string", amount: "float", quantity: "int", active: "bool" }, nullRate: 0.1 });
        const result = await load(place, await landed(place, records, "contract_rows", "incremental"));
        expectLoaded(fail, result, count, "the load");
        if (result.rowsInTable !== undefined && result.rowsInTable !== count) fail(`it reported rowsInTable ${result.rowsInTable} for a new table of ${count} rows`, "report the table's row count after the load, or leave it out");
        const rows = await readRows(place, result.table);
        const difference = firstDifference(project(rows, records), records);
        if (difference) fail(`the table does not hold the landed rows: ${difference}`, "load every row of every manifest file, values unchanged");
      });
    }),

    check(subject, "does not duplicate rows when the same manifest loads again", async (fail: Fail) => {
      for (const strategy of ["full_refresh", "incremental", "historical"] as const) {
        await inPlace(async (place) => {
          const records = generateRecords({ seed: 22, count, fields: { name: "string" } });
          const m = await landed(place, records, "contract_rerun", strategy);
          const first = await load(place, m);
          const second = await load(place, m);
          expectLoaded(fail, second, count, `the second load (${strategy})`);
          const rows = await readRows(place, first.table);
          if (rows.length !== count) {
            fail(
              `after loading one manifest of ${count} rows twice (strategy ${strategy}, no target options) the table holds ${rows.length} rows`,
              "make a re-run replace what the same logical date loaded before (replace the table, delete the date's rows, or merge by key), inside the load's transaction",
            );
          }
        });
      }
    }),

    check(subject, "keeps hostile values unchanged, or refuses them with a declared code", async (fail: Fail) => {
      await inPlace(async (place) => {
        const records: JsonObject[] = HOSTILE_TEXT.map((s, i) => ({ id: i + 1, value: s }));
        let result: LoadResult;
        try {
          result = await load(place, await landed(place, records, "contract_hostile_values", "full_refresh", "2026-01-15", 1));
        } catch (e) {
          expectDeclaredCode(fail, input.plugin, e, "loading hostile values", true);
          return;
        }
        const rows = project(await readRows(place, result.table), records);
        for (const expected of records) {
          const got = rows.find((r) => r.id === expected.id);
          if (!got || got.value !== expected.value) {
            fail(
              `the value ${truncate(JSON.stringify(expected.value))} came back as ${truncate(JSON.stringify(got?.value))}`,
              "store strings byte for byte (quotes, backslashes, NUL, control and bidi characters included), or refuse them with a coded error",
            );
          }
        }
      });
    }),

    check(subject, "keeps hostile column names, or refuses them with a declared code", async (fail: Fail) => {
      await inPlace(async (place) => {
        const record: Record<string, string | number> = { id: 1 };
        for (const name of HOSTILE_COLUMN_NAMES) record[name] = `value of ${name}`;
        let result: LoadResult;
        try {
          result = await load(place, await landed(place, [record], "contract_hostile_columns", "full_refresh", "2026-01-15", 1));
        } catch (e) {
          expectDeclaredCode(fail, input.plugin, e, "loading hostile column names", true);
          return;
        }
        const [row] = await readRows(place, result.table);
        for (const name of HOSTILE_COLUMN_NAMES) {
          const spelled = column(name);
          if (!row || row[spelled] !== record[name]) {
            fail(
              `column ${JSON.stringify(spelled)} came back as ${row && spelled in row ? JSON.stringify(row[spelled]) : "missing"} (columns: ${truncate(JSON.stringify(Object.keys(row ?? {})))})`,
              "quote identifiers in generated SQL (one vetted quoting function), or refuse the name with a coded error",
            );
          }
        }
      });
    }),

    check(subject, "fails a corrupt file with a declared code and keeps the table as it was", async (fail: Fail) => {
      await inPlace(async (place) => {
        const records = generateRecords({ seed: 23, count: 20, fields: { name: "string" } });
        const first = await load(place, await landed(place, records, "contract_corrupt", "incremental", "2026-01-15", 1));
        const before = await readRows(place, first.table);

        const dir = path.join(place.projectDir, "landing", `p${partitions++}`);
        const good = await writeManifestFile(path.join(dir, "part-00000.ndjson"), '{"id": 100, "name": "fine"}\n', "ndjson", 1);
        const corrupt = await writeManifestFile(path.join(dir, "part-00001.ndjson"), '{"id": 101, "name": "cut short\n{not json at all\n', "ndjson", 2);
        const broken = manifestOf({ dir, files: [good, corrupt], stream: "contract_corrupt", strategy: "incremental", logicalDate: "2026-01-16", runId: "contract__2026-01-16" });
        let error: unknown;
        try {
          const result = await load(place, broken);
          fail(`it loaded a corrupt file and reported ${JSON.stringify(result)}`, "fail the load when a landed file does not parse");
        } catch (e) {
          if (e instanceof Error && e.name === "ContractViolation") throw e;
          error = e;
        }
        const after = await readRows(place, first.table);
        if (!isDeepStrictEqual(project(after, records), project(before, records))) {
          fail(`the failed load changed the table (${before.length} rows before, ${after.length} after; error ${errorText(error)})`, "load inside one transaction and roll it back on any failure");
        }
        expectDeclaredCode(fail, input.plugin, error, "loading a corrupt file", true);
      });
    }),
  ];
  return checks;
}

/** Registers the sink contract as a vitest `describe` block. */
export function describeSink(input: SinkContractInput, options: SuiteOptions = {}): void {
  const sink = pick(input.plugin, input.plugin.sinks, "sink", input.sink);
  registerChecks(`sink contract: ${input.plugin.name} ${sink.id}`, sinkChecks(input), options);
}
