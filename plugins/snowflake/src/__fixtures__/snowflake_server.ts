/**
 * A loopback stand-in for the Snowflake service: the parts of its REST protocol that
 * snowflake-sdk uses to log in, run statements with JSON result sets, PUT files and
 * log out. The client is real; this server is the emulated part.
 *
 * Written from what snowflake-sdk 3.3.0 sends and reads (lib/services/sf.js,
 * lib/connection/result/{result,chunk,column}.js) and Snowflake's documented behaviour:
 *   - each login gets a session token of its own, and the session keeps the database and
 *     schema the login named (unquoted names upper-cased) and its session parameters;
 *   - every result carries the session's parameters (TIMEZONE, the *_OUTPUT_FORMAT ones,
 *     BINARY_OUTPUT_FORMAT) with Snowflake's defaults, which the driver uses to decode values;
 *     a successful ALTER SESSION SET name = value, ... / UNSET name, ... changes them for the
 *     session's later results (the driver formats TIME values with TIME_OUTPUT_FORMAT);
 *   - a result longer than `chunkRows` is sent as Snowflake sends large results: the first
 *     rows inline, the rest as chunks the client downloads from URLs (here on this server),
 *     each chunk's body being its rows as JSON arrays joined by commas, fetched with the
 *     SSE-C headers built from the result's `qrmk` (a download without them is refused);
 *   - bind values arrive as `{ type, value }` (FIXED, REAL, TEXT, BOOLEAN, ...), as sent.
 *
 * `serveSnowflakeProtocol` is the protocol alone and asks a function for each answer;
 * `startFakeSnowflake` answers from scripted rules and records every statement, and
 * stateful_snowflake.ts answers by running the statements.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { gunzipSync } from "node:zlib";

export interface ReceivedQuery {
  readonly sql: string;
  /** Bind values in position order, as text (the wire format). */
  readonly binds: readonly string[];
}

export interface ColumnType {
  /** The rowtype's type name, as snowflake-sdk reads it. */
  readonly type:
    | "fixed"
    | "real"
    | "boolean"
    | "text"
    | "binary"
    | "date"
    | "time"
    | "timestamp_ntz"
    | "timestamp_ltz"
    | "timestamp_tz"
    | "variant"
    | "object"
    | "array";
  readonly precision?: number | null;
  readonly scale?: number | null;
}

export interface ResultSet {
  readonly columns: readonly string[];
  /** Each column's type; text when left out. */
  readonly types?: readonly ColumnType[];
  /** Values in Snowflake's JSON result encoding (numbers as text, dates as days since 1970-01-01, ...). */
  readonly rows: readonly (readonly (string | null)[])[];
}

/** A bind value as the client sent it. */
export interface Binding {
  readonly type: string;
  readonly value: string | null;
}

/** What a login started: its database and schema, and the parameters ALTER SESSION changed. */
export interface SessionState {
  database: string | undefined;
  schema: string | undefined;
  readonly parameters: Record<string, string>;
}

/** Snowflake's defaults for the session parameters the driver reads when it decodes values. */
export const DEFAULT_PARAMETERS: Readonly<Record<string, string>> = {
  TIMEZONE: "America/Los_Angeles",
  DATE_OUTPUT_FORMAT: "YYYY-MM-DD",
  TIME_OUTPUT_FORMAT: "HH24:MI:SS",
  TIMESTAMP_OUTPUT_FORMAT: "YYYY-MM-DD HH24:MI:SS.FF3 TZHTZM",
  TIMESTAMP_NTZ_OUTPUT_FORMAT: "YYYY-MM-DD HH24:MI:SS.FF3",
  TIMESTAMP_LTZ_OUTPUT_FORMAT: "",
  TIMESTAMP_TZ_OUTPUT_FORMAT: "",
  BINARY_OUTPUT_FORMAT: "HEX",
};

export type Reply = ResultSet | { readonly error: { readonly code: string; readonly message: string; readonly sqlState?: string } };

export interface FakeSnowflake extends ProtocolServer {
  readonly queries: ReceivedQuery[];
  /** The latest matching rule answers; unmatched statements get a one-row status result. */
  reply(match: RegExp, reply: Reply): void;
}

export const COPY_COLUMNS = ["file", "status", "rows_parsed", "rows_loaded", "error_limit", "errors_seen", "first_error", "first_error_line", "first_error_character", "first_error_column_name"];
export const STATUS_OK: ResultSet = { columns: ["status"], rows: [["Statement executed successfully."]] };

export interface ProtocolServer {
  readonly port: number;
  readonly logins: Record<string, unknown>[];
  /** Result chunks the clients downloaded. */
  chunkDownloads: number;
  /** Statements the clients cancelled (abort-request). */
  aborts: number;
  /** The directory PUT copies files into (the LOCAL_FS stage location). */
  readonly stageDir: string;
  logouts: number;
  close(): Promise<void>;
}

