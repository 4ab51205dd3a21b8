/**
 * dbt profiles generated at run time from the pipeline's sink and its connection, so
 * nothing secret is ever written to the repository, a DAG or the disk: the profile reads
 * each secret with dbt's `env_var()`, and the secret travels only in dbt's environment.
 *
 * The dbt plugin does not depend on the sink plugins (a project installs only what it
 * uses), so it reads the two sink blocks it knows here, with their documented defaults:
 * `duckdb` (dbt-duckdb) and `snowflake` (dbt-snowflake).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { registerSecret, resolveConnection, type Connection, type JsonObject, type PipelineConfig, type SinkBlock } from "@xo-foundry/core";
import { stringify } from "yaml";
import { DbtError } from "./errors.js";

/** The DuckDB sink's defaults (plugins/duckdb/src/options.ts); a test keeps them equal. */
export const DUCKDB_DEFAULTS = { database: ".xo-foundry/warehouse.duckdb", schema: "main" } as const;
/** The generated profile's one target. */
export const GENERATED_TARGET = "xo_foundry";

export interface ProfileOutput {
  /** The `outputs.<target>` block, with secrets as `env_var()` references. */
  readonly output: JsonObject;
  /** The secrets, by the environment variable the output reads them from. */
  readonly env: Readonly<Record<string, string>>;
  /** What the step reads and writes, as dataset URIs: `<base>#<relation>`. */
  readonly datasetBase: string;
  /** How many trailing parts of a dbt relation name the URI keeps: 2 (schema.table) for a DuckDB file, 3 for Snowflake. */
  readonly relationParts: 2 | 3;
}

export interface GeneratedProfiles {
  readonly dir: string;
  readonly profile: string;
  readonly target: string;
  readonly env: Readonly<Record<string, string>>;
  remove(): Promise<void>;
}

/** The sink block a step's profile points at: `name`, else the pipeline's only sink. */
export function chooseSink(config: PipelineConfig, name: string | undefined): { name: string; block: SinkBlock } {
  const names = Object.keys(config.sinks);
  const chosen = name ?? (names.length === 1 ? names[0] : undefined);
  const block = chosen === undefined ? undefined : config.sinks[chosen];
  if (chosen === undefined || !block) {
    throw new DbtError(
      "XO_DBT_PROFILE_UNAVAILABLE",
      name === undefined ? `the pipeline has ${names.length} sinks (${names.join(", ")}); the dbt step cannot tell which warehouse dbt should use` : `the pipeline has no sink named ${JSON.stringify(name)} (it has ${names.join(", ")})`,
      "set `sink` in the dbt step's `with:` block to a sink name, or `profiles_dir` to your own profiles",
    );
  }
  return { name: chosen, block };
}

/** The profile output for a sink block. */
export function profileOutput(input: { block: SinkBlock; sinkName: string; projectDir: string; schema?: string | undefined; env: NodeJS.ProcessEnv }): ProfileOutput {
  const { block } = input;
  const options = block as unknown as Record<string, unknown>;
  switch (block.plugin) {
    case "duckdb": {
      const database = str(options.database) ?? DUCKDB_DEFAULTS.database;
      const file = database === ":memory:" ? database : path.resolve(input.projectDir, database);
      const schema = input.schema ?? str(options.schema) ?? DUCKDB_DEFAULTS.schema;
      return { output: { type: "duckdb", path: file, schema }, env: {}, datasetBase: `duckdb://${file}`, relationParts: 2 };
    }
    case "snowflake":
      return snowflakeOutput(input.sinkName, options, block.connection ? resolveConnection(block.connection, input.env) : undefined, input.schema);
    default:
      throw new DbtError(
        "XO_DBT_PROFILE_UNAVAILABLE",
        `sink ${JSON.stringify(input.sinkName)} uses plugin ${JSON.stringify(block.plugin)}, for which no dbt profile can be generated`,
        "set `profiles_dir` in the dbt step to a folder with your own profiles.yml",
      );
  }
}

function snowflakeOutput(sinkName: string, options: Record<string, unknown>, conn: Connection | undefined, schemaOverride: string | undefined): ProfileOutput {
  const missing = (what: string, fix: string) =>
    new DbtError("XO_DBT_PROFILE_UNAVAILABLE", `sink ${JSON.stringify(sinkName)}: the Snowflake profile needs ${what}`, fix);
  if (!conn) throw missing("a connection", "add `connection:` to the sink block");
  const extra = conn.extra;
  const account = str(options.account) ?? str(extra.account);
  if (!account) throw missing("an account", "set `account` in the sink block or `extra.account` in the connection");
  if (!conn.login) throw missing("a user", "set `login` in the connection");
  const database = str(options.database) ?? str(extra.database);
  if (!database) throw missing("a database", "set `database` in the sink block or `extra.database` in the connection");
  const schema = schemaOverride ?? str(options.schema) ?? conn.schema ?? str(extra.schema) ?? "PUBLIC";
  const output: Record<string, string | number> = { type: "snowflake", account, user: conn.login, database, schema };
  const warehouse = str(options.warehouse) ?? str(extra.warehouse);
  const role = str(options.role) ?? str(extra.role);
  if (warehouse) output.warehouse = warehouse;
  if (role) output.role = role;
  if (conn.host) output.host = conn.host;
  if (conn.port !== undefined) output.port = conn.port;
  const protocol = str(extra.protocol);
  if (protocol) output.protocol = protocol;
  const env: Record<string, string> = {};
  const secret = (key: string, variable: string, value: string) => {
    registerSecret(value);
    env[variable] = value;
    output[key] = `{{ env_var('${variable}') }}`;
  };
  const keyContent = str(extra.private_key_content);
  const keyFile = str(extra.private_key_file);
  if (keyContent || keyFile) {
    if (keyContent) secret("private_key", "XO_DBT_SNOWFLAKE_PRIVATE_KEY", keyContent.includes("-----BEGIN") ? keyContent.replaceAll("\\n", "\n") : Buffer.from(keyContent, "base64").toString("utf8"));
    else output.private_key_path = keyFile!;
    const passphrase = str(extra.private_key_passphrase) ?? conn.password;
    if (passphrase) secret("private_key_passphrase", "XO_DBT_SNOWFLAKE_PRIVATE_KEY_PASSPHRASE", passphrase);
  } else if (conn.password) {
    secret("password", "XO_DBT_SNOWFLAKE_PASSWORD", conn.password);
  } else {
    throw missing("a password or a private key", "set `password`, or `extra.private_key_content` / `extra.private_key_file`, in the connection");
  }
  return { output, env, datasetBase: `snowflake://${account.toLowerCase()}`, relationParts: 3 };
}

/** Writes profiles.yml with one profile and one target into a fresh temporary folder. */
export async function writeProfiles(profile: string, target: string, out: ProfileOutput): Promise<GeneratedProfiles> {
  const dir = await mkdtemp(path.join(tmpdir(), "xo-dbt-profiles-"));
  const text = stringify({ [profile]: { target, outputs: { [target]: out.output } } });
  await writeFile(path.join(dir, "profiles.yml"), text, { mode: 0o600 });
  return { dir, profile, target, env: out.env, remove: () => rm(dir, { recursive: true, force: true }) };
}

function str(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}
