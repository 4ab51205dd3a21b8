/**
 * What the SQL steps read and write, for `xo-foundry lineage`, read from their SQL without
 * running it: the tables after `from` and `join`, and those a statement creates, inserts
 * into, merges into, updates or deletes from. A cheap reading, not a parser: names that a
 * query makes itself (CTEs) are left out, table functions (`read_csv(...)`) are not tables,
 * and what dynamic SQL touches is not seen.
 */
import { landingFolder, sinkTable, type DatasetName, type StepExpandInput, type StepLineage } from "@xo-foundry/core";
import type { SqlExportOptions } from "./export.js";
import type { SqlRunOptions } from "./run.js";

const NAME = String.raw`(?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*)(?:\s*\.\s*(?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*)){0,2}`;
const WRITES = new RegExp(
  String.raw`\b(?:create\s+(?:or\s+replace\s+)?(?:(?:temp|temporary|transient)\s+)?(?:table|view)\s+(?:if\s+not\s+exists\s+)?|insert\s+(?:or\s+\w+\s+)?(?:overwrite\s+)?into\s+|merge\s+into\s+|update\s+|delete\s+from\s+)(${NAME})`,
  "gi",
);
const READS = new RegExp(String.raw`\b(?:from|join)\s+(${NAME})(\s*\()?`, "gi");
const CTE = new RegExp(String.raw`(?:\bwith\s+(?:recursive\s+)?|,\s*)(${NAME})\s*(?:\([^)]*\)\s*)?as\s*(?:(?:not\s+)?materialized\s*)?\(`, "gi");

/** SQL without comments and string literals, which may hold words like `from`. */
function code(sql: string): string {
  return sql.replace(/--[^\n]*|\/\*[\s\S]*?\*\/|'(?:[^']|'')*'/g, " ");
}

/** `"My"."Table"` -> `My.Table`, spaces around dots removed. */
function plain(name: string): string {
  return name.replace(/\s*\.\s*/g, ".").replace(/"((?:[^"]|"")+)"/g, (_, n: string) => n.replaceAll('""', '"'));
}

/** The tables a piece of SQL reads and writes, by name as written (case kept), each once. */
export function sqlTables(statements: readonly string[]): { reads: string[]; writes: string[] } {
  const writes = new Set<string>();
  const reads = new Set<string>();
  const ctes = new Set<string>();
  for (const statement of statements.map(code)) {
    for (const m of statement.matchAll(CTE)) ctes.add(plain(m[1]!).toLowerCase());
    for (const m of statement.matchAll(WRITES)) writes.add(plain(m[1]!));
    for (const m of statement.matchAll(READS)) if (m[2] === undefined) reads.add(plain(m[1]!));
  }
  const written = new Set([...writes].map((w) => w.toLowerCase()));
  // A table the step writes and then reads (its summary query, say) is its output, not an input.
  const inputs = [...reads].filter((r) => !ctes.has(r.toLowerCase()) && !written.has(r.toLowerCase()));
  return { reads: inputs.sort(), writes: [...writes].sort() };
}

export function sqlRunLineage(input: StepExpandInput<SqlRunOptions>): StepLineage {
  const o = input.options;
  const statements = [...(o.sql === undefined ? [] : Array.isArray(o.sql) ? o.sql : [o.sql]), ...(o.summary === undefined ? [] : [o.summary])];
  const { reads, writes } = sqlTables(statements);
  return { reads: reads.map((t) => sinkTable(o.sink, t)), writes: writes.map((t) => sinkTable(o.sink, t)) };
}

/** An export reads its table or its query's tables, and writes its files into its own stage folder of the landing zone. */
export function sqlExportLineage(input: StepExpandInput<SqlExportOptions>): StepLineage {
  const o = input.options;
  const reads: DatasetName[] = (o.table !== undefined ? [o.table] : sqlTables([o.query ?? ""]).reads).map((t) => sinkTable(o.sink, t));
  return { reads, writes: [landingFolder(`stage/${input.pipeline.pipeline.name}/_steps/${input.stepId}`)] };
}
