/**
 * The `snowflake` sink against the testkit's sink contract, through snowflake-sdk.
 *
 * Real: snowflake-sdk (login, binds, PUT through its LOCAL_FS path, JSON result sets) and the
 * SQL engine, fakesnow 0.12.1 running each statement the sink generates on DuckDB.
 * Emulated (see __fixtures__/stateful_snowflake.ts, each case written from Snowflake's SQL
 * reference): the service's REST protocol, file formats, the internal stage PUT uploads into,
 * INFER_SCHEMA over the landed NDJSON, COPY INTO with MATCH_BY_COLUMN_NAME and
 * INCLUDE_METADATA (and its 100069 JSON parse error), and SWAP WITH.
 *
 * Each check loads into a schema of its own; rows are read back through the sink's own session.
 */
import type { Connection, JsonObject } from "@xo-foundry/core";
import { describeSink, testdir } from "@xo-foundry/testkit";
import { afterAll, beforeAll } from "vitest";
import { driverOptions, openSession } from "./client.js";
import { snowflake } from "./index.js";
import { sinkOptions } from "./options.js";
import { normalizeName, quoteIdent } from "./sql.js";
import { startStatefulSnowflake, type StatefulSnowflake } from "./__fixtures__/stateful_snowflake.js";

let service: StatefulSnowflake;
let schemas = 0;

beforeAll(async () => {
  service = await startStatefulSnowflake();
}, 60_000);
afterAll(async () => {
  await service?.close();
});

const connection = (): Connection => ({
  id: "snowflake_contract",
  type: "snowflake",
  host: "127.0.0.1",
  port: service.port,
  login: "loader",
  password: "contract-password",
  extra: { account: "acme-contract", warehouse: "LOAD_WH", protocol: "http" },
});

describeSink(
  {
    plugin: snowflake(),
    // The sink blocks and targets in the README.
    examples: [
      {
        options: {
          warehouse: "LOADING",
          database: "RAW",
          schema: "GLADLY",
          role: "LOADER",
          stage: { type: "external", name: "RAW.LANDING.XO_LANDING", url_prefix: "s3://xo-landing/gladly" },
          on_error: "ABORT_STATEMENT",
          query_tag: { team: "customer-experience-data" },
        },
        target: { table: "contact_timestamps", mode: "append" },
      },
      { options: { database: "RAW", schema: "GLADLY" }, target: { keys: ["id"] } },
      { options: { database: "RAW" }, target: { mode: "replace_range", date_column: "created_at" } },
    ],
    async place() {
      const dir = await testdir();
      const schema = `CONTRACT_${++schemas}`;
      await service.query(`CREATE SCHEMA "RAW".${quoteIdent(schema)}`);
      return { projectDir: dir.dir, options: { database: "RAW", schema }, connection: connection(), cleanup: () => dir.remove() };
    },
    async readRows(place, table) {
      const session = await openSession(await driverOptions(sinkOptions.parse(place.options), place.connection));
      try {
        const qualified = table.split(".").map(quoteIdent).join(".");
        return (await session.run({ step: "columns", sql: `SELECT * FROM ${qualified}`, binds: [] })) as JsonObject[];
      } finally {
        await session.close();
      }
    },
    // Unquoted Snowflake names are upper-cased, and so are the columns INFER_SCHEMA creates (IGNORE_CASE => TRUE).
    columnName: normalizeName,
  },
  { timeout: 120_000 },
);
