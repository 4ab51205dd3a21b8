/**
 * `post_load`: a table of a sink's warehouse, through the `warehouse` service, so the same
 * checks run on DuckDB and Snowflake. A stream's table is the one its load reported in this
 * run (the load's summary names it as the warehouse spells it); an explicit step names one.
 */
import type { DatasetRef, JsonObject, StepContext } from "@xo-foundry/core";
import { dialectOf } from "./dialect.js";
import { QualityError } from "./errors.js";
import type { CheckOptions } from "./options.js";
import type { CheckTarget, Params } from "./target.js";

export interface CheckedTable {
  readonly target: CheckTarget;
  /** The table as lineage names it, when a load of this run reported it. */
  readonly dataset?: DatasetRef;
}

export async function tableTarget(ctx: StepContext<CheckOptions>): Promise<CheckedTable> {
  const { stream, sink } = ctx.options;
  const loaded = ctx.options.table === undefined ? loadOf(ctx, stream!) : undefined;
  const table = ctx.options.table ?? loaded!.table;
  const warehouse = ctx.services.warehouse(sink);
  const dialect = dialectOf(warehouse.dialect);
  let relation: string;
  try {
    relation = dialect.relation(table);
  } catch (error) {
    throw new QualityError("XO_CHECK_NO_TABLE", (error as Error).message, 'write the table as `table`, `schema.table` or `"Quoted"."Name"`');
  }
  const description = await warehouse.describe(table);
  if (!description) {
    throw new QualityError(
      "XO_CHECK_NO_TABLE",
      `table ${table} does not exist in the warehouse of ${sink === undefined ? "the pipeline's sink" : `sink ${sink}`}${stream ? ` (the table stream ${stream} was loaded into)` : ""}`,
      stream ? "check that the load wrote the table this check runs after" : "fix `table` (and `sink`), or run the step after the task that creates the table",
    );
  }
  const target: CheckTarget = {
    dialect,
    label: `table ${description.table}`,
    relation,
    columns: description.columns,
    empty: false,
    loaded: stream !== undefined,
    async query(sql: string, params: Params = {}): Promise<JsonObject[]> {
      ctx.signal.throwIfAborted();
      try {
        return [...(await warehouse.query(sql, params))];
      } catch (error) {
        if (ctx.signal.aborted) throw ctx.signal.reason;
        throw new Error(warehouseMessage(error), { cause: error });
      }
    },
    close: async () => undefined,
  };
  return { target, ...(loaded?.dataset ? { dataset: loaded.dataset } : {}) };
}

/** The table the stream's load reported in this run: the load this task runs after, else the stream's load upstream. */
function loadOf(ctx: StepContext<CheckOptions>, stream: string): { table: string; dataset?: DatasetRef } {
  const loads = (ids: readonly string[]) =>
    ids.filter((id) => {
      const s = ctx.upstream[id];
      return s?.step === "load" && s.state === "success" && typeof s.summary.table === "string";
    });
  const named = (id: string) => id === `load_${stream}` || id.endsWith(`.load_${stream}`);
  const direct = loads(ctx.after);
  const candidates = direct.filter(named).length > 0 ? direct.filter(named) : direct.length === 1 ? direct : loads(Object.keys(ctx.upstream).sort()).filter(named);
  const id = candidates[0];
  if (id === undefined) {
    throw new QualityError(
      "XO_CHECK_NO_TABLE",
      `no load of stream ${stream} ran before this task in this run, so there is no table to check`,
      `run the checks after load_${stream} (the graph does this for \`checks:\`), or name the table with \`table:\``,
    );
  }
  const summary = ctx.upstream[id]!;
  return { table: summary.summary.table as string, ...(summary.writes[0] ? { dataset: summary.writes[0] } : {}) };
}

/** A warehouse failure in one line: the sink's own message, without the runtime's wrapping or the hint. */
function warehouseMessage(error: unknown): string {
  const diagnostics = (error as { diagnostics?: readonly { message?: unknown }[] } | null)?.diagnostics;
  const text = diagnostics?.length ? diagnostics.map((d) => String(d.message)).join("; ") : error instanceof Error ? error.message : String(error);
  const [first = "", ...rest] = text
    .split(/\n\s*hint: /)[0]!
    .replace(/^task "[^"]*" failed in \S+ \([^)]*\): /, "")
    .split("\n");
  // The statement the warehouse quotes shows what was run, e.g. a `sql` check with `{table}` filled in.
  const statement = rest.map((line) => line.trim()).find((line) => /^(sql|statement): /.test(line));
  return statement ? `${first.trim()} (${statement})` : first.trim();
}
