/**
 * A stateful loopback stand-in for the Snowflake service. It speaks Snowflake's REST
 * protocol through snowflake_server.ts's serveSnowflakeProtocol (login, query-request with
 * JSON result sets, PUT to LOCAL_FS, logout), but instead of scripted replies it EXECUTES
 * the statements:
 *
 * Real: the SQL engine. Every statement fakesnow can run is forwarded unchanged (SQL text and
 * bind values) to one long-lived Python process (fakesnow_server.py: fakesnow 0.12.1, i.e.
 * Snowflake's dialect translated by sqlglot and run by DuckDB, reached through
 * snowflake-connector-python), so tables and rows persist across sessions and runs. Result
 * sets carry their columns' types (NUMBER, FLOAT, BOOLEAN as such; every other type as text).
 *
 * Emulated here, because fakesnow has no sessions settings, file formats, stages, files or
 * INFER_SCHEMA and cannot parse SWAP (each case is marked EMULATED below). The behaviour
 * follows Snowflake's SQL reference for ALTER SESSION, transactions, CREATE FILE FORMAT,
 * CREATE STAGE, PUT, INFER_SCHEMA and COPY INTO <table>:
 *   - sessions: each statement runs in its session's current database and schema (the ones its
 *     login named, or a USE changed), switched to with USE SCHEMA on the one engine connection
 *     all sessions share. So sessions are not isolated from each other's open transactions:
 *     tests run one session's statements at a time. A schema that does not exist leaves the
 *     engine where it was (Snowflake would have no current schema);
 *   - ALTER SESSION: a one-row status reply (the protocol keeps the parameters it sets);
 *   - transactions: a DDL statement (CREATE, ALTER, DROP, UNDROP, GRANT, REVOKE, COMMENT) run
 *     while a transaction is open first commits it, as Snowflake does ("Transactions": DDL
 *     commits the open transaction and runs in a transaction of its own); DuckDB would keep it
 *     inside the transaction;
 *   - CREATE FILE FORMAT: kept by name (TYPE, PARSE_HEADER, STRIP_OUTER_ARRAY), IF NOT EXISTS
 *     and OR REPLACE honoured; COPY and INFER_SCHEMA read the files the way the named format says;
 *   - CREATE STAGE without a URL is an internal stage: a folder PUT uploads into. A stage this
 *     server did not create is external: its files come from `readStagedFile`;
 *   - CREATE TABLE ... USING TEMPLATE (INFER_SCHEMA(... FILES => (...) ...)): the columns of
 *     the listed files, upper-cased (IGNORE_CASE => TRUE). CSV: the header's names, VARCHAR.
 *     JSON: each top-level key, typed from its values as INFER_SCHEMA types JSON: NUMBER(p, s)
 *     wide enough for every number seen, REAL past 38 digits or a safe integer, BOOLEAN, TEXT,
 *     VARIANT for objects and arrays, TEXT for a key whose values mix those kinds or are all null;
 *   - COPY INTO t FROM @stage FILES = (...): every file parsed before any row is written; CSV
 *     with a header row, JSON as one object per line (NDJSON) or, with STRIP_OUTER_ARRAY, one
 *     array of objects. A JSON parse error is Snowflake's 100069 "Error parsing JSON" naming the
 *     file and line, under ON_ERROR: ABORT_STATEMENT fails the statement and writes nothing,
 *     SKIP_FILE skips the file (LOAD_FAILED), CONTINUE skips the row (PARTIALLY_LOADED).
 *     Rows are INSERTed matching columns by name case-insensitively (MATCH_BY_COLUMN_NAME;
 *     file columns without a table column are skipped, table columns without a file column stay
 *     NULL), with the INCLUDE_METADATA columns filled with the file's stage-relative name and its
 *     1-based row number; the reply is COPY's per-file result rows;
 *   - ALTER TABLE a SWAP WITH b: three renames.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { readFile, rm } from "node:fs/promises";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import {
  COPY_COLUMNS,
  STATUS_OK as OK,
  serveSnowflakeProtocol,
  type Binding,
  type ProtocolServer,
  type ResultSet,
  type SessionState,
} from "./snowflake_server.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(here, "../../../..");
export const FAKESNOW_PYTHON = path.join(REPO, ".venv/services/bin/python");
const ENGINE = path.join(here, "fakesnow_server.py");

export interface ReceivedQuery {
  readonly sql: string;
  /** Bind values in position order, as text (the wire format). */
  readonly binds: readonly string[];
  /** How the statement was answered. */
  readonly how: "ran" | "emulated";
}

