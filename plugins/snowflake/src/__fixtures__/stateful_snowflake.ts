/**
 * A stateful loopback stand-in for the Snowflake service. It speaks Snowflake's REST
 * protocol through snowflake_server.ts's serveSnowflakeProtocol (login, query-request with
 * JSON result sets, PUT to LOCAL_FS, logout), but instead of scripted replies it EXECUTES
 * the statements:
 *
 * Real: the SQL engine. Every statement fakesnow can run is forwarded unchanged (SQL text and
 * bind values) to one long-lived Python process (fakesnow_server.py: fakesnow 0.12.1, i.e.
 * Snowflake's dialect translated by sqlglot and run by DuckDB, reached through
 * snowflake-connector-python), so tables and rows persist across sessions and runs.
 *
 * Emulated here, because fakesnow has no sessions settings, file formats, stages, files or
 * INFER_SCHEMA and cannot parse SWAP (each case is marked EMULATED below):
 *   - ALTER SESSION, CREATE FILE FORMAT, CREATE STAGE, DROP STAGE: a one-row status reply;
 *   - PUT: the LOCAL_FS upload reply snowflake_server.ts gives (the client copies into stageDir);
 *   - CREATE TABLE ... USING TEMPLATE (INFER_SCHEMA(... FILES => (...) ...)): a CREATE TABLE
 *     with the CSV header columns of the listed files, upper-cased (IGNORE_CASE => TRUE), VARCHAR;
 *   - COPY INTO t FROM @stage FILES = (...): each file read through `readStagedFile`, parsed as
 *     CSV with a header row and its rows INSERTed into t, matching columns by name case-
 *     insensitively (MATCH_BY_COLUMN_NAME), filling the INCLUDE_METADATA columns with the
 *     file's stage-relative name and the 1-based row number; reply: COPY's per-file result rows;
 *   - ALTER TABLE a SWAP WITH b: three renames.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { COPY_COLUMNS, STATUS_OK as OK, serveSnowflakeProtocol, type ProtocolServer, type ResultSet } from "./snowflake_server.js";

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

type EngineReply = ResultSet | { readonly error: { readonly code: string; readonly message: string } };

export interface StatefulSnowflakeOptions {
  /** The text of a file on the (external) stage, by its path relative to the stage location. */
  readStagedFile(relativePath: string): Promise<string>;
}

export interface StatefulSnowflake extends ProtocolServer {
  readonly queries: ReceivedQuery[];
  /** Runs a statement directly on the engine (no emulation); throws on an engine error. */
  query(sql: string, binds?: readonly (string | number | null)[]): Promise<ResultSet>;
}
/** Rows per emulated INSERT (one statement with qmark binds per chunk). */
const INSERT_CHUNK = 200;

/** An identifier, possibly qualified: `"A"."B""C".D`. */
const NAME = String.raw`((?:"(?:[^"]|"")*"|[A-Za-z_][\w$]*)(?:\.(?:"(?:[^"]|"")*"|[A-Za-z_][\w$]*))*)`;
/** A parenthesized list of string literals as quoteLiteral writes them. */
const LITERALS = String.raw`\(\s*((?:'(?:[^'\\]|''|\\.)*'\s*,?\s*)+)\)`;