export interface ProtocolOptions {
  /** Answers every statement but PUT, which the protocol answers itself. */
  answer(query: ReceivedQuery, context: { readonly session: SessionState; readonly bindings: readonly Binding[] }): Promise<Reply>;
  /** Told of each PUT before its upload reply. */
  onPut?(query: ReceivedQuery): void;
  /** The directory a PUT uploads into; `stageDir` when left out. */
  putLocation?(query: ReceivedQuery): string;
  /** What the login reply says the session is using when the login names no database or schema. */
  readonly session?: { readonly database: string; readonly schema: string };
  /** Rows per result chunk; longer results are sent in chunks the client downloads. Unset: every row inline. */
  readonly chunkRows?: number;
  /** Told of each chunk download (1, 2, ...) before it is answered. */
  onChunkDownload?(count: number): void;
}

/** Login, logout, PUT to LOCAL_FS and query-request framing with JSON result sets. */
export async function serveSnowflakeProtocol(options: ProtocolOptions): Promise<ProtocolServer> {
  const stageDir = await mkdtemp(path.join(tmpdir(), "xo-sf-stage-"));
  const defaults = options.session ?? { database: "DB", schema: "PUBLIC" };
  let seq = 0;
  const sessions = new Map<string, SessionState>();
  /** Chunk bodies by path, with the key the client must present. */
  const chunks = new Map<string, { body: string; key: string }>();
  const state: ProtocolServer = {
    port: 0,
    logins: [],
    chunkDownloads: 0,
    aborts: 0,
    stageDir,
    logouts: 0,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(stageDir, { recursive: true, force: true });
    },
  };

  const respond = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (req.method === "GET" && url.pathname.startsWith("/chunks/")) {
      const chunk = chunks.get(url.pathname);
      if (!chunk) return void res.writeHead(404).end();
      // Large results live in cloud storage encrypted with the result's key (SSE-C); without the key there is nothing.
      if (req.headers["x-amz-server-side-encryption-customer-key"] !== chunk.key) return void res.writeHead(400, { "content-type": "application/xml" }).end("<Error>InvalidRequest</Error>");
      state.chunkDownloads += 1;
      options.onChunkDownload?.(state.chunkDownloads);
      res.writeHead(200, { "content-type": "application/octet-stream" });
      return void res.end(chunk.body);
    }
    const body = await readJson(req);
    const send = (payload: unknown) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(payload));
    };
    const token = /Snowflake Token="([^"]*)"/.exec(req.headers.authorization ?? "")?.[1];
    if (url.pathname === "/session/v1/login-request") {
      state.logins.push(body);
      const named = (param: string) => {
        const value = url.searchParams.get(param);
        return value ? sessionName(value) : undefined;
      };
      const session: SessionState = { database: named("databaseName") ?? defaults.database, schema: named("schemaName") ?? defaults.schema, parameters: { ...DEFAULT_PARAMETERS } };
      const sessionToken = `session-token-${state.logins.length}`;
      sessions.set(sessionToken, session);
      return send({
        success: true,
        data: {
          token: sessionToken,
          masterToken: "master-token",
          validityInSeconds: 3600,
          masterValidityInSeconds: 14400,
          sessionId: sessions.size,
          parameters: [],
          sessionInfo: { databaseName: session.database, schemaName: session.schema, warehouseName: "WH", roleName: "R" },
        },
      });
    }
    if (url.pathname === "/session" && url.searchParams.get("delete") === "true") {
      state.logouts += 1;
      if (token) sessions.delete(token);
      return send({ success: true, data: null });
    }
    if (url.pathname === "/queries/v1/abort-request") {
      state.aborts += 1;
      return send({ success: true, data: null });
    }
    if (url.pathname === "/queries/v1/query-request") {
      const session = token === undefined ? undefined : sessions.get(token);
      if (!session) return send({ success: false, code: "390104", message: "User must login again to access the service.", data: null });
      const sql = String(body.sqlText ?? "");
      const bindings = (body.bindings ?? {}) as Record<string, Binding>;
      const typed = Object.keys(bindings)
        .sort((a, b) => Number(a) - Number(b))
        .map((k) => bindings[k]!);
      const binds = typed.map((b) => b.value as string);
      const queryId = `01b0-${++seq}`;
      if (/^\s*PUT\s/i.test(sql)) {
        options.onPut?.({ sql, binds });
        const location = options.putLocation?.({ sql, binds }) ?? stageDir;
        // snowflake-sdk does PUT itself from this reply; LOCAL_FS makes it copy into stageDir.
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
            stageInfo: { locationType: "LOCAL_FS", location, path: "", region: null, creds: {} },
            encryptionMaterial: null,
          },
        });
      }
      const reply = await options.answer({ sql, binds }, { session, bindings: typed });
      if ("error" in reply) {
        return send({ success: false, code: reply.error.code, message: reply.error.message, data: { queryId, sqlState: reply.error.sqlState ?? "42S02" } });
      }
      const alterSession = /^\s*ALTER\s+SESSION\s+(SET|UNSET)\s+(.*?);?\s*$/is.exec(sql);
      if (alterSession) alterSessionParameters(session, alterSession[1]!.toUpperCase() as "SET" | "UNSET", alterSession[2]!);
      const per = options.chunkRows ?? Infinity;
      const inline = reply.rows.slice(0, per);
      const rest: { url: string; rowCount: number; uncompressedSize: number; compressedSize: number }[] = [];
      const qrmk = `qrmk-${queryId}`;
      for (let start = per; start < reply.rows.length; start += per) {
        const rows = reply.rows.slice(start, start + per);
        const chunkPath = `/chunks/${queryId}/${rest.length}`;
        const chunkBody = rows.map((r) => JSON.stringify(r)).join(",");
        chunks.set(chunkPath, { body: chunkBody, key: qrmk });
        const size = Buffer.byteLength(chunkBody);
        rest.push({ url: `http://127.0.0.1:${state.port}${chunkPath}`, rowCount: rows.length, uncompressedSize: size, compressedSize: size });
      }
      return send({
        success: true,
        data: {
          queryId,
          queryResultFormat: "json",
          rowtype: reply.columns.map((name, i) => rowtype(name, reply.types?.[i])),
          rowset: inline,
          // Rows of the whole result, inline and in chunks (the driver streams up to `returned`).
          total: reply.rows.length,
          returned: reply.rows.length,
          ...(rest.length > 0 ? { chunks: rest, qrmk } : {}),
          parameters: Object.entries(session.parameters).map(([name, value]) => ({ name, value })),
          statementTypeId: 4096,
          finalDatabaseName: session.database,
          finalSchemaName: session.schema,
        },
      });
    }
    res.writeHead(404).end();
  };
  // A request that throws (a body that is not JSON, an `answer` that rejects) gets a
  // failed reply with the error's message: otherwise the client would wait for a reply
  // that never comes and the rejection would go unhandled.
  const server: Server = createServer((req, res) => {
    respond(req, res).catch((error: unknown) => {
      if (res.headersSent) return void res.destroy();
      const message = `fake Snowflake server: ${error instanceof Error ? error.message : String(error)}`;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ success: false, code: "FAKE_SERVER_ERROR", message, data: null }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return Object.assign(state, { port: (server.address() as AddressInfo).port });
}

/** Scripted replies by SQL text; every statement, PUT included, is recorded. */
export async function startFakeSnowflake(): Promise<FakeSnowflake> {
  const rules: { match: RegExp; reply: Reply }[] = [];
  const queries: ReceivedQuery[] = [];
  const protocol = await serveSnowflakeProtocol({
    onPut: (q) => void queries.push(q),
    answer: async (q) => {
      queries.push(q);
      const rule = rules.findLast((r) => r.match.test(q.sql));
      return rule?.reply ?? (/^\s*COPY\s/i.test(q.sql) ? { columns: COPY_COLUMNS, rows: [] } : STATUS_OK);
    },
  });
  // The same object, so `logouts` and `port` stay live.
  return Object.assign(protocol, { queries, reply: (match: RegExp, reply: Reply) => void rules.push({ match, reply }) });
}

/** A column of a JSON result set's rowtype. */
function rowtype(name: string, type: ColumnType = { type: "text" }) {
  const sized = type.type === "text" || type.type === "binary";
  return {
    name,
    type: type.type,
    nullable: true,
    length: sized ? (type.type === "text" ? 16777216 : 8388608) : null,
    precision: type.precision ?? null,
    scale: type.scale ?? null,
    byteLength: sized ? (type.type === "text" ? 16777216 : 8388608) : null,
  };
}

/** ALTER SESSION SET A = 'x', B = 2 / UNSET A, B: the session's parameters, by upper-cased name. */
function alterSessionParameters(session: SessionState, verb: "SET" | "UNSET", list: string): void {
  if (verb === "UNSET") {
    for (const name of list.split(",").map((n) => n.trim().toUpperCase())) {
      const fallback = DEFAULT_PARAMETERS[name];
      if (fallback === undefined) delete session.parameters[name];
      else session.parameters[name] = fallback;
    }
    return;
  }
  for (const m of list.matchAll(new RegExp(String.raw`([A-Za-z_][\w$]*)\s*=\s*('(?:[^'\\]|''|\\.)*'|[^,\s]+)`, "g"))) {
    const value = m[2]!.startsWith("'") ? m[2]!.slice(1, -1).replace(/''|\\(.)/g, (s, c: string | undefined) => (s === "''" ? "'" : c!)) : m[2]!;
    session.parameters[m[1]!.toUpperCase()] = value;
  }
}

/** A name as a login or ALTER SESSION gives it: quoted as written, else upper-cased. */
export function sessionName(name: string): string {
  return /^".*"$/s.test(name) ? name.slice(1, -1).replaceAll('""', '"') : name.toUpperCase();
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  let raw = Buffer.concat(chunks);
  if (req.headers["content-encoding"] === "gzip") raw = gunzipSync(raw);
  const text = raw.toString("utf8");
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}
