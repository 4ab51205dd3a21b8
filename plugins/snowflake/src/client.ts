/**
 * The thin layer over snowflake-sdk: turns an Airflow-style connection into driver
 * options, connects, runs planned statements, and streams results. The driver is imported
 * here only, and this module only from load() and the warehouse, so plugin discovery never
 * loads it.
 */
import { createPrivateKey } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { Readable } from "node:stream";
import { registerSecret, type Connection } from "@xo-foundry/core";
import type * as SnowflakeSdk from "snowflake-sdk";
import { SnowflakeSinkError } from "./errors.js";
import type { SinkOptions } from "./options.js";
import type { Statement } from "./plan.js";
import type { ColumnInfo } from "./values.js";

export type SessionBind = string | number | boolean | null;

export interface Session {
  run(statement: Statement): Promise<Record<string, unknown>[]>;
  /**
   * Runs one statement and streams its result, chunk by chunk as the driver downloads them:
   * the columns, then each row as an array in column order. Numbers come as Snowflake's text
   * and VARIANT/OBJECT/ARRAY as their JSON text (see values.ts). Rejects with the driver's
   * own error (see `rejected`); aborting `signal` cancels the statement.
   */
  stream(sql: string, binds: readonly SessionBind[], signal?: AbortSignal): Promise<ResultStream>;
  close(): Promise<void>;
}

export interface ResultStream {
  readonly columns: readonly ColumnInfo[];
  readonly rows: AsyncIterable<readonly unknown[]>;
}

/** The driver reads `port` and `protocol` (used with `host`) but its types do not declare them. */
export type DriverOptions = SnowflakeSdk.ConnectionOptions & { port?: number; protocol?: string };

export interface Location {
  readonly database: string;
  readonly schema: string;
}

/** Where the load writes, from the sink block first, then the connection. */
export function resolveLocation(options: SinkOptions, conn: Connection | undefined): Location {
  const extra = conn?.extra ?? {};
  const database = options.database ?? str(extra.database);
  if (!database) {
    throw new SnowflakeSinkError(
      "XO_SNOWFLAKE_INVALID_OPTIONS",
      "no database to load into",
      "set `database` in the sink block or `extra.database` in the Snowflake connection",
    );
  }
  return { database, schema: options.schema ?? conn?.schema ?? str(extra.schema) ?? "PUBLIC" };
}

