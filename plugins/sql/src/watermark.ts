/**
 * The saved state of an incremental `sql.export` (see export.ts for the semantics):
 *
 *   { column, watermark: <`to` of the last new date committed>, dates: { "<ds>": { from, to } } }
 *
 * `from: null` is "no lower bound". Values are what the warehouse returned for the column,
 * as JSON: a number, or a string the warehouse casts back exactly (DuckDB gives timestamps
 * with every microsecond).
 */
import { z } from "zod";
import type { JsonObject, JsonValue } from "@xo-foundry/core";
import { SqlError } from "./errors.js";

/** How many dates keep their range for re-runs: a month of daily runs. */
export const REMEMBERED_DATES = 31;

export type WatermarkValue = string | number;

// Type aliases, not interfaces: they must be JsonObjects to be staged as state.
export type ExportRange = {
  /** Exclusive lower bound; null for none (the first export without `initial`). */
  readonly from: WatermarkValue | null;
  /** Inclusive upper bound. */
  readonly to: WatermarkValue;
};

export type ExportState = {
  readonly column: string;
  readonly watermark: WatermarkValue;
  readonly dates: Readonly<Record<string, ExportRange>>;
};

const value = z.union([z.string(), z.number()]);
const exportState = z.object({
  column: z.string().min(1),
  watermark: value,
  dates: z.record(z.string().regex(/^\d{4}-\d{2}-\d{2}$/), z.object({ from: value.nullable(), to: value })),
});

/** The saved state, checked against what the step writes and against its column. */
export function readExportState(saved: JsonObject | undefined, column: string, where: { readonly key: string; readonly task: string }): ExportState | undefined {
  if (saved === undefined) return undefined;
  const parsed = exportState.safeParse(saved);
  if (!parsed.success) {
    throw stateError(`the saved state ${where.key} of task ${where.task} is not what sql.export writes: ${z.prettifyError(parsed.error).replaceAll("\n", "; ")}`, where.key);
  }
  if (parsed.data.column !== column) {
    throw stateError(
      `the saved watermark ${where.key} of task ${where.task} is for column ${JSON.stringify(parsed.data.column)}, but watermark.column is now ${JSON.stringify(column)}`,
      where.key,
    );
  }
  return parsed.data;
}

/**
 * The state to stage after exporting `range` for date `ds`. A new date moves the watermark
 * to its `to`; a re-run of a recorded date leaves it where later dates may have moved it.
 * The date always stays among the remembered ones, with the most recent others.
 */
export function nextExportState(saved: ExportState | undefined, column: string, ds: string, range: ExportRange): ExportState {
  const recorded = saved?.dates[ds] !== undefined;
  const all: Record<string, ExportRange> = { ...saved?.dates, [ds]: range };
  const others = Object.keys(all)
    .filter((d) => d !== ds)
    .sort()
    .slice(-(REMEMBERED_DATES - 1));
  const kept = [...others, ds].sort();
  return {
    column,
    watermark: recorded && saved ? saved.watermark : range.to,
    dates: Object.fromEntries(kept.map((d) => [d, all[d]!])),
  };
}

/** A value the warehouse returned for the column, if it can be a watermark; undefined for none (no rows). */
export function watermarkValue(found: JsonValue | undefined, column: string, task: string): WatermarkValue | undefined {
  if (found === undefined || found === null) return undefined;
  if (typeof found === "string" || (typeof found === "number" && Number.isFinite(found))) return found;
  throw new SqlError(
    "XO_SQL_EXPORT_WATERMARK_INVALID",
    `the watermark column ${JSON.stringify(column)} of task ${task} gave ${JSON.stringify(found)}, which cannot be saved as a watermark and compared again`,
    "use a column that only grows: a timestamp, a date, a number or a sortable string",
  );
}

function stateError(message: string, key: string): SqlError {
  return new SqlError(
    "XO_SQL_EXPORT_STATE_INVALID",
    message,
    `the state is the file <landing>/state/<pipeline>/${key}.json: fix its \`value\`, or delete the file to export from watermark.initial again`,
  );
}
