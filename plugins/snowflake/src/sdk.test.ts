/**
 * The whole sink through the real snowflake-sdk client (login, statements with binds,
 * client-side PUT, logout) against a loopback HTTP server.
 *
 * Real: snowflake-sdk 3.3.0 (its REST calls, bind encoding, JSON result parsing, and its
 * PUT implementation, which copies the files itself because the server answers LOCAL_FS),
 * our connection handling, planning, execution, error wrapping and redaction.
 * Emulated: the Snowflake service (__fixtures__/snowflake_server.ts). It records each
 * statement and answers with scripted JSON result sets; it does not execute SQL, so table
 * contents are asserted in fakesnow.test.ts, not here.
 */
import { generateKeyPairSync } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { clearSecrets, type Connection, type LoadStrategy } from "@xo-foundry/core";
import { testdir, type TestDir } from "@xo-foundry/testkit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { snowflake, type SnowflakeSinkError } from "./index.js";
import { planInput } from "./load.js";
import { planLoad } from "./plan.js";
import { loadContext, ndjson } from "./__fixtures__/context.js";
import { startFakeSnowflake, type FakeSnowflake } from "./__fixtures__/snowflake_server.js";
import { STAGED_COLUMNS } from "./__fixtures__/inputs.js";

const sink = snowflake().sinks![0]!;
const PASSWORD = "pw-Secret-123";

let server: FakeSnowflake;
let dir: TestDir;
beforeEach(async () => {
  server = await startFakeSnowflake();
  dir = await testdir();
  server.reply(/INFORMATION_SCHEMA\.COLUMNS/, { columns: ["COLUMN_NAME"], rows: STAGED_COLUMNS.map((c) => [c]) });
  server.reply(/^COPY INTO/, {
    columns: ["file", "status", "rows_parsed", "rows_loaded"],
    rows: [
      ["part-0.ndjson", "LOADED", "2", "2"],
      ["part-1.ndjson", "LOADED", "1", "1"],
    ],
  });
});
afterEach(async () => {
  await server.close();
  await dir.remove();
  clearSecrets();
});

const connection = (extra: Record<string, unknown> = {}, password: string | null = PASSWORD): Connection => ({
  id: "snowflake_default",
  type: "snowflake",
  host: "127.0.0.1",
  port: server.port,
  login: "loader",
  ...(password ? { password } : {}),
  extra: { account: "acme-prod", warehouse: "LOAD_WH", database: "analytics", role: "LOADER", protocol: "http", ...extra },
});

async function context(strategy: LoadStrategy, target: Record<string, unknown> = {}, conn = connection()) {
  const files = [
    await ndjson(dir, "part-0.ndjson", [{ id: 1, status: "a", created_at: "2024-01-02" }, { id: 2, status: "a", created_at: "2024-01-02" }]),
    await ndjson(dir, "part-1.ndjson", [{ id: 3, status: "b", created_at: "2024-01-02" }]),
  ];
  return loadContext({ dir, files, strategy, target, options: { schema: "raw", query_tag: { team: "data" } }, connection: conn });
}

