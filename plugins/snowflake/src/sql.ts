/**
 * The only places where text becomes SQL. Everything else builds statements from
 * these helpers and passes values as bind parameters where Snowflake accepts them.
 *
 * Naming rule: every name that reaches Snowflake (database, schema, table, column,
 * stage, file format) is upper-cased and then double-quoted. `orders` in YAML is
 * `"ORDERS"` in SQL, which is exactly the table an unquoted `orders` names in a
 * worksheet, while a hostile name such as `a"b; drop` stays one identifier
 * (`"A""B; DROP"`). Columns created from the files are upper-cased the same way
 * (INFER_SCHEMA's IGNORE_CASE => TRUE), so keys and date columns match them.
 */

function refuseNul(text: string, what: string): void {
  if (text.includes("\u0000")) throw new Error(`${what} ${JSON.stringify(text)} contains a NUL character`);
}

/** Snowflake's resolution of an unquoted name: upper case. */
export function normalizeName(name: string): string {
  return name.toUpperCase();
}

/** A Snowflake identifier: normalized, wrapped in double quotes, embedded double quotes doubled. */
export function quoteIdent(name: string): string {
  refuseNul(name, "identifier");
  return `"${normalizeName(name).replaceAll('"', '""')}"`;
}

/**
 * A Snowflake string literal, for the statements that take no bind parameters
 * (ALTER SESSION, PUT, COPY's FILES list, stage locations). Snowflake reads
 * backslash escapes inside single quotes, so backslashes are doubled as well.
 */
export function quoteLiteral(value: string): string {
  refuseNul(value, "string literal");
  return `'${value.replaceAll("\\", "\\\\").replaceAll("'", "''")}'`;
}

/** `"DB"."SCHEMA"."TABLE"`, each part quoted on its own. */
export function qualify(...parts: readonly string[]): string {
  return parts.map(quoteIdent).join(".");
}
