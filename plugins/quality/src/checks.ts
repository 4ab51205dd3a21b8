/**
 * Each kind of check as SQL on a CheckTarget, and what its answer means. Row checks count
 * the rows that break them with one aggregate query and fetch a few of those rows only when
 * there are any, so nothing grows with the data but the engine's own work.
 *
 * Nulls: `not_null` is about them; every other row check leaves them to it (a null is not
 * outside a range, not an unaccepted value, not a mismatch of a pattern), and `unique`
 * ignores rows with a null in a key column, as a SQL UNIQUE constraint does.
 */
import { checkKind, parseDate, type CheckSpec, type JsonObject, type JsonValue } from "@xo-foundry/core";
import { familyOf, satisfies } from "./families.js";
import { MAX_SAMPLES, sampleRows } from "./samples.js";
import type { CheckTarget, Column, Params } from "./target.js";
import { instantOf } from "./time.js";

/** A check that cannot run (a column that is not there, a bound of the wrong kind): the message says why. */
export class CheckProblem extends Error {
  override readonly name = "CheckProblem";
}

export interface Measurement {
  readonly held: boolean;
  /** What was measured: a count, the newest value, the columns found. */
  readonly observed: JsonValue;
  readonly expected: string;
  /** What was found, in words, for the log, warnings and the failure message. */
  readonly detail: string;
  readonly failingRows?: number;
  readonly samples?: readonly JsonObject[];
  /** The row count, kept for the next run's `max_change_pct`. */
  readonly rows?: number;
}

export interface MeasureContext {
  readonly target: CheckTarget;
  /** The data window's end (ISO 8601): a freshness check's reference time, so a backfill judges each date alike. */
  readonly windowEnd: string;
  /** The pipeline's time zone, in which a date value is a calendar day. */
  readonly timeZone: string;
  /** The row count of the last successful run, for `max_change_pct`. */
  readonly previousRows: number | undefined;
}

/** `not_null(email, id)`, `row_count`: the name reports use when the check has none. */
export function defaultName(check: CheckSpec): string {
  const kind = checkKind(check);
  switch (kind) {
    case "not_null":
    case "unique":
      return `${kind}(${check[kind]!.join(", ")})`;
    case "accepted_values":
    case "range":
    case "regex":
    case "freshness":
      return `${kind}(${check[kind]!.column})`;
    case "row_count":
    case "schema":
    case "sql":
      return kind;
  }
}

export async function measure(check: CheckSpec, ctx: MeasureContext): Promise<Measurement> {
  const kind = checkKind(check);
  if (ctx.target.empty && kind !== "row_count" && kind !== "freshness") {
    return { held: true, observed: "no rows landed", expected: expectedOf(check), detail: "no rows landed: nothing to check" };
  }
  switch (kind) {
    case "row_count":
      return rowCount(check.row_count!, ctx);
    case "not_null":
      return notNull(check.not_null!, ctx);
    case "unique":
      return unique(check.unique!, ctx);
    case "accepted_values":
      return acceptedValues(check.accepted_values!, ctx);
    case "range":
      return range(check.range!, ctx);
    case "regex":
      return regex(check.regex!, ctx);
    case "schema":
      return schema(check.schema!, ctx);
    case "freshness":
      return freshness(check.freshness!, ctx);
    case "sql":
      return customSql(check.sql!, ctx);
  }
}

/** What a check expects, in words, without running it. */
function expectedOf(check: CheckSpec): string {
  const kind = checkKind(check);
  switch (kind) {
    case "row_count": {
      const { min, max, max_change_pct: change } = check.row_count!;
      const bounds = min !== undefined && max !== undefined ? `between ${min} and ${max} rows` : min !== undefined ? `at least ${min} rows` : max !== undefined ? `at most ${max} rows` : "";
      const delta = change !== undefined ? `at most ${change}% change from the last successful run` : "";
      return [bounds, delta].filter(Boolean).join(", ");
    }
    case "not_null":
      return `no null in ${check.not_null!.join(", ")}`;
    case "unique":
      return check.unique!.length === 1 ? `each ${check.unique![0]} at most once` : `each combination of ${check.unique!.join(", ")} at most once`;
    case "accepted_values":
      return `${check.accepted_values!.column} in ${listText(check.accepted_values!.values)}`;
    case "range":
      return `${check.range!.column} ${boundsText(check.range!.min, check.range!.max)}`;
    case "regex":
      return `${check.regex!.column} matching ${check.regex!.pattern} whole`;
    case "schema": {
      const columns = Object.entries(check.schema!.columns).map(([name, type]) => `${name}: ${type}`);
      return `columns ${columns.join(", ")}${check.schema!.allow_new ? "" : ", and no others"}`;
    }
    case "freshness":
      return `newest ${check.freshness!.column} at most ${check.freshness!.max_age_hours} h before the window's end`;
    case "sql":
      return "no failing row (or a count of 0)";
  }
}

