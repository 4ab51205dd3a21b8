/**
 * The Snowflake stand-in of the snowflake plugin's own tests, for checks on a Snowflake
 * warehouse: snowflake-sdk (real, inside the sink's `warehouse` service) against a loopback
 * server speaking Snowflake's REST protocol (emulated), whose SQL runs on fakesnow 0.12.1
 * (real: Snowflake's dialect translated by sqlglot, run by DuckDB). See
 * plugins/snowflake/src/__fixtures__/stateful_snowflake.ts for what is emulated and which
 * published Snowflake documents it follows.
 *
 * It is loaded from its path in the repository: the snowflake package exports no test
 * fixtures, and a static import would pull a file outside this package into its tsc build.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Connection } from "@xo-foundry/core";

const here = path.dirname(fileURLToPath(import.meta.url));
const FIXTURE = path.resolve(here, "../../../snowflake/src/__fixtures__/stateful_snowflake.ts");
const PYTHON = path.resolve(here, "../../../../.venv/services/bin/python");

export interface SnowflakeStandIn {
  readonly port: number;
  /** Runs a statement on the engine directly, as an administrator would. */
  query(sql: string, binds?: readonly (string | number | boolean | null)[]): Promise<unknown>;
  close(): Promise<void>;
}

export async function startSnowflake(): Promise<SnowflakeStandIn> {
  if (!existsSync(PYTHON)) throw new Error(`the Snowflake stand-in needs the services venv at ${PYTHON} (fakesnow); create it with tools/services/setup.sh`);
  const fixture = (await import(pathToFileURL(FIXTURE).href)) as { startStatefulSnowflake(): Promise<SnowflakeStandIn> };
  return fixture.startStatefulSnowflake();
}

export function snowflakeConnection(port: number, password: string): Connection {
  return {
    id: "snowflake_wh",
    type: "snowflake",
    host: "127.0.0.1",
    port,
    login: "analyst",
    password,
    extra: { account: "acme-wh", warehouse: "QUERY_WH", protocol: "http" },
  };
}
