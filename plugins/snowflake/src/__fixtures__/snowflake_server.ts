/**
 * A loopback stand-in for the Snowflake service: the parts of its REST protocol that
 * snowflake-sdk uses to log in, run statements with JSON result sets, PUT files and
 * log out. The client is real; this server is the emulated part.
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
  /** The rowtype's type name, as snowflake-sdk reads it: `fixed`, `real`, `boolean`, `text`. */
  readonly type: "fixed" | "real" | "boolean" | "text";
  readonly precision?: number | null;
  readonly scale?: number | null;
}

export interface ResultSet {
  readonly columns: readonly string[];
  /** Each column's type; text when left out. */
  readonly types?: readonly ColumnType[];
  readonly rows: readonly (readonly (string | null)[])[];
}

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
  /** The directory PUT copies files into (the LOCAL_FS stage location). */
  readonly stageDir: string;
  logouts: number;
  close(): Promise<void>;
}

export interface ProtocolOptions {
  /** Answers every statement but PUT, which the protocol answers itself. */
  answer(query: ReceivedQuery): Promise<Reply>;
  /** Told of each PUT before its upload reply. */
  onPut?(query: ReceivedQuery): void;
  /** The directory a PUT uploads into; `stageDir` when left out. */
  putLocation?(query: ReceivedQuery): string;
  /** What the login reply says the session is using. */
  readonly session?: { readonly database: string; readonly schema: string };
}

/** Login, logout, PUT to LOCAL_FS and query-request framing with JSON result sets. */
export async function serveSnowflakeProtocol(options: ProtocolOptions): Promise<ProtocolServer> {
  const stageDir = await mkdtemp(path.join(tmpdir(), "xo-sf-stage-"));
  const session = options.session ?? { database: "DB", schema: "PUBLIC" };
  let seq = 0;
  const state: ProtocolServer = {
    port: 0,
    logins: [],
    stageDir,
    logouts: 0,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(stageDir, { recursive: true, force: true });
    },
  };

  const respond = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
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
          sessionInfo: { databaseName: session.database, schemaName: session.schema, warehouseName: "WH", roleName: "R" },
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
      const reply = await options.answer({ sql, binds });
      if ("error" in reply) {
        return send({ success: false, code: reply.error.code, message: reply.error.message, data: { queryId, sqlState: reply.error.sqlState ?? "42S02" } });
      }
      return send({
        success: true,
        data: {
          queryId,
          queryResultFormat: "json",
          rowtype: reply.columns.map((name, i) => rowtype(name, reply.types?.[i])),
          rowset: reply.rows,
          total: reply.rows.length,
          returned: reply.rows.length,
          parameters: [],
          statementTypeId: 4096,
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
  const text = type.type === "text";
  return {
    name,
    type: type.type,
    nullable: true,
    length: text ? 16777216 : null,
    precision: type.precision ?? null,
    scale: type.scale ?? null,
    byteLength: text ? 16777216 : null,
  };
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  let raw = Buffer.concat(chunks);
  if (req.headers["content-encoding"] === "gzip") raw = gunzipSync(raw);
  const text = raw.toString("utf8");
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}