// ---------------------------------------------------------------- the kinds

async function rowCount(spec: NonNullable<CheckSpec["row_count"]>, ctx: MeasureContext): Promise<Measurement> {
  const rows = countOf(await ctx.target.query(`SELECT count(*) AS row_count FROM ${ctx.target.relation}`));
  const expected = expectedOf({ row_count: spec } as CheckSpec);
  const problems: string[] = [];
  if (spec.min !== undefined && rows < spec.min) problems.push(`fewer than ${spec.min}`);
  if (spec.max !== undefined && rows > spec.max) problems.push(`more than ${spec.max}`);
  if (spec.max_change_pct === undefined) {
    return { held: problems.length === 0, observed: rows, expected, detail: `${plural(rows, "row")}${problems.length ? `, ${problems.join(" and ")}` : ""}`, rows };
  }
  const previous = ctx.previousRows;
  if (previous === undefined) {
    return {
      held: problems.length === 0,
      observed: { rows, previous: null, change_pct: null },
      expected,
      detail: `${plural(rows, "row")}${problems.length ? `, ${problems.join(" and ")}` : ""}; no earlier count to compare with (first run)`,
      rows,
    };
  }
  // From nothing to something is a change no percentage bounds.
  const change = previous === 0 ? (rows === 0 ? 0 : Number.POSITIVE_INFINITY) : (Math.abs(rows - previous) / previous) * 100;
  if (change > spec.max_change_pct) problems.push(`${Number.isFinite(change) ? `${round(change)}%` : "a change"} ${rows >= previous ? "up" : "down"} from ${previous}, over ${spec.max_change_pct}%`);
  return {
    held: problems.length === 0,
    observed: { rows, previous, change_pct: Number.isFinite(change) ? round(change) : null },
    expected,
    detail: `${plural(rows, "row")} (last successful run: ${previous})${problems.length ? `, ${problems.join(" and ")}` : ""}`,
    rows,
  };
}

async function notNull(names: readonly string[], ctx: MeasureContext): Promise<Measurement> {
  const { target } = ctx;
  const columns = names.map((n) => columnOf(target, n));
  const ids = columns.map((c) => target.dialect.ident(c.name));
  const condition = ids.map((id) => `${id} IS NULL`).join(" OR ");
  const perColumn = ids.map((id, i) => `sum(CASE WHEN ${id} IS NULL THEN 1 ELSE 0 END) AS n${i}`);
  const [row] = await target.query(`SELECT count(*) AS failing, ${perColumn.join(", ")} FROM ${target.relation} WHERE ${condition}`);
  const failing = numberOf(field(row, "failing"));
  const counts = columns.map((c, i) => [c.name, numberOf(field(row, `n${i}`))] as const);
  const where = columns.length === 1 ? `null ${columns[0]!.name}` : `a null in ${counts.filter(([, n]) => n > 0).map(([name, n]) => `${name} (${n})`).join(", ")}`;
  return {
    held: failing === 0,
    observed: failing,
    expected: `no null in ${columns.map((c) => c.name).join(", ")}`,
    detail: failing === 0 ? `no null in ${columns.map((c) => c.name).join(", ")}` : `${plural(failing, "row")} with ${where}`,
    failingRows: failing,
    ...(await samplesWhere(ctx, failing, condition, {}, columns)),
  };
}

