/**
 * The SQL that differs between the engines checks run on. Checks build their queries from
 * these pieces and bind every value from the config as a parameter (`$name`, which both the
 * in-memory DuckDB of `pre_load` and every `Warehouse.query` take), so only identifiers
 * become SQL text, always quoted.
 *
 * Snowflake upper-cases unquoted names (its sink creates `ORDERS` for `orders`), so a table
 * name written bare is upper-cased before it is quoted there; columns are quoted as the
 * warehouse spells them (checks look them up in the table's description first).
 */
import type { ColumnFamily } from "./families.js";

export interface Dialect {
  readonly name: string;
  /** A column or table part, quoted exactly as spelled. */
  ident(name: string): string;
  /** A table name as written (`orders`, `analytics.daily_orders`, `"Mixed"."Case"`), quoted part by part. */
  relation(table: string): string;
  /** Any value as text. */
  text(expr: string): string;
  /** True when the whole text matches the pattern bound as `param`; undefined when the engine has no such function. */
  fullMatch(expr: string, param: string): string | undefined;
  /** A string's value as a number; NULL when it is not one. */
  tryNumber(expr: string): string;
  /** A string's value as a date; NULL when it is not one. */
  tryDate(expr: string): string;
  /** What `max()` of a freshness check is taken over, for a column of this family. */
  newest(expr: string, family: ColumnFamily): string;
}

function quote(name: string): string {
  // Engines read names as C strings; a NUL would cut the name short.
  if (name.includes("\u0000")) throw new Error(`the name ${JSON.stringify(name)} contains a NUL character`);
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * `a`, `a.b`, `a.b.c`, parts bare or in double quotes (`""` for a quote inside); undefined when
 * the text is none of these.
 */
export function tableParts(table: string): { readonly name: string; readonly quoted: boolean }[] | undefined {
  const parts: { name: string; quoted: boolean }[] = [];
  const pattern = /\s*(?:"((?:[^"]|"")*)"|([^."\s]+))\s*(\.|$)/y;
  let match: RegExpExecArray | null;
  while ((match = pattern.exec(table)) !== null) {
    const quoted = match[1] !== undefined;
    const name = quoted ? match[1]!.replaceAll('""', '"') : match[2]!;
    if (name === "") return undefined;
    parts.push({ name, quoted });
    if (match[3] === "") return parts.length <= 3 ? parts : undefined;
  }
  return undefined;
}

function relationWith(fold: (bare: string) => string) {
  return (table: string): string => {
    const parts = tableParts(table);
    if (!parts) throw new Error(`${JSON.stringify(table)} is not a table name: expected \`table\`, \`schema.table\` or \`database.schema.table\``);
    return parts.map((p) => quote(p.quoted ? p.name : fold(p.name))).join(".");
  };
}

const ansi = {
  ident: quote,
  text: (expr: string) => `CAST(${expr} AS VARCHAR)`,
  tryNumber: (expr: string) => `TRY_CAST(${expr} AS DOUBLE)`,
  tryDate: (expr: string) => `TRY_CAST(${expr} AS DATE)`,
  newest: (expr: string) => expr,
};

export const duckdbDialect: Dialect = {
  ...ansi,
  name: "duckdb",
  relation: relationWith((bare) => bare),
  fullMatch: (expr, param) => `regexp_full_match(${expr}, ${param})`,
};

/**
 * The in-memory DuckDB that reads a stream's landed files. Its session is in UTC, so text
 * with an offset is compared as the instant it names, and text without one as UTC.
 */
export const landedDialect: Dialect = {
  ...duckdbDialect,
  newest: (expr, family) => (family === "string" ? `TRY_CAST(${expr} AS TIMESTAMPTZ)` : expr),
};

export const snowflakeDialect: Dialect = {
  ...ansi,
  name: "snowflake",
  relation: relationWith((bare) => bare.toUpperCase()),
  // REGEXP_LIKE matches the whole subject, as if the pattern were anchored at both ends.
  fullMatch: (expr, param) => `REGEXP_LIKE(${expr}, ${param})`,
};

/** The dialect of a warehouse; another engine gets plain SQL, and checks that need more say so. */
export function dialectOf(name: string): Dialect {
  switch (name) {
    case "duckdb":
      return duckdbDialect;
    case "snowflake":
      return snowflakeDialect;
    default:
      return { ...ansi, name, relation: relationWith((bare) => bare), fullMatch: () => undefined };
  }
}