describe("through snowflake-sdk", () => {
  const cases: ["replace" | "append" | "merge" | "replace_range", LoadStrategy, Record<string, unknown>][] = [
    ["replace", "full_refresh", {}],
    ["append", "incremental", {}],
    ["merge", "incremental", { keys: ["id"] }],
    ["replace_range", "historical", { date_column: "created_at" }],
  ];
  for (const [mode, strategy, target] of cases) {
    it(`${mode}: the server receives exactly the planned statements, with binds`, async () => {
      const ctx = await context(strategy, target);
      const result = await sink.load(ctx);
      expect(result).toEqual({ table: "ANALYTICS.RAW.ORDERS", rowsLoaded: 3 });

      const expected = planLoad(await planInput(ctx), STAGED_COLUMNS);
      expect(expected.some((s) => s.step === ({ replace: "swap", append: "delete", merge: "merge", replace_range: "insert" } as const)[mode])).toBe(true);
      expect(server.queries).toEqual(expected.map((s) => ({ sql: s.sql, binds: s.binds.map(String) })));
      expect(server.logouts).toBe(1);
    });
  }

  it("sends the query tag first, logs in with the connection's settings, and PUTs the files itself", async () => {
    await sink.load(await context("incremental"));
    expect(server.queries[0]!.sql).toBe(
      `ALTER SESSION SET QUERY_TAG = '{"team":"data","pipeline":"shop","task":"load_orders","run_id":"scheduled__2024-01-02T00:00:00+00:00","stream":"orders"}'`,
    );
    expect(server.logins[0]).toMatchObject({ data: { ACCOUNT_NAME: "acme-prod", LOGIN_NAME: "loader", AUTHENTICATOR: "SNOWFLAKE" } });
    // snowflake-sdk copied each landed file to the LOCAL_FS stage location the server named.
    expect(await readFile(path.join(server.stageDir, "part-1.ndjson"), "utf8")).toBe(`{"id":3,"status":"b","created_at":"2024-01-02"}\n`);
  });

  it("a statement error becomes a task error naming the step and statement; cleanup still runs", async () => {
    server.reply(/^MERGE INTO/, { error: { code: "002003", message: "SQL compilation error: Table 'X' does not exist" } });
    const error = await sink.load(await context("incremental", { keys: ["id"] })).then(unexpected, (e: unknown) => e as SnowflakeSinkError);
    expect(error).toMatchObject({ name: "SnowflakeSinkError", code: "XO_SNOWFLAKE_STATEMENT_FAILED" });
    expect(error.message).toContain("Snowflake rejected the merge statement (002003): SQL compilation error: Table 'X' does not exist");
    expect(error.message).toContain(`statement: MERGE INTO "ANALYTICS"."RAW"."ORDERS" AS t USING`);
    const after = server.queries.slice(server.queries.findIndex((q) => q.sql.startsWith("MERGE")) + 1).map((q) => q.sql.split(" ").slice(0, 2).join(" "));
    expect(after).toEqual(["DROP TABLE", "DROP STAGE"]);
    expect(server.logouts).toBe(1);
  });

  it("rolls back an open transaction when a statement inside it fails", async () => {
    server.reply(/^INSERT INTO/, { error: { code: "100072", message: "NULL result in a non-nullable column" } });
    await expect(sink.load(await context("incremental"))).rejects.toThrow(/rejected the insert statement \(100072\)/);
    const tail = server.queries.slice(-4).map((q) => q.sql.split(" ")[0]);
    expect(tail).toEqual(["INSERT", "ROLLBACK", "DROP", "DROP"]);
  });

  it("files without rows leave the table unchanged: no swap, delete, insert or merge", async () => {
    server.reply(/^COPY INTO/, { columns: ["file", "status", "rows_parsed", "rows_loaded"], rows: [["part-0.ndjson", "LOADED", "0", "0"]] });
    const result = await sink.load(await context("full_refresh"));
    expect(result.rowsLoaded).toBe(0);
    const after = server.queries.slice(server.queries.findIndex((q) => q.sql.startsWith("SELECT COLUMN_NAME")) + 1).map((q) => q.sql.split(" ").slice(0, 2).join(" "));
    expect(after).toEqual(["CREATE TABLE", "DROP TABLE", "DROP STAGE"]);
  });

  it("never shows the password, even when the service echoes it", async () => {
    server.reply(/^COPY INTO/, { error: { code: "390100", message: `Incorrect username or password was specified: loader/${PASSWORD}` } });
    const error = await sink.load(await context("full_refresh")).then(unexpected, (e: unknown) => e as SnowflakeSinkError);
    expect(error.message).toContain("Incorrect username or password was specified: loader/***");
    expect(error.message).not.toContain(PASSWORD);
    expect(error.hint).not.toContain(PASSWORD);
  });

  it("key-pair authentication sends a JWT signed with the (decrypted) private key", async () => {
    const { privateKey } = generateKeyPairSync("rsa", {
      modulusLength: 2048,
      privateKeyEncoding: { type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "key-pass-phrase" },
      publicKeyEncoding: { type: "spki", format: "pem" },
    });
    const conn = connection({ private_key_content: Buffer.from(privateKey).toString("base64"), private_key_passphrase: "key-pass-phrase" }, null);
    await sink.load(await context("incremental", {}, conn));
    const login = server.logins[0] as { data: Record<string, unknown> };
    expect(login.data.AUTHENTICATOR).toBe("SNOWFLAKE_JWT");
    expect(String(login.data.TOKEN).split(".")).toHaveLength(3);
    expect(JSON.stringify(login)).not.toContain("PRIVATE KEY");
  });

  it("a connection without password or key is a clear error before any network call", async () => {
    const error = await sink.load(await context("incremental", {}, connection({}, null))).then(unexpected, (e: unknown) => e as SnowflakeSinkError);
    expect(error).toMatchObject({ code: "XO_SNOWFLAKE_CONNECTION_INVALID" });
    expect(error.message).toContain(`connection "snowflake_default": no password and no private key`);
    expect(server.logins).toHaveLength(0);
  });
});

function unexpected(): never {
  throw new Error("expected the load to fail");
}