type Bind = string | number | boolean | null;
/** A plain value, or a bind as the client sent it (converted by its type in fakesnow_server.py). */
type EngineBind = Bind | Binding;
type EngineReply = ResultSet | { readonly error: { readonly code: string; readonly message: string } };

export interface StatefulSnowflakeOptions {
  /** The text of a file on an external stage, by its path relative to the stage location. */
  readStagedFile?(relativePath: string): Promise<string>;
  /** Rows per result chunk (see snowflake_server.ts); unset: every row inline. */
  readonly chunkRows?: number;
  /** Told of each chunk download (1, 2, ...) before it is answered. */
  onChunkDownload?(count: number): void;
}

export interface StatefulSnowflake extends ProtocolServer {
  readonly queries: ReceivedQuery[];
  /** Runs a statement directly on the engine (no emulation); throws on an engine error. */
  query(sql: string, binds?: readonly Bind[]): Promise<ResultSet>;
}
/** Rows per emulated INSERT (one statement with qmark binds per chunk). */
const INSERT_CHUNK = 200;

/** An identifier, possibly qualified: `"A"."B""C".D`. */
const NAME = String.raw`((?:"(?:[^"]|"")*"|[A-Za-z_][\w$]*)(?:\.(?:"(?:[^"]|"")*"|[A-Za-z_][\w$]*))*)`;
/** A string literal as quoteLiteral writes it. */
const LITERAL = String.raw`'(?:[^'\\]|''|\\.)*'`;
/** A parenthesized list of string literals. */
const LITERALS = String.raw`\(\s*((?:${LITERAL}\s*,?\s*)+)\)`;

interface FileFormat {
  readonly type: "CSV" | "JSON" | "PARQUET";
  readonly stripOuterArray: boolean;
}

/** COPY's per-file outcome, and the rows it parsed (empty when the file failed). */
interface ParsedFile {
  readonly file: string;
  readonly rows: readonly Record<string, unknown>[];
  readonly parsed: number;
  readonly errors: readonly string[];
}

type OnError = "ABORT_STATEMENT" | "CONTINUE" | "SKIP_FILE";