async function unique(names: readonly string[], ctx: MeasureContext): Promise<Measurement> {
  const { target } = ctx;
  const columns = names.map((n) => columnOf(target, n));
  const ids = columns.map((c) => target.dialect.ident(c.name));
  const grouped = `FROM ${target.relation} WHERE ${ids.map((id) => `${id} IS NOT NULL`).join(" AND ")} GROUP BY ${ids.join(", ")} HAVING count(*) > 1`;
  const [row] = await target.query(`SELECT count(*) AS duplicate_keys, sum(xo_rows) AS failing FROM (SELECT count(*) AS xo_rows ${grouped}) AS xo_duplicates`);
  const keys = numberOf(field(row, "duplicate_keys"));
  const failing = numberOf(field(row, "failing"));
  const what = columns.length === 1 ? columns[0]!.name : `(${columns.map((c) => c.name).join(", ")})`;
  const samples =
    failing > 0 ? sampleRows(await target.query(`SELECT ${ids.join(", ")}, count(*) AS xo_rows ${grouped} ORDER BY count(*) DESC, ${ids.join(", ")} LIMIT ${MAX_SAMPLES}`), columns.map((c) => c.name)) : undefined;
  return {
    held: failing === 0,
    observed: failing,
    expected: columns.length === 1 ? `each ${what} at most once` : `each combination of ${what} at most once`,
    detail: failing === 0 ? `every ${what} is unique` : `${plural(keys, "value")} of ${what} ${keys === 1 ? "appears" : "appear"} more than once, in ${plural(failing, "row")}`,
    failingRows: failing,
    ...(samples ? { samples } : {}),
  };
}

async function acceptedValues(spec: NonNullable<CheckSpec["accepted_values"]>, ctx: MeasureContext): Promise<Measurement> {
  const { target } = ctx;
  const column = columnOf(target, spec.column);
  const family = familyOf(column.type);
  const id = target.dialect.ident(column.name);
  const params: Record<string, string | number | boolean> = {};
  let compared: string;
  let cast: (param: string) => string;
  if ((family === "integer" || family === "number") && spec.values.every((v) => typeof v === "number")) {
    [compared, cast] = [id, (p) => `CAST(${p} AS DOUBLE)`];
    spec.values.forEach((v, i) => (params[`v${i}`] = v));
  } else if (family === "boolean" && spec.values.every((v) => typeof v === "boolean")) {
    [compared, cast] = [id, (p) => `CAST(${p} AS BOOLEAN)`];
    spec.values.forEach((v, i) => (params[`v${i}`] = v));
  } else {
    // Compared as text: `1` accepts the text "1", `true` the text "true".
    [compared, cast] = [target.dialect.text(id), (p) => p];
    spec.values.forEach((v, i) => (params[`v${i}`] = String(v)));
  }
  const condition = `${id} IS NOT NULL AND ${compared} NOT IN (${spec.values.map((_, i) => cast(`$v${i}`)).join(", ")})`;
  return failingRowsWhere(ctx, condition, params, [column], {
    expected: `${column.name} in ${listText(spec.values)}`,
    found: (n) => `${plural(n, "row")} with ${column.name} not in ${listText(spec.values)}`,
  });
}

async function range(spec: NonNullable<CheckSpec["range"]>, ctx: MeasureContext): Promise<Measurement> {
  const { target } = ctx;
  const column = columnOf(target, spec.column);
  const family = familyOf(column.type);
  const id = target.dialect.ident(column.name);
  const bounds = [spec.min, spec.max].filter((b) => b !== undefined);
  let value: string;
  let cast: (param: string) => string;
  if (bounds.every((b) => typeof b === "number")) {
    if (family === "integer" || family === "number") value = id;
    else if (family === "string") value = target.dialect.tryNumber(id);
    else throw new CheckProblem(`column ${column.name} is ${column.type}; a range of numbers needs a number column (or text holding numbers)`);
    cast = (p) => `CAST(${p} AS DOUBLE)`;
  } else if (bounds.every((b) => typeof b === "string" && isDate(b))) {
    if (family === "date") value = id;
    else if (family === "timestamp") value = `CAST(${id} AS DATE)`;
    else if (family === "string") value = target.dialect.tryDate(id);
    else throw new CheckProblem(`column ${column.name} is ${column.type}; a range of dates needs a date or timestamp column (or text holding dates)`);
    cast = (p) => `CAST(${p} AS DATE)`;
  } else {
    throw new CheckProblem(`the bounds ${bounds.map((b) => JSON.stringify(b)).join(" and ")} are not both numbers or both dates as YYYY-MM-DD`);
  }
  const params: Record<string, string | number> = {};
  const outside: string[] = [`${value} IS NULL`]; // text that is no number or date
  if (spec.min !== undefined) {
    params.min = spec.min;
    outside.push(`${value} < ${cast("$min")}`);
  }
  if (spec.max !== undefined) {
    params.max = spec.max;
    outside.push(`${value} > ${cast("$max")}`);
  }
  const within = boundsText(spec.min, spec.max);
  return failingRowsWhere(ctx, `${id} IS NOT NULL AND (${outside.join(" OR ")})`, params, [column], {
    expected: `${column.name} ${within}`,
    found: (n) => `${plural(n, "row")} with ${column.name} not ${within}`,
  });
}

