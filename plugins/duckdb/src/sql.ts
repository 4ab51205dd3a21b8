/**
 * The only places where text becomes SQL. Everything else builds statements from
 * these helpers and passes values as bound parameters.
 */

function refuseNul(text: string, what: string): void {
  // DuckDB strings are C strings underneath; a NUL would silently truncate the name.
  if (text.includes("\u0000")) throw new Error(`${what} ${JSON.stringify(text)} contains a NUL character`);
}

/** A DuckDB identifier: wrapped in double quotes, embedded double quotes doubled. */
export function quoteIdent(name: string): string {
  refuseNul(name, "identifier");
  return `"${name.replaceAll('"', '""')}"`;
}

/** A DuckDB string literal, for the rare statement that cannot take bound parameters. */
export function quoteLiteral(value: string): string {
  refuseNul(value, "string literal");
  return `'${value.replaceAll("'", "''")}'`;
}

/** `"catalog"."schema"."table"`, each part quoted on its own. */
export function qualify(...parts: readonly string[]): string {
  return parts.map(quoteIdent).join(".");
}

/** DuckDB resolves identifiers case-insensitively, so `Id` and `id` are the same column. */
export function sameName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