export async function startStatefulSnowflake(options: StatefulSnowflakeOptions = {}): Promise<StatefulSnowflake> {
  const engine = await startEngine();
  let seq = 0;
  // One statement at a time: an emulated COPY is several engine calls that must not interleave with another session's.
  let lock: Promise<unknown> = Promise.resolve();
  const serialized = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = lock.then(fn, fn);
    lock = next.catch(() => undefined);
    return next;
  };

  const run = async (sql: string, binds?: readonly EngineBind[]): Promise<ResultSet> => {
    const reply = await engine.call(sql, binds);
    if ("error" in reply) throw new EngineError(reply.error.code, reply.error.message);
    return reply;
  };

  /** File formats by canonical name (see `canonical`). */
  const formats = new Map<string, FileFormat>();
  /** Internal stages by canonical name: the folder PUT uploads their files into. */
  const internalStages = new Map<string, string>();
  const stageFolder = (name: string) => path.join(protocol.stageDir, createHash("sha256").update(name).digest("hex").slice(0, 16));

  const formatNamed = (literal: string | undefined): FileFormat => {
    if (literal === undefined) return { type: "CSV", stripOuterArray: false };
    const found = formats.get(canonical(unliteral(literal)));
    if (!found) throw new EngineError("002003", `SQL compilation error:\nFile format '${unliteral(literal)}' does not exist or not authorized.`);
    return found;
  };

  const readStaged = async (stage: string, file: string): Promise<string> => {
    const folder = internalStages.get(canonical(stage));
    if (folder) {
      try {
        return await readFile(path.join(folder, file), "utf8");
      } catch {
        throw new EngineError("100038", `Remote file '${file}' was not found. There are several potential causes. The file might not exist.`);
      }
    }
    if (!options.readStagedFile) throw new EngineError("002003", `SQL compilation error:\nStage '${stage}' does not exist or not authorized.`);
    return options.readStagedFile(file);
  };

  /** Where the engine's connection is (`DB.SCHEMA`), so a session's statements run where its login put it. */
  let engineAt: string | undefined;
  let inTransaction = false;

  async function enter(session: SessionState): Promise<void> {
    if (session.database === undefined || session.schema === undefined) return;
    const at = `${ident(session.database)}.${ident(session.schema)}`;
    if (at === engineAt) return;
    await run(`USE SCHEMA ${at}`).then(
      () => (engineAt = at),
      () => undefined,
    );
  }

  /** The answer to one client statement in its session: emulated when fakesnow cannot run it, else forwarded. */
  async function execute(sql: string, binds: readonly EngineBind[], session: SessionState): Promise<{ how: "ran" | "emulated"; result: ResultSet }> {
    const text = withoutLeadingComments(sql);
    await enter(session);
    // EMULATED: fakesnow rejects ALTER SESSION ("not implemented"); the protocol keeps the parameters it sets.
    if (/^ALTER\s+SESSION\b/i.test(text)) return { how: "emulated", result: OK };
    // EMULATED: Snowflake commits an open transaction before a DDL statement; DuckDB would not.
    if (inTransaction && DDL.test(text)) {
      await run("COMMIT");
      inTransaction = false;
    }
    if (BEGIN.test(text)) inTransaction = true;
    else if (END.test(text)) inTransaction = false;
    // EMULATED: CREATE FILE FORMAT, kept by name for COPY and INFER_SCHEMA.
    const fileFormat = new RegExp(String.raw`^CREATE\s+(OR\s+REPLACE\s+)?FILE\s+FORMAT\s+(IF\s+NOT\s+EXISTS\s+)?${NAME}\s*(.*)$`, "is").exec(text);
    if (fileFormat) {
      const key = canonical(fileFormat[3]!);
      const settings = fileFormat[4]!;
      const type = (/\bTYPE\s*=\s*'?(\w+)/i.exec(settings)?.[1] ?? "CSV").toUpperCase();
      if (type !== "CSV" && type !== "JSON" && type !== "PARQUET") throw new EngineError("002003", `SQL compilation error: file format type ${type} is not emulated here`);
      if (formats.has(key) && !fileFormat[1] && !fileFormat[2]) throw new EngineError("002002", `SQL compilation error:\nObject '${key}' already exists.`);
      if (!formats.has(key) || fileFormat[1]) formats.set(key, { type, stripOuterArray: /\bSTRIP_OUTER_ARRAY\s*=\s*TRUE\b/i.test(settings) });
      return { how: "emulated", result: OK };
    }
    // EMULATED: CREATE STAGE. Without URL = '...' it is an internal stage whose files PUT uploads into a folder.
    const createStage = new RegExp(String.raw`^CREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMPORARY\s+)?STAGE\s+(?:IF\s+NOT\s+EXISTS\s+)?${NAME}\s*(.*)$`, "is").exec(text);
    if (createStage) {
      if (/\bURL\s*=/i.test(createStage[2]!)) throw new EngineError("002003", "SQL compilation error: external stages are not emulated here; COPY from a stage this server did not create reads through readStagedFile");
      const key = canonical(createStage[1]!);
      await rm(stageFolder(key), { recursive: true, force: true });
      internalStages.set(key, stageFolder(key));
      return { how: "emulated", result: OK };
    }
    const dropStage = new RegExp(String.raw`^DROP\s+STAGE\s+(?:IF\s+EXISTS\s+)?${NAME}\s*$`, "is").exec(text);
    if (dropStage) {
      const key = canonical(dropStage[1]!);
      const folder = internalStages.get(key);
      internalStages.delete(key);
      if (folder) await rm(folder, { recursive: true, force: true });
      return { how: "emulated", result: OK };
    }
    // EMULATED: CREATE TABLE ... USING TEMPLATE (INFER_SCHEMA(...)). With IGNORE_CASE => TRUE the names are
    // upper-cased. TRANSIENT has no meaning on DuckDB and is dropped.
    const template = new RegExp(String.raw`^CREATE\s+OR\s+REPLACE\s+(?:TRANSIENT\s+)?TABLE\s+${NAME}\s+USING\s+TEMPLATE\s*\(.*FILES\s*=>\s*${LITERALS}`, "is").exec(text);
    if (template) {
      const location = new RegExp(String.raw`LOCATION\s*=>\s*(${LITERAL})`, "i").exec(text)?.[1];
      if (!location) throw new EngineError("002003", "SQL compilation error: INFER_SCHEMA needs LOCATION");
      const stage = unliteral(location).replace(/^@/, "");
      const format = formatNamed(new RegExp(String.raw`FILE_FORMAT\s*=>\s*(${LITERAL})`, "i").exec(text)?.[1]);
      const files = literals(template[2]!);
      const columns =
        format.type === "JSON"
          ? inferJson(await Promise.all(files.map(async (f) => parseJsonFile(f, await readStaged(stage, f), format, "ABORT_STATEMENT"))))
          : await inferCsv(files, (f) => readStaged(stage, f));
      if (columns.length === 0) throw new EngineError("100080", "INFER_SCHEMA found no columns in the listed files");
      await run(`CREATE OR REPLACE TABLE ${template[1]} (${columns.map((c) => `${ident(c.name)} ${c.type}`).join(", ")})`);
      return { how: "emulated", result: OK };
    }
    const copy = new RegExp(String.raw`^COPY\s+INTO\s+${NAME}\s+FROM\s+@${NAME}\s+FILES\s*=\s*${LITERALS}`, "is").exec(text);
    if (copy) return { how: "emulated", result: await copyInto(text, copy[1]!, copy[2]!, literals(copy[3]!)) };
    // EMULATED: ALTER TABLE a SWAP WITH b, which fakesnow cannot parse: three renames (not atomic here).
    const swap = new RegExp(String.raw`^ALTER\s+TABLE\s+${NAME}\s+SWAP\s+WITH\s+${NAME}\s*$`, "is").exec(text);
    if (swap) {
      const [a, b] = [swap[1]!, swap[2]!];
      const last = (q: string) => splitName(q).at(-1)!;
      const prefix = (q: string) => splitName(q).slice(0, -1).map(ident).join(".");
      const tmp = `XO_SWAP_TMP_${++seq}`;
      await run(`ALTER TABLE ${a} RENAME TO ${ident(tmp)}`);
      await run(`ALTER TABLE ${b} RENAME TO ${ident(last(a))}`);
      await run(`ALTER TABLE ${[prefix(a), ident(tmp)].filter(Boolean).join(".")} RENAME TO ${ident(last(b))}`);
      return { how: "emulated", result: OK };
    }
    const result = await run(sql, binds);
    if (/^USE\b/i.test(text)) {
      const [[database, schema] = []] = (await run("SELECT CURRENT_DATABASE(), CURRENT_SCHEMA()")).rows;
      session.database = database ?? undefined;
      session.schema = schema ?? undefined;
      engineAt = session.database !== undefined && session.schema !== undefined ? `${ident(session.database)}.${ident(session.schema)}` : undefined;
    }
    return { how: "ran", result };
  }

  // EMULATED: COPY INTO t FROM @stage FILES = (...) with MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE and INCLUDE_METADATA.
  async function copyInto(text: string, table: string, stage: string, files: readonly string[]): Promise<ResultSet> {
    const format = formatNamed(new RegExp(String.raw`FORMAT_NAME\s*=\s*(${LITERAL})`, "i").exec(text)?.[1]);
    const onError = (/\bON_ERROR\s*=\s*'?(ABORT_STATEMENT|CONTINUE|SKIP_FILE)\b/i.exec(text)?.[1]?.toUpperCase() ?? "ABORT_STATEMENT") as OnError;
    const tableColumns = (await run(`SELECT * FROM ${table} LIMIT 0`)).columns;
    const byUpper = new Map(tableColumns.map((c) => [c.toUpperCase(), c]));
    const metadata: { column: string; what: "FILENAME" | "FILE_ROW_NUMBER" }[] = [];
    const include = /INCLUDE_METADATA\s*=\s*\(([^)]*)\)/i.exec(text)?.[1] ?? "";
    for (const m of include.matchAll(/("(?:[^"]|"")*"|[A-Za-z_][\w$]*)\s*=\s*METADATA\$(FILENAME|FILE_ROW_NUMBER)/gi)) {
      metadata.push({ column: unquote(m[1]!), what: m[2]!.toUpperCase() as "FILENAME" | "FILE_ROW_NUMBER" });
    }
    // Every file is parsed before a row is written: ABORT_STATEMENT leaves the table as it was.
    const parsed: ParsedFile[] = [];
    for (const file of files) {
      const body = await readStaged(stage, file);
      parsed.push(format.type === "JSON" ? parseJsonFile(file, body, format, onError) : csvFile(file, body));
    }
    const reply: (string | null)[][] = [];
    for (const { file, rows, parsed: count, errors } of parsed) {
      const status = errors.length === 0 ? "LOADED" : rows.length === 0 ? "LOAD_FAILED" : "PARTIALLY_LOADED";
      const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))];
      const picks = keys.map((key) => ({ key, column: byUpper.get(key.toUpperCase()) })).filter((p): p is { key: string; column: string } => p.column !== undefined);
      const columns = [...picks.map((p) => p.column), ...metadata.map((m) => m.column)];
      for (let start = 0; start < rows.length; start += INSERT_CHUNK) {
        const chunk = rows.slice(start, start + INSERT_CHUNK);
        const values: Bind[] = [];
        chunk.forEach((row, k) => {
          for (const p of picks) values.push(bindValue(row[p.key]));
          for (const m of metadata) values.push(m.what === "FILENAME" ? file : start + k + 1);
        });
        const tuple = `(${columns.map(() => "?").join(", ")})`;
        await run(`INSERT INTO ${table} (${columns.map(ident).join(", ")}) VALUES ${chunk.map(() => tuple).join(", ")}`, values);
      }
      reply.push([file, status, String(count), String(rows.length), "1", String(errors.length), errors[0] ?? null, null, null, null]);
    }
    return { columns: COPY_COLUMNS, rows: reply };
  }

  const queries: ReceivedQuery[] = [];
  const protocol = await serveSnowflakeProtocol({
    session: { database: "RAW", schema: "GLADLY" },
    ...(options.chunkRows === undefined ? {} : { chunkRows: options.chunkRows }),
    onChunkDownload: (count) => options.onChunkDownload?.(count),
    // EMULATED: PUT; snowflake-sdk uploads itself from the protocol's LOCAL_FS reply, into the internal stage's folder.
    onPut: (q) => void queries.push({ ...q, how: "emulated" }),
    putLocation: (q) => {
      const stage = new RegExp(String.raw`^\s*PUT\s+${LITERAL}\s+@${NAME}`, "is").exec(q.sql)?.[1];
      return (stage && internalStages.get(canonical(stage))) || protocol.stageDir;
    },
    answer: async (q, { session, bindings }) => {
      try {
        const { how, result } = await serialized(() => execute(q.sql, bindings, session));
        queries.push({ ...q, how });
        return result;
      } catch (e) {
        queries.push({ ...q, how: "ran" });
        const err = e instanceof EngineError ? e : new EngineError("002003", String(e));
        return { error: { code: err.code, message: err.message, sqlState: "42000" } };
      }
    },
  });
  const close = protocol.close;
  // The same object, so `logouts` and `port` stay live.
  return Object.assign(protocol, {
    queries,
    query: (sql: string, binds?: readonly Bind[]) => serialized(() => run(sql, binds)),
    close: async () => {
      await close();
      await engine.stop();
    },
  });
}