export async function startStatefulSnowflake(options: StatefulSnowflakeOptions): Promise<StatefulSnowflake> {
  const engine = await startEngine();
  let seq = 0;
  // One statement at a time: an emulated COPY is several engine calls that must not interleave with another session's.
  let lock: Promise<unknown> = Promise.resolve();
  const serialized = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = lock.then(fn, fn);
    lock = next.catch(() => undefined);
    return next;
  };

  const run = async (sql: string, binds?: readonly (string | number | null)[]): Promise<ResultSet> => {
    const reply = await engine.call(sql, binds);
    if ("error" in reply) throw new EngineError(reply.error.code, reply.error.message);
    return reply;
  };

  /** The answer to one client statement: emulated when fakesnow cannot run it, else forwarded. */
  async function execute(sql: string, binds: readonly string[]): Promise<{ how: "ran" | "emulated"; result: ResultSet }> {
    const text = sql.trim();
    // EMULATED: session settings, file formats and stages have no table state; fakesnow rejects ALTER SESSION
    // ("not implemented") and has no stages, so the service's one-row status reply is given.
    if (/^(ALTER\s+SESSION|CREATE\s+(OR\s+REPLACE\s+)?FILE\s+FORMAT|CREATE\s+(OR\s+REPLACE\s+)?(TEMPORARY\s+)?STAGE|DROP\s+STAGE)\b/i.test(text)) {
      return { how: "emulated", result: OK };
    }
    // EMULATED: CREATE TABLE ... USING TEMPLATE (INFER_SCHEMA(...)). INFER_SCHEMA reads the listed files' CSV
    // headers (PARSE_HEADER = TRUE); with IGNORE_CASE => TRUE the names are upper-cased. Every column is VARCHAR
    // here (INFER_SCHEMA would guess types; the loader only relies on the names). TRANSIENT has no meaning on
    // DuckDB and is dropped.
    const template = new RegExp(String.raw`^CREATE\s+OR\s+REPLACE\s+(?:TRANSIENT\s+)?TABLE\s+${NAME}\s+USING\s+TEMPLATE\s*\(.*FILES\s*=>\s*${LITERALS}`, "is").exec(text);
    if (template) {
      const columns: string[] = [];
      for (const file of literals(template[2]!)) {
        const [header] = parseCsv(await options.readStagedFile(file));
        for (const name of header ?? []) if (!columns.includes(name.toUpperCase())) columns.push(name.toUpperCase());
      }
      if (columns.length === 0) throw new EngineError("100080", "INFER_SCHEMA found no columns in the listed files");
      await run(`CREATE OR REPLACE TABLE ${template[1]} (${columns.map((c) => `${ident(c)} VARCHAR`).join(", ")})`);
      return { how: "emulated", result: OK };
    }
    // EMULATED: COPY INTO t FROM @stage FILES = (...). Each file is read from the stage's storage, parsed as CSV with
    // a header row, and its rows INSERTed: MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE (file columns without a table
    // column are skipped, table columns without a file column stay NULL); INCLUDE_METADATA fills the named columns
    // with METADATA$FILENAME (the stage-relative path) and METADATA$FILE_ROW_NUMBER (1-based).
    const copy = new RegExp(String.raw`^COPY\s+INTO\s+${NAME}\s+FROM\s+@\S+\s+FILES\s*=\s*${LITERALS}`, "is").exec(text);
    if (copy) {
      const table = copy[1]!;
      const tableColumns = (await run(`SELECT * FROM ${table} LIMIT 0`)).columns;
      const byUpper = new Map(tableColumns.map((c) => [c.toUpperCase(), c]));
      const metadata: { column: string; what: "FILENAME" | "FILE_ROW_NUMBER" }[] = [];
      const include = /INCLUDE_METADATA\s*=\s*\(([^)]*)\)/i.exec(text)?.[1] ?? "";
      for (const m of include.matchAll(/("(?:[^"]|"")*"|[A-Za-z_][\w$]*)\s*=\s*METADATA\$(FILENAME|FILE_ROW_NUMBER)/gi)) {
        metadata.push({ column: unquote(m[1]!), what: m[2]!.toUpperCase() as "FILENAME" | "FILE_ROW_NUMBER" });
      }
      const rows: (string | null)[][] = [];
      for (const file of literals(copy[2]!)) {
        const [header = [], ...records] = parseCsv(await options.readStagedFile(file));
        const picks = header.map((h, i) => ({ i, column: byUpper.get(h.toUpperCase()) })).filter((p): p is { i: number; column: string } => p.column !== undefined);
        const columns = [...picks.map((p) => p.column), ...metadata.map((m) => m.column)];
        let loaded = 0;
        for (let start = 0; start < records.length; start += INSERT_CHUNK) {
          const chunk = records.slice(start, start + INSERT_CHUNK);
          const values: (string | number | null)[] = [];
          chunk.forEach((record, k) => {
            for (const p of picks) values.push(record[p.i] ?? null);
            for (const m of metadata) values.push(m.what === "FILENAME" ? file : start + k + 1);
          });
          const tuple = `(${columns.map(() => "?").join(", ")})`;
          await run(`INSERT INTO ${table} (${columns.map(ident).join(", ")}) VALUES ${chunk.map(() => tuple).join(", ")}`, values);
          loaded += chunk.length;
        }
        rows.push([file, "LOADED", String(records.length), String(loaded), "1", "0", null, null, null, null]);
      }
      return { how: "emulated", result: { columns: COPY_COLUMNS, rows } };
    }
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
    return { how: "ran", result: await run(sql, binds) };
  }

  const queries: ReceivedQuery[] = [];
  const protocol = await serveSnowflakeProtocol({
    session: { database: "RAW", schema: "GLADLY" },
    // EMULATED: PUT; snowflake-sdk uploads itself from the protocol's LOCAL_FS reply.
    onPut: (q) => void queries.push({ ...q, how: "emulated" }),
    answer: async (q) => {
      try {
        const { how, result } = await serialized(() => execute(q.sql, q.binds));
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
    query: (sql: string, binds?: readonly (string | number | null)[]) => serialized(() => run(sql, binds)),
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

/** The Python process: one JSON line per statement in, one JSON line per reply out, in order. */
async function startEngine(): Promise<{ call(sql: string, binds?: readonly (string | number | null)[]): Promise<EngineReply>; stop(): Promise<void> }> {
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

