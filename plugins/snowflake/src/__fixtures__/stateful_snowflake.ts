/**
 * A stateful loopback stand-in for the Snowflake service. It speaks the same parts of
 * Snowflake's REST protocol as snowflake_server.ts (login, query-request with JSON result
 * sets, PUT to LOCAL_FS, logout; the protocol handling is copied from there), but instead of
 * scripted replies it EXECUTES the statements:
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
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";

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

export interface ResultSet {
  readonly columns: readonly string[];
  readonly rows: readonly (readonly (string | null)[])[];
}

type EngineReply = ResultSet | { readonly error: { readonly code: string; readonly message: string } };

export interface StatefulSnowflakeOptions {
  /** The text of a file on the (external) stage, by its path relative to the stage location. */
  readStagedFile(relativePath: string): Promise<string>;
}

export interface StatefulSnowflake {
  readonly port: number;
  readonly queries: ReceivedQuery[];
  readonly logins: Record<string, unknown>[];
  logouts: number;
  /** Runs a statement directly on the engine (no emulation); throws on an engine error. */
  query(sql: string, binds?: readonly (string | number | null)[]): Promise<ResultSet>;
  close(): Promise<void>;
}

const COPY_COLUMNS = ["file", "status", "rows_parsed", "rows_loaded", "error_limit", "errors_seen", "first_error", "first_error_line", "first_error_character", "first_error_column_name"];
const OK: ResultSet = { columns: ["status"], rows: [["Statement executed successfully."]] };
/** Rows per emulated INSERT (one statement with qmark binds per chunk). */
const INSERT_CHUNK = 200;

/** An identifier, possibly qualified: `"A"."B""C".D`. */
const NAME = String.raw`((?:"(?:[^"]|"")*"|[A-Za-z_][\w$]*)(?:\.(?:"(?:[^"]|"")*"|[A-Za-z_][\w$]*))*)`;
/** A parenthesized list of string literals as quoteLiteral writes them. */
const LITERALS = String.raw`\(\s*((?:'(?:[^'\\]|''|\\.)*'\s*,?\s*)+)\)`;

export async function startStatefulSnowflake(options: StatefulSnowflakeOptions): Promise<StatefulSnowflake> {
  const engine = await startEngine();
  const stageDir = await mkdtemp(path.join(tmpdir(), "xo-sf-stage-"));
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

  const state: StatefulSnowflake = {
    port: 0,
    queries: [],
    logins: [],
    logouts: 0,
    query: (sql, binds) => serialized(() => run(sql, binds)),
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await engine.stop();
      await rm(stageDir, { recursive: true, force: true });
    },
  };

  const server: Server = createServer(async (req, res) => {
    const body = await readJson(req);
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const send = (payload: unknown) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(payload));
    };
    if (url.pathname === "/session/v1/login-request") {
      state.logins.push(body);
      return send({
        success: true,
        data: {
          token: "session-token",
          masterToken: "master-token",
          validityInSeconds: 3600,
          masterValidityInSeconds: 14400,
          sessionId: 1,
          parameters: [],
          sessionInfo: { databaseName: "RAW", schemaName: "GLADLY", warehouseName: "WH", roleName: "R" },
        },
      });
    }
    if (url.pathname === "/session" && url.searchParams.get("delete") === "true") {
      state.logouts += 1;
      return send({ success: true, data: null });
    }
    if (url.pathname === "/queries/v1/query-request") {
      const sql = String(body.sqlText ?? "");
      const bindings = (body.bindings ?? {}) as Record<string, { value: string }>;
      const binds = Object.keys(bindings)
        .sort((a, b) => Number(a) - Number(b))
        .map((k) => bindings[k]!.value);
      const queryId = `01b0-${++seq}`;
      if (/^\s*PUT\s/i.test(sql)) {
        // EMULATED: PUT, as in snowflake_server.ts; snowflake-sdk uploads itself from this reply (LOCAL_FS: into stageDir).
        state.queries.push({ sql, binds, how: "emulated" });
        const src = /^\s*PUT\s+'file:\/\/((?:[^']|'')+)'/i.exec(sql)?.[1]?.replaceAll("''", "'") ?? "";
        return send({
          success: true,
          data: {
            queryId,
            command: "UPLOAD",
            src_locations: [src],
            autoCompress: false,
            sourceCompression: "auto_detect",
            parallel: 1,
            overwrite: true,
            stageInfo: { locationType: "LOCAL_FS", location: stageDir, path: "", region: null, creds: {} },
            encryptionMaterial: null,
          },
        });
      }
      let answer: { how: "ran" | "emulated"; result: ResultSet };
      try {
        answer = await serialized(() => execute(sql, binds));
      } catch (e) {
        state.queries.push({ sql, binds, how: "ran" });
        const err = e instanceof EngineError ? e : new EngineError("002003", String(e));
        return send({ success: false, code: err.code, message: err.message, data: { queryId, sqlState: "42000" } });
      }
      state.queries.push({ sql, binds, how: answer.how });
      const result = answer.result;
      return send({
        success: true,
        data: {
          queryId,
          queryResultFormat: "json",
          rowtype: result.columns.map((name) => ({ name, type: "text", nullable: true, length: 16777216, precision: null, scale: null, byteLength: 16777216 })),
          rowset: result.rows,
          total: result.rows.length,
          returned: result.rows.length,
          parameters: [],
          statementTypeId: 4096,
        },
      });
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return Object.assign(state, { port: (server.address() as AddressInfo).port });
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

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  let raw = Buffer.concat(chunks);
  if (req.headers["content-encoding"] === "gzip") raw = gunzipSync(raw);
  const text = raw.toString("utf8");
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}