function str(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** snowflake-sdk connection options for a connection in Airflow's `snowflake` shape. */
export async function driverOptions(options: SinkOptions, conn: Connection | undefined): Promise<DriverOptions> {
  if (!conn) {
    throw new SnowflakeSinkError("XO_SNOWFLAKE_CONNECTION_INVALID", "the Snowflake sink needs a connection", "add `connection: <id>` to the sink block and set XO_CONN_<ID>");
  }
  const extra = conn.extra;
  const invalid = (detail: string, hint: string) =>
    new SnowflakeSinkError("XO_SNOWFLAKE_CONNECTION_INVALID", `connection ${JSON.stringify(conn.id)}: ${detail}`, hint);
  const account = options.account ?? str(extra.account);
  if (!account) throw invalid("no account", "set `account` in the sink block or `extra.account` in the connection");
  if (!conn.login) throw invalid("no login (the Snowflake user)", "set `login` in the connection");
  const location = resolveLocation(options, conn);
  const base: DriverOptions = {
    account,
    username: conn.login,
    database: location.database,
    schema: location.schema,
    application: "xo-foundry",
  };
  const warehouse = options.warehouse ?? str(extra.warehouse);
  const role = options.role ?? str(extra.role);
  if (warehouse) base.warehouse = warehouse;
  if (role) base.role = role;
  // host/port/protocol: a private-link host, or a loopback server in tests.
  if (conn.host) base.host = conn.host;
  if (conn.port !== undefined) base.port = conn.port;
  const protocol = str(extra.protocol);
  if (protocol) base.protocol = protocol;

  const keyContent = str(extra.private_key_content);
  const keyFile = str(extra.private_key_file);
  if (keyContent || keyFile) {
    const passphrase = str(extra.private_key_passphrase) ?? conn.password;
    registerSecret(keyContent);
    registerSecret(passphrase);
    const pem = keyContent ? decodeKeyContent(keyContent) : await readFile(keyFile!, "utf8");
    let privateKey: string;
    try {
      // The driver wants an unencrypted PKCS#8 PEM; decrypting here accepts both encrypted and plain keys.
      privateKey = createPrivateKey(passphrase ? { key: pem, passphrase } : { key: pem }).export({ type: "pkcs8", format: "pem" }).toString();
    } catch {
      // Never echo the error: OpenSSL messages can quote key material.
      throw invalid("the private key cannot be read", "check the key and `extra.private_key_passphrase` (an encrypted key needs it)");
    }
    registerSecret(privateKey);
    return { ...base, authenticator: "SNOWFLAKE_JWT", privateKey };
  }
  if (!conn.password) throw invalid("no password and no private key", "set `password`, or `extra.private_key_content` / `extra.private_key_file` for key-pair authentication");
  registerSecret(conn.password);
  return { ...base, password: conn.password };
}

/** Airflow's provider accepts the PEM text, and (since provider 6) its base64 encoding. */
function decodeKeyContent(value: string): string {
  if (value.includes("-----BEGIN")) return value.replaceAll("\\n", "\n");
  return Buffer.from(value, "base64").toString("utf8");
}

export async function openSession(driver: DriverOptions): Promise<Session> {
  const sdk = (await import("snowflake-sdk")).default;
  // The driver logs to the console by default; task logs carry our own messages.
  sdk.configure({ logLevel: "OFF" });
  const connection = sdk.createConnection(driver);
  await new Promise<void>((resolve, reject) => {
    connection.connect((err) => {
      if (!err) return resolve();
      reject(
        new SnowflakeSinkError(
          "XO_SNOWFLAKE_CONNECT_FAILED",
          `cannot connect to Snowflake account ${driver.account} as ${driver.username}: ${err.message}`,
          "check the account, user and credentials of the connection, and that the network reaches Snowflake",
          { cause: err },
        ),
      );
    });
  });
  return {
    run: (statement) =>
      new Promise((resolve, reject) => {
        connection.execute({
          sqlText: statement.sql,
          binds: [...statement.binds],
          complete: (err, _stmt, rows) => {
            if (!err) return resolve((rows ?? []) as Record<string, unknown>[]);
            reject(
              rejected(`the ${statement.step} statement`, statement.sql, err, "the message above is Snowflake's; the statement is the one xo-foundry generated for this step"),
            );
          },
        });
      }),
    stream: (sql, binds, signal) =>
      new Promise((resolve, reject) => {
        signal?.throwIfAborted();
        let rows: Readable | undefined;
        const statement = connection.execute({
          sqlText: sql,
          binds: [...binds],
          streamResult: true,
          rowMode: "array",
          // Exact text for numbers and semi-structured values; values.ts decides what becomes a
          // JSON number. (The driver accepts Object, Array and Map here; its types list fewer.)
          fetchAsString: ["Number", "JSON", "Object", "Array", "Map"] as SnowflakeSdk.DataType[],
          complete: (err, stmt) => {
            if (err) return reject(err);
            const columns = (stmt.getColumns() ?? []).map((c) => ({ name: c.getName(), type: c.getType(), scale: c.getScale() ?? 0 }));
            rows = stmt.streamRows();
            rows.once("close", () => signal?.removeEventListener("abort", cancel));
            resolve({ columns, rows: rows as AsyncIterable<readonly unknown[]> });
          },
        });
        const cancel = () => {
          statement.cancel(() => undefined);
          rows?.destroy(signal?.reason instanceof Error ? signal.reason : new Error("the export was cancelled"));
        };
        signal?.addEventListener("abort", cancel, { once: true });
      }),
    close: () => new Promise((resolve) => connection.destroy(() => resolve())),
  };
}

/**
 * A statement Snowflake rejected (or whose result could not be read) as a task error: what
 * was run, Snowflake's code and message, and the statement.
 */
export function rejected(what: string, sql: string, err: unknown, hint: string): SnowflakeSinkError {
  if (err instanceof SnowflakeSinkError) return err;
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = e?.code !== undefined && e.code !== null ? ` (${String(e.code)})` : "";
  const message = typeof e?.message === "string" ? e.message : String(err);
  return new SnowflakeSinkError("XO_SNOWFLAKE_STATEMENT_FAILED", `Snowflake rejected ${what}${code}: ${message}\n  statement: ${preview(sql)}`, hint, { cause: err });
}

function preview(sql: string): string {
  return sql.length > 500 ? `${sql.slice(0, 500)}...` : sql;
}
