/**
 * The `$name` parameters a query uses, found the way DuckDB's (PostgreSQL's) scanner finds
 * them: outside string literals (`'...'`, `E'...'`, `$$...$$`, `$tag$...$tag$`), quoted
 * identifiers (`"..."`) and comments (`--`, `/* *\/`), and not inside an identifier (`a$b`).
 * The step binds only the parameters a query uses, because the warehouse refuses a value
 * for a parameter the statement does not have.
 */

const IDENTIFIER_CHAR = /[\p{L}\p{N}_$]/u;
const DOLLAR_QUOTE = /\$([A-Za-z_\p{L}][\w\p{L}]*)?\$/uy;
const PARAMETER = /\$(\w+)/y;

/**
 * The parameter names, each once, spelled as first written. DuckDB treats `$DS` and `$ds`
 * as one parameter and reports it as first written, so the values must use that spelling.
 */
export function queryParameters(sql: string): string[] {
  const found = new Map<string, string>();
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === "'") {
      i = afterQuoted(sql, i, "'", isEscapeString(sql, i));
    } else if (c === '"') {
      i = afterQuoted(sql, i, '"', false);
    } else if (c === "-" && sql[i + 1] === "-") {
      const end = sql.indexOf("\n", i);
      i = end < 0 ? sql.length : end + 1;
    } else if (c === "/" && sql[i + 1] === "*") {
      const end = sql.indexOf("*/", i + 2);
      i = end < 0 ? sql.length : end + 2;
    } else if (c === "$" && !(i > 0 && IDENTIFIER_CHAR.test(sql[i - 1]!))) {
      i = afterDollar(sql, i, found);
    } else {
      i += 1;
    }
  }
  return [...found.values()];
}

/** After a `$`: a dollar-quoted string (skipped), a parameter (recorded), or a lone `$`. */
function afterDollar(sql: string, i: number, found: Map<string, string>): number {
  DOLLAR_QUOTE.lastIndex = i;
  const quote = DOLLAR_QUOTE.exec(sql);
  if (quote) {
    const end = sql.indexOf(quote[0], i + quote[0].length);
    return end < 0 ? sql.length : end + quote[0].length;
  }
  PARAMETER.lastIndex = i;
  const parameter = PARAMETER.exec(sql);
  if (!parameter) return i + 1;
  const name = parameter[1]!;
  if (!found.has(name.toLowerCase())) found.set(name.toLowerCase(), name);
  return i + parameter[0].length;
}

/** `E'...'` strings take backslash escapes; ordinary ones only double their quotes. */
function isEscapeString(sql: string, quote: number): boolean {
  const before = sql[quote - 1];
  return (before === "E" || before === "e") && !(quote > 1 && IDENTIFIER_CHAR.test(sql[quote - 2]!));
}

function afterQuoted(sql: string, start: number, quote: string, backslashes: boolean): number {
  for (let j = start + 1; j < sql.length; j++) {
    if (backslashes && sql[j] === "\\") j += 1;
    else if (sql[j] === quote) {
      if (sql[j + 1] !== quote) return j + 1;
      j += 1;
    }
  }
  return sql.length;
}
