/**
 * Generated profiles: what they hold, that no secret reaches the file, and that dbt itself
 * (the real dbt-core 1.11 with dbt-duckdb and dbt-snowflake) accepts them. No Snowflake is
 * reachable here: `dbt parse` loads and validates the profile and the adapter's credentials
 * without connecting.
 */
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { clearSecrets, redact, type SinkBlock } from "@xo-foundry/core";
import { sinkOptions as duckdbSinkOptions } from "@xo-foundry/plugin-duckdb";
import { rejectionOf, testdir, type TestDir } from "@xo-foundry/testkit";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { chooseSink, DUCKDB_DEFAULTS, profileOutput, writeProfiles } from "./profiles.js";
import { DBT, QUIET_DBT, REPO, requireDbt } from "./__fixtures__/shop.js";

const run = promisify(execFile);
const PASSWORD = "pa$$word-that-must-not-leak-7Qx";
const snowflakeConnection = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ conn_type: "snowflake", login: "XO_TRANSFORMER", password: PASSWORD, extra: { account: "myorg-myaccount", warehouse: "TRANSFORMING", role: "TRANSFORMER", ...extra } });

let dir: TestDir | undefined;
beforeAll(() => requireDbt());
afterEach(async () => {
  await dir?.remove();
  dir = undefined;
  clearSecrets();
});

/** `dbt parse` of the example project with a profiles folder; rejects with dbt's output when dbt refuses. */
async function dbtParse(profilesDir: string, env: Record<string, string>): Promise<string> {
  dir ??= await testdir();
  const target = dir.path("target");
  const { stdout } = await run(DBT, ["parse", "--project-dir", path.join(REPO, "examples/dbt"), "--profiles-dir", profilesDir, "--target-path", target, "--log-path", dir.path("logs")], {
    env: { ...process.env, ...QUIET_DBT, ...env },
  });
  return stdout;
}

describe("a profile generated from the DuckDB sink", () => {
  it("points at the sink's database file and schema, with the sink plugin's own defaults", () => {
    expect(DUCKDB_DEFAULTS).toEqual({ database: duckdbSinkOptions.parse({}).database, schema: duckdbSinkOptions.parse({}).schema });
    const out = profileOutput({ block: { plugin: "duckdb" }, sinkName: "main", projectDir: "/p", env: {} });
    expect(out.output).toEqual({ type: "duckdb", path: "/p/.xo-foundry/warehouse.duckdb", schema: "main" });
    const custom = profileOutput({ block: { plugin: "duckdb", database: "wh.duckdb", schema: "raw" }, sinkName: "main", projectDir: "/p", schema: "analytics", env: {} });
    expect(custom.output).toEqual({ type: "duckdb", path: "/p/wh.duckdb", schema: "analytics" });
  });
});

describe("a profile generated from the Snowflake sink", () => {
  const block: SinkBlock = { plugin: "snowflake", connection: "snowflake_raw", database: "ANALYTICS", schema: "RAW" };

  it("reads the password from the environment, never from the file, and dbt-snowflake accepts it", async () => {
    const out = profileOutput({ block, sinkName: "main", projectDir: "/p", schema: "MARTS", env: { XO_CONN_SNOWFLAKE_RAW: snowflakeConnection() } });
    expect(out.output).toEqual({
      type: "snowflake",
      account: "myorg-myaccount",
      user: "XO_TRANSFORMER",
      database: "ANALYTICS",
      schema: "MARTS",
      warehouse: "TRANSFORMING",
      role: "TRANSFORMER",
      password: "{{ env_var('XO_DBT_SNOWFLAKE_PASSWORD') }}",
    });
    const profiles = await writeProfiles("shop_analytics", "xo_foundry", out);
    try {
      const text = await readFile(path.join(profiles.dir, "profiles.yml"), "utf8");
      expect(text).not.toContain(PASSWORD);
      expect(redact(`x ${PASSWORD} y`)).toBe("x *** y");
      const stdout = await dbtParse(profiles.dir, out.env);
      expect(stdout).toMatch(/Registered adapter: snowflake/);
    } finally {
      await profiles.remove();
    }
  });

  it("would be refused by dbt without a required setting, so the check above can fail", async () => {
    const out = profileOutput({ block, sinkName: "main", projectDir: "/p", env: { XO_CONN_SNOWFLAKE_RAW: snowflakeConnection() } });
    const { account: _account, ...withoutAccount } = out.output;
    const profiles = await writeProfiles("shop_analytics", "xo_foundry", { ...out, output: withoutAccount });
    try {
      const error = await rejectionOf(() => dbtParse(profiles.dir, out.env));
      expect(String((error as Error & { stdout?: string }).stdout)).toMatch(/'account' is a required property/);
    } finally {
      await profiles.remove();
    }
  });

  it("uses key-pair authentication from the connection, again through the environment", async () => {
    const { generateKeyPairSync } = await import("node:crypto");
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const conn = JSON.stringify({ conn_type: "snowflake", login: "XO_TRANSFORMER", extra: { account: "myorg-myaccount", database: "ANALYTICS", private_key_content: Buffer.from(pem).toString("base64") } });
    const out = profileOutput({ block: { plugin: "snowflake", connection: "snowflake_raw" }, sinkName: "main", projectDir: "/p", env: { XO_CONN_SNOWFLAKE_RAW: conn } });
    expect(out.output).toMatchObject({ private_key: "{{ env_var('XO_DBT_SNOWFLAKE_PRIVATE_KEY') }}", schema: "PUBLIC" });
    expect(out.env.XO_DBT_SNOWFLAKE_PRIVATE_KEY).toBe(pem);
    const profiles = await writeProfiles("shop_analytics", "xo_foundry", out);
    try {
      expect(await readFile(path.join(profiles.dir, "profiles.yml"), "utf8")).not.toContain("PRIVATE KEY");
      expect(await dbtParse(profiles.dir, out.env)).toMatch(/Registered adapter: snowflake/);
    } finally {
      await profiles.remove();
    }
  });

  it("names what the connection lacks", () => {
    const error = (() => {
      try {
        profileOutput({ block: { plugin: "snowflake", connection: "snowflake_raw" }, sinkName: "main", projectDir: "/p", env: { XO_CONN_SNOWFLAKE_RAW: snowflakeConnection() } });
      } catch (e) {
        return e as Error;
      }
      throw new Error("expected an error");
    })();
    expect(error).toMatchObject({ code: "XO_DBT_PROFILE_UNAVAILABLE" });
    expect(error.message).toContain('sink "main": the Snowflake profile needs a database');
  });
});

describe("choosing the sink", () => {
  it("takes the only sink, or the named one, and explains an ambiguous choice", () => {
    const config = { sinks: { raw: { plugin: "duckdb" }, marts: { plugin: "duckdb" } } } as never;
    expect(chooseSink(config, "marts").name).toBe("marts");
    expect(() => chooseSink(config, undefined)).toThrow(/2 sinks \(raw, marts\).*\n  hint: set `sink`/);
    expect(() => profileOutput({ block: { plugin: "bigquery" }, sinkName: "main", projectDir: "/p", env: {} })).toThrow(/no dbt profile can be generated[\s\S]*profiles_dir/);
  });
});
