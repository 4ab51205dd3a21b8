/**
 * A step's SQL as the warehouse service reads it before sending it: split into statements,
 * `$name` parameters turned into positional `?` binds, and the first keyword of each
 * statement. snowflake-sdk binds by position only (`?` or `:1`), so named parameters are
 * translated here; values always travel as binds, never as SQL text.
 *
 * The scan follows Snowflake's lexical rules ("Identifier requirements", "String & binary
 * data types", "Comments"): `'...'` strings with `''` and backslash escapes, `$$...$$`
 * strings, `"..."` identifiers with `""`, and `--`, `//` and `/* ... *\/` comments. Nothing
 * inside those is a parameter, a placeholder or a statement end.
 *
 * A parameter is `$` then a letter or `_`, then letters, digits or `_`, not preceded by a
 * name character: `$1` (a staged file's column) and `METADATA$FILENAME` are left alone.
 * Snowflake session variables are also written `$name`; in a step's SQL that spelling is a
 * parameter, so read a session variable with `GETVARIABLE('NAME')` instead.
 */
import { SnowflakeSinkError } from "./errors.js";

export type ParamValue = string | number | boolean | null;
export type Params = Readonly<Record<string, ParamValue>>;

interface Token {
  readonly kind: "code" | "quoted";
  readonly text: string;
}

/** The SQL cut into code and the parts that are not code (strings, quoted identifiers, comments). */
function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let code = "";
  let i = 0;
  const quoted = (end: number) => {
    if (code) tokens.push({ kind: "code", text: code });
    code = "";
    tokens.push({ kind: "quoted", text: sql.slice(i, end) });
    i = end;
  };
  while (i < sql.length) {
    const ch = sql[i]!;
    const next = sql[i + 1];
    if (ch === "'") quoted(endOfString(sql, i));
    else if (ch === '"') quoted(endOfIdentifier(sql, i));
    else if (ch === "$" && next === "$") quoted(endAfter(sql, "$$", i + 2));
    else if ((ch === "-" && next === "-") || (ch === "/" && next === "/")) quoted(endAfter(sql, "\n", i + 2));
    else if (ch === "/" && next === "*") quoted(endAfter(sql, "*/", i + 2));
    else {
      code += ch;
      i += 1;
    }
  }
  if (code) tokens.push({ kind: "code", text: code });
  return tokens;
}

function endOfString(sql: string, start: number): number {
  for (let i = start + 1; i < sql.length; i++) {
    if (sql[i] === "\\") i += 1;
    else if (sql[i] === "'") {
      if (sql[i + 1] === "'") i += 1;
      else return i + 1;
    }
  }
  return sql.length;
}

function endOfIdentifier(sql: string, start: number): number {
  for (let i = start + 1; i < sql.length; i++) {
    if (sql[i] === '"') {
      if (sql[i + 1] === '"') i += 1;
      else return i + 1;
    }
  }
  return sql.length;
}

function endAfter(sql: string, terminator: string, from: number): number {
  const at = sql.indexOf(terminator, from);
  return at < 0 ? sql.length : at + terminator.length;
}

/** The statements of `sql`, each without its `;`; statements that hold only comments or blanks are dropped. */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let current: Token[] = [];
  const end = () => {
    if (current.some((t) => (t.kind === "code" ? t.text.trim() !== "" : !isComment(t.text)))) statements.push(current.map((t) => t.text).join("").trim());
    current = [];
  };
  for (const token of tokenize(sql)) {
    if (token.kind === "quoted") {
      current.push(token);
      continue;
    }
    const pieces = token.text.split(";");
    pieces.forEach((piece, index) => {
      if (index > 0) end();
      if (piece) current.push({ kind: "code", text: piece });
    });
  }
  end();
  return statements;
}

function isComment(text: string): boolean {
  return text.startsWith("--") || text.startsWith("//") || text.startsWith("/*");
}

