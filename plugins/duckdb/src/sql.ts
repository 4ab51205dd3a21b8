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

/**
 * Splits `table`, `schema.table` or `"my.schema"."my ""table"""` into its parts, the way
 * DuckDB reads a qualified name: a part in double quotes may hold dots and (doubled)
 * quotes; a bare part ends at the next dot. Returns undefined for anything else.
 */
export function splitQualifiedName(text: string): string[] | undefined {
  const parts: string[] = [];
  let i = 0;
  for (;;) {
    if (text[i] === '"') {
      let part = "";
      for (i += 1; ; ) {
        const quote = text.indexOf('"', i);
        if (quote < 0) return undefined;
        part += text.slice(i, quote);
        i = quote + 1;
        if (text[i] !== '"') break;
        part += '"';
        i += 1;
      }
      parts.push(part);
    } else {
      const dot = text.indexOf(".", i);
      const end = dot < 0 ? text.length : dot;
      const part = text.slice(i, end);
      if (part.includes('"')) return undefined;
      parts.push(part);
      i = end;
    }
    if (i === text.length) break;
    if (text[i] !== ".") return undefined;
    i += 1;
  }
  return parts.every((p) => p !== "" && !p.includes("\u0000")) ? parts : undefined;
}