class EngineError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const DDL = /^(?:CREATE|ALTER|DROP|UNDROP|GRANT|REVOKE|COMMENT)\b/i;
const BEGIN = /^(?:BEGIN|START\s+TRANSACTION)\b/i;
const END = /^(?:COMMIT|ROLLBACK)\b/i;

function withoutLeadingComments(sql: string): string {
  return sql.replace(/^(?:\s+|--[^\n]*(?:\n|$)|\/\/[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*/, "");
}

/** The Python process: one JSON line per statement in, one JSON line per reply out, in order. */
async function startEngine(): Promise<{ call(sql: string, binds?: readonly EngineBind[]): Promise<EngineReply>; stop(): Promise<void> }> {
  const child: ChildProcess = spawn(FAKESNOW_PYTHON, [ENGINE], { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const waiting: ((line: string) => void)[] = [];
  const lines = createInterface({ input: child.stdout! });
  lines.on("line", (line) => waiting.shift()?.(line));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  void exited.then(() => {
    for (const w of waiting.splice(0)) w(JSON.stringify({ error: { code: "000000", message: `fakesnow engine exited: ${stderr}` } }));
  });
  const ready = await new Promise<string>((resolve) => waiting.push(resolve));
  if (!ready.includes('"ready"')) throw new Error(`fakesnow engine did not start (${FAKESNOW_PYTHON} ${ENGINE}): ${ready}\n${stderr}`);
  return {
    call: (sql, binds) =>
      new Promise<EngineReply>((resolve) => {
        waiting.push((line) => resolve(JSON.parse(line) as EngineReply));
        child.stdin!.write(JSON.stringify({ sql, binds: binds && binds.length > 0 ? binds : null }) + "\n");
      }),
    stop: async () => {
      if (child.exitCode !== null) return;
      child.stdin!.end();
      const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** RFC 4180 CSV: quoted fields may hold commas, doubled quotes and newlines; records end in LF or CRLF. */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = "";
  let quoted = false;
  let pending = false; // something of the current record was read
  let i = 0;
  if (text.charCodeAt(0) === 0xfeff) i = 1;
  const endField = () => {
    record.push(field);
    field = "";
  };
  const endRecord = () => {
    endField();
    records.push(record);
    record = [];
  };
  for (; i < text.length; i++) {
    const ch = text[i]!;
    pending = true;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") endField();
    else if (ch === "\n") {
      endRecord();
      pending = false;
    } else if (ch === "\r" && text[i + 1] === "\n") {
      endRecord();
      pending = false;
      i++;
    } else field += ch;
  }
  if (pending) endRecord();
  return records;
}

/** The values of a `('a', 'b''c')` list as quoteLiteral wrote them. */
function literals(list: string): string[] {
  return [...list.matchAll(/'((?:[^'\\]|''|\\.)*)'/g)].map((m) => m[1]!.replace(/''|\\(.)/g, (s, c: string | undefined) => (s === "''" ? "'" : c!)));
}

function splitName(name: string): string[] {
  return [...name.matchAll(/"((?:[^"]|"")*)"|([A-Za-z_][\w$]*)/g)].map((m) => (m[1] !== undefined ? m[1].replaceAll('""', '"') : m[2]!.toUpperCase()));
}

function unquote(name: string): string {
  return splitName(name)[0]!;
}

function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}


/** A name as Snowflake resolves it: unquoted parts upper-cased, quoted parts as written, joined by dots. */
function canonical(name: string): string {
  return splitName(name).join(".");
}

/** The value of one string literal. */
function unliteral(literal: string): string {
  return literals(`${literal}`)[0] ?? "";
}

/** The columns INFER_SCHEMA gives CSV files read with PARSE_HEADER: the header's names, VARCHAR. */
async function inferCsv(files: readonly string[], read: (file: string) => Promise<string>): Promise<{ name: string; type: string }[]> {
  const names: string[] = [];
  for (const file of files) {
    const [header] = parseCsv(await read(file));
    for (const name of header ?? []) if (!names.includes(name.toUpperCase())) names.push(name.toUpperCase());
  }
  return names.map((name) => ({ name, type: "VARCHAR" }));
}

/** A CSV file read with PARSE_HEADER = TRUE: one object per record, keyed by the header's names. */
function csvFile(file: string, body: string): ParsedFile {
  const [header = [], ...records] = parseCsv(body);
  const rows = records.map((record) => Object.fromEntries(header.map((h, i) => [h, record[i] ?? null])));
  return { file, rows, parsed: rows.length, errors: [] };
}

/**
 * A JSON file as COPY reads it: one object per line, or one outer array of objects with
 * STRIP_OUTER_ARRAY. A value that does not parse is Snowflake's 100069, handled per ON_ERROR.
 */
function parseJsonFile(file: string, body: string, format: FileFormat, onError: OnError): ParsedFile {
  const rows: Record<string, unknown>[] = [];
  const errors: string[] = [];
  const refuse = (line: number, detail: string) => {
    const message =
      `Error parsing JSON: ${detail}\n  File '${file}', line ${line}\n  Row ${rows.length + errors.length + 1} starts at line ${line}, column $1\n` +
      `  If you would like to continue loading when an error is encountered, use other values such as 'SKIP_FILE' or 'CONTINUE' for the ON_ERROR option.`;
    if (onError === "ABORT_STATEMENT") throw new EngineError("100069", message);
    errors.push(message);
  };
  const take = (value: unknown, line: number) => {
    if (typeof value === "object" && value !== null && !Array.isArray(value)) rows.push(value as Record<string, unknown>);
    else refuse(line, `a row is ${JSON.stringify(value)}, not an object (MATCH_BY_COLUMN_NAME needs objects)`);
  };
  const trimmed = body.replace(/^\ufeff/, "").trim();
  if (format.stripOuterArray && trimmed.startsWith("[")) {
    let values: unknown;
    try {
      values = JSON.parse(trimmed);
    } catch (e) {
      refuse(1, (e as Error).message);
      values = [];
    }
    for (const value of Array.isArray(values) ? values : [values]) take(value, 1);
  } else {
    body.split("\n").forEach((text, i) => {
      if (text.trim() === "") return;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (e) {
        return refuse(i + 1, (e as Error).message);
      }
      take(value, i + 1);
    });
  }
  if (errors.length > 0 && onError === "SKIP_FILE") return { file, rows: [], parsed: rows.length + errors.length, errors };
  return { file, rows, parsed: rows.length + errors.length, errors };
}

type Inferred = { kind: "number"; digits: number; scale: number } | { kind: "real" | "boolean" | "text" | "variant" | "mixed" };

/** INFER_SCHEMA for JSON: each top-level key (upper-cased), typed from every value it has. */
function inferJson(files: readonly ParsedFile[]): { name: string; type: string }[] {
  const columns = new Map<string, Inferred | undefined>();
  for (const { rows } of files) {
    for (const row of rows) {
      for (const [key, value] of Object.entries(row)) {
        const name = key.toUpperCase();
        columns.set(name, merge(columns.get(name), value === null ? undefined : inferValue(value)));
      }
    }
  }
  return [...columns].map(([name, t]) => ({ name, type: sqlType(t) }));
}

function inferValue(value: unknown): Inferred {
  if (typeof value === "boolean") return { kind: "boolean" };
  if (typeof value === "string") return { kind: "text" };
  if (typeof value === "number") {
    const text = String(Math.abs(value));
    if (/e/i.test(text) || (Number.isInteger(value) && !Number.isSafeInteger(value))) return { kind: "real" };
    const [whole = "", fraction = ""] = text.split(".");
    return { kind: "number", digits: whole.replace(/^0+/, "").length || 1, scale: fraction.length };
  }
  return { kind: "variant" };
}

function merge(a: Inferred | undefined, b: Inferred | undefined): Inferred | undefined {
  if (!a) return b;
  if (!b) return a;
  if (a.kind === "number" && b.kind === "number") {
    const digits = Math.max(a.digits, b.digits);
    const scale = Math.max(a.scale, b.scale);
    return digits + scale > 38 ? { kind: "real" } : { kind: "number", digits, scale };
  }
  const numeric = (t: Inferred) => t.kind === "number" || t.kind === "real";
  if (numeric(a) && numeric(b)) return { kind: "real" };
  return a.kind === b.kind ? a : { kind: "mixed" };
}

function sqlType(t: Inferred | undefined): string {
  if (!t) return "TEXT";
  switch (t.kind) {
    case "number":
      return `NUMBER(${t.digits + t.scale}, ${t.scale})`;
    case "real":
      return "REAL";
    case "boolean":
      return "BOOLEAN";
    case "variant":
      return "VARIANT";
    default:
      return "TEXT";
  }
}

/** A parsed JSON value as an INSERT bind: scalars as they are, objects and arrays as JSON text. */
function bindValue(value: unknown): Bind {
  if (value === undefined || value === null) return null;
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return value;
  return JSON.stringify(value);
}