/** The statement's first keyword, upper-cased, past comments and opening parentheses; "" when it has none. */
export function firstKeyword(statement: string): string {
  for (const token of tokenize(statement)) {
    if (token.kind === "quoted") {
      if (isComment(token.text)) continue;
      return "";
    }
    const word = /^[\s(]*([A-Za-z_]+)?/.exec(token.text);
    if (word?.[1]) return word[1].toUpperCase();
    if (token.text.replace(/[\s(]/g, "") !== "") return "";
  }
  return "";
}

/** Keywords that end a WITH clause's CTEs in a statement that changes data rather than returning rows. */
const DATA_CHANGES = /\b(INSERT|UPDATE|DELETE|MERGE|TRUNCATE|CREATE|DROP|ALTER)\b/i;

/** Whether the statement returns a result set of its own (a query), judged by its keywords outside strings. */
export function isQuery(statement: string): boolean {
  const keyword = firstKeyword(statement);
  if (keyword === "SELECT" || keyword === "SHOW" || keyword === "DESCRIBE" || keyword === "DESC" || keyword === "LIST" || keyword === "LS") return true;
  if (keyword !== "WITH") return false;
  return !tokenize(statement).some((t) => t.kind === "code" && DATA_CHANGES.test(t.text));
}

export interface Bound {
  readonly sql: string;
  /** One value per `?`, in order: a name used twice is bound twice. */
  readonly binds: readonly ParamValue[];
  /** The parameter names the SQL uses, in order of first use. */
  readonly names: readonly string[];
}

const PARAM = /(?<![\w$])\$([A-Za-z_]\w*)/g;

/**
 * `$name` parameters as positional `?` binds, refusing a `?` placeholder of the SQL's own
 * (its value would be unknown) and naming every missing and unused parameter.
 */
export function bindNamed(sql: string, params: Params, call: string): Bound {
  const binds: ParamValue[] = [];
  const names: string[] = [];
  const missing = new Set<string>();
  let placeholder = false;
  let out = "";
  for (const token of tokenize(sql)) {
    if (token.kind === "quoted") {
      out += token.text;
      continue;
    }
    if (token.text.includes("?")) placeholder = true;
    out += token.text.replace(PARAM, (_, name: string) => {
      if (!names.includes(name)) names.push(name);
      if (!Object.hasOwn(params, name)) missing.add(name);
      binds.push(params[name] ?? null);
      return "?";
    });
  }
  if (placeholder) {
    throw new SnowflakeSinkError(
      "XO_SNOWFLAKE_PARAMS_INVALID",
      `${call}: the SQL has a \`?\` placeholder; parameters are written \`$name\` and passed by name: ${excerpt(sql)}`,
      "replace each `?` with `$name` and pass `{ name: value }` in params",
    );
  }
  const unused = Object.keys(params).filter((name) => !names.includes(name));
  if (missing.size > 0 || unused.length > 0) {
    const problems = [
      missing.size > 0 ? `no value for ${[...missing].map((n) => `$${n}`).join(", ")}` : "",
      unused.length > 0 ? `${unused.map((n) => `$${n}`).join(", ")} ${unused.length === 1 ? "is" : "are"} not in the statement` : "",
    ].filter(Boolean);
    throw new SnowflakeSinkError(
      "XO_SNOWFLAKE_PARAMS_INVALID",
      `${call}: the query's parameters do not match: ${problems.join("; ")}`,
      `the statement uses ${names.length > 0 ? names.map((n) => `$${n}`).join(", ") : "no parameters"}; pass exactly those names in params`,
    );
  }
  for (const [name, value] of Object.entries(params)) checkValue(name, value, call);
  return { sql: out, binds, names };
}

/** Snowflake binds strings, finite numbers, booleans and NULL; anything else would be sent as something it is not. */
function checkValue(name: string, value: unknown, call: string): void {
  const ok = value === null || typeof value === "string" || typeof value === "boolean" || (typeof value === "number" && Number.isFinite(value));
  if (ok) return;
  throw new SnowflakeSinkError(
    "XO_SNOWFLAKE_PARAMS_INVALID",
    `${call}: parameter $${name} is ${typeof value === "number" ? String(value) : typeof value}, not a string, finite number, boolean or null`,
    "pass a string, a finite number, a boolean or null; cast it in SQL if the column needs another type",
  );
}

/** The one statement a call runs; more than one is refused, since one call must not run more than it says. */
export function oneStatement(sql: string, call: string): string {
  const statements = splitStatements(sql);
  if (statements.length === 1) return statements[0]!;
  throw new SnowflakeSinkError(
    "XO_SNOWFLAKE_SQL_INVALID",
    `${call} runs exactly one SQL statement; got ${statements.length}: ${excerpt(sql)}`,
    call === "query" ? "split the SQL into one query() call per statement, or use execute() for statements that return no rows" : "pass a single query",
  );
}

/** The statement as it appears in messages: one line, at most 200 characters. */
export function excerpt(sql: string): string {
  const flat = sql.replace(/\s+/g, " ").trim();
  return flat.length > 200 ? `${flat.slice(0, 199)}…` : flat;
}