async function regex(spec: NonNullable<CheckSpec["regex"]>, ctx: MeasureContext): Promise<Measurement> {
  const { target } = ctx;
  const column = columnOf(target, spec.column);
  const id = target.dialect.ident(column.name);
  const match = target.dialect.fullMatch(target.dialect.text(id), "$pattern");
  if (match === undefined) throw new CheckProblem(`regex checks run on DuckDB and Snowflake; this warehouse's dialect is ${target.dialect.name}`);
  return failingRowsWhere(ctx, `${id} IS NOT NULL AND NOT ${match}`, { pattern: spec.pattern }, [column], {
    expected: `${column.name} matching ${spec.pattern} whole`,
    found: (n) => `${plural(n, "row")} with ${column.name} not matching ${spec.pattern}`,
  });
}

async function schema(spec: NonNullable<CheckSpec["schema"]>, ctx: MeasureContext): Promise<Measurement> {
  const { target } = ctx;
  const missing: string[] = [];
  const mismatched: Record<string, string> = {};
  const matched = new Set<string>();
  for (const [name, expected] of Object.entries(spec.columns)) {
    const column = findColumn(target.columns, name);
    if (!column) {
      missing.push(name);
      continue;
    }
    matched.add(column.name);
    const family = familyOf(column.type);
    if (!satisfies(expected, family)) mismatched[column.name] = `${family} (${column.type}), expected ${expected}`;
  }
  // The loads' own columns (`_xo_loaded_at`) are not drift of the source.
  const added = target.columns.filter((c) => !matched.has(c.name) && !(target.loaded && /^_xo_/i.test(c.name))).map((c) => c.name);
  const problems = [
    ...(missing.length ? [`missing ${missing.join(", ")}`] : []),
    ...Object.entries(mismatched).map(([name, why]) => `${name} is ${why}`),
    ...(added.length ? [`${spec.allow_new ? "new (allowed)" : "new, not allowed"}: ${added.join(", ")}`] : []),
  ];
  return {
    held: missing.length === 0 && Object.keys(mismatched).length === 0 && (spec.allow_new || added.length === 0),
    observed: { missing, mismatched, new: added },
    expected: expectedOf({ schema: spec } as CheckSpec),
    detail: problems.length ? problems.join("; ") : "every expected column, of its type",
  };
}

async function freshness(spec: NonNullable<CheckSpec["freshness"]>, ctx: MeasureContext): Promise<Measurement> {
  const expected = `newest ${spec.column} at most ${spec.max_age_hours} h before ${ctx.windowEnd} (the window's end)`;
  if (ctx.target.empty) return { held: false, observed: { newest: null, age_hours: null }, expected, detail: `no rows landed, so no newest ${spec.column}` };
  const { target } = ctx;
  const column = columnOf(target, spec.column);
  const family = familyOf(column.type);
  if (family !== "date" && family !== "timestamp" && family !== "string") {
    throw new CheckProblem(`column ${column.name} is ${column.type}; freshness needs a date or timestamp column (or ISO 8601 text)`);
  }
  const [row] = await target.query(`SELECT max(${target.dialect.newest(target.dialect.ident(column.name), family)}) AS newest FROM ${target.relation}`);
  const value = row ? Object.values(row)[0] : null;
  if (value === null || value === undefined) {
    return { held: false, observed: { newest: null, age_hours: null }, expected, detail: `${column.name} holds no value (no rows, or only nulls)` };
  }
  const newest = typeof value === "string" ? value : JSON.stringify(value);
  const at = instantOf(newest, ctx.timeZone);
  if (at === undefined) throw new CheckProblem(`the newest value of ${column.name}, ${JSON.stringify(newest.slice(0, 40))}, is not a date or an ISO 8601 timestamp`);
  const age = (Date.parse(ctx.windowEnd) - at) / 3_600_000;
  return {
    held: age <= spec.max_age_hours,
    observed: { newest, age_hours: round(age) },
    expected,
    detail: `newest ${column.name} is ${newest}, ${round(age)} h before the window's end ${ctx.windowEnd}${age > spec.max_age_hours ? `, over ${spec.max_age_hours} h` : ""}`,
  };
}

