/**
 * Runs statements through sqlglot's Snowflake grammar (sqlglot_check.py, in the services venv
 * that the repo's test setup builds from tools/services/requirements.lock.txt).
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
export const SERVICES_PYTHON = path.resolve(here, "../../../../.venv/services/bin/python");
const CHECK = path.join(here, "sqlglot_check.py");

export interface ParseResult {
  readonly id: string;
  readonly ok: boolean;
  /** What sqlglot read, e.g. `Merge`, `Create FILE FORMAT`, `Alter TABLE SwapTable`. */
  readonly kind?: string;
  readonly error?: string;
}

/** Parses every statement in one Python process; results come back in input order. */
export function parseSnowflake(statements: readonly { readonly id: string; readonly sql: string }[]): { version: string; results: ParseResult[] } {
  if (!existsSync(SERVICES_PYTHON)) {
    throw new Error(`the SQL grammar check needs the services venv at ${SERVICES_PYTHON} (sqlglot, pinned in tools/services/requirements.in); create it with tools/services/setup.sh`);
  }
  const run = spawnSync(SERVICES_PYTHON, [CHECK], { input: JSON.stringify(statements), encoding: "utf8", timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
  if (run.status !== 0) throw new Error(`sqlglot_check.py failed (${run.status}):\n${run.stderr}`);
  const out = JSON.parse(run.stdout) as { sqlglot: string; results: ParseResult[] };
  return { version: out.sqlglot, results: out.results };
}