async function customSql(text: string, ctx: MeasureContext): Promise<Measurement> {
  const { target } = ctx;
  // A trailing `;` or comment must not end the query it is wrapped in.
  const body = text.replaceAll("{table}", target.relation).replace(/[\s;]+$/, "");
  const wrapped = `(\n${body}\n) AS xo_check`;
  const first = await target.query(`SELECT * FROM ${wrapped} LIMIT ${MAX_SAMPLES + 1}`);
  const only = first.length === 1 ? Object.values(first[0]!) : [];
  if (only.length === 1 && typeof only[0] === "number") {
    const count = only[0];
    return { held: count === 0, observed: count, expected: "a count of 0", detail: `the query counted ${count}`, failingRows: count };
  }
  const failing = first.length <= MAX_SAMPLES ? first.length : countOf(await target.query(`SELECT count(*) AS failing FROM ${wrapped}`));
  return {
    held: failing === 0,
    observed: failing,
    expected: "no failing row",
    detail: failing === 0 ? "the query returned no row" : `the query returned ${plural(failing, "failing row")}`,
    failingRows: failing,
    ...(failing > 0 ? { samples: sampleRows(first) } : {}),
  };
}

// ---------------------------------------------------------------- helpers

async function failingRowsWhere(
  ctx: MeasureContext,
  condition: string,
  params: Params,
  focus: readonly Column[],
  words: { readonly expected: string; found(n: number): string },
): Promise<Measurement> {
  const failing = countOf(await ctx.target.query(`SELECT count(*) AS failing FROM ${ctx.target.relation} WHERE ${condition}`, params));
  return {
    held: failing === 0,
    observed: failing,
    expected: words.expected,
    detail: words.found(failing),
    failingRows: failing,
    ...(await samplesWhere(ctx, failing, condition, params, focus)),
  };
}

async function samplesWhere(ctx: MeasureContext, failing: number, condition: string, params: Params, focus: readonly Column[]): Promise<{ samples?: JsonObject[] }> {
  if (failing === 0) return {};
  const rows = await ctx.target.query(`SELECT * FROM ${ctx.target.relation} WHERE ${condition} LIMIT ${MAX_SAMPLES}`, params);
  return { samples: sampleRows(rows, focus.map((c) => c.name)) };
}

/** The column a check names: spelled the same, else the one that differs only in case (Snowflake's upper-cased names). */
export function findColumn(columns: readonly Column[], name: string): Column | undefined {
  const exact = columns.find((c) => c.name === name);
  if (exact) return exact;
  const folded = columns.filter((c) => c.name.toLowerCase() === name.toLowerCase());
  return folded.length === 1 ? folded[0] : undefined;
}

function columnOf(target: CheckTarget, name: string): Column {
  const found = findColumn(target.columns, name);
  if (found) return found;
  const names = target.columns.map((c) => c.name);
  const shown = names.length > 20 ? `${names.slice(0, 20).join(", ")}, ... (${names.length} in all)` : names.join(", ");
  throw new CheckProblem(`${target.label} has no column ${JSON.stringify(name)}; its columns are ${shown || "(none)"}`);
}

/** A value of a row by its alias, as the engine spelled it (Snowflake upper-cases unquoted aliases). */
function field(row: JsonObject | undefined, alias: string): JsonValue | undefined {
  if (!row) return undefined;
  return row[alias] ?? Object.entries(row).find(([key]) => key.toLowerCase() === alias)?.[1];
}

/** The first value of the first row as a count. */
function countOf(rows: readonly JsonObject[]): number {
  const row = rows[0];
  return row ? numberOf(Object.values(row)[0]) : 0;
}

function numberOf(value: JsonValue | undefined): number {
  if (typeof value === "number") return value;
  if (typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  return 0;
}

function isDate(text: string): boolean {
  try {
    parseDate(text);
    return true;
  } catch {
    return false;
  }
}

function boundsText(min: number | string | undefined, max: number | string | undefined): string {
  if (min !== undefined && max !== undefined) return `within [${min}, ${max}]`;
  return min !== undefined ? `at least ${min}` : `at most ${max}`;
}

function listText(values: readonly (string | number | boolean)[]): string {
  const shown = values.slice(0, 10).map((v) => (typeof v === "string" ? JSON.stringify(v) : String(v)));
  return `[${shown.join(", ")}${values.length > 10 ? `, ... (${values.length} values)` : ""}]`;
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

