import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { PROJECT_FILE } from "@xo-foundry/core";

const SKIP_DIRS = new Set(["node_modules", "dist", "expected", "__fixtures__"]);

/** A folder with this file is a dbt project: its YAML (sources, schema, selectors) is dbt's, not pipelines. */
const DBT_PROJECT_FILE = "dbt_project.yml";

/** `<pipeline>.test.yaml` holds the fixtures `xo-foundry test` runs the pipeline with (ADR 0013), not a pipeline. */
const FIXTURE_FILE = /\.test\.ya?ml$/i;

/**
 * Pipeline files named on the command line: files as given, directories searched for
 * *.yaml / *.yml, leaving out dbt projects, fixtures and the project file.
 */
export async function pipelineFiles(inputs: readonly string[]): Promise<{ files: string[]; missing: string[] }> {
  const files: string[] = [];
  const missing: string[] = [];
  for (const input of inputs) {
    const info = await stat(input).catch(() => undefined);
    if (!info) missing.push(input);
    else if (info.isDirectory()) files.push(...(await walk(input)));
    else files.push(input);
  }
  return { files: [...new Set(files.map((f) => path.resolve(f)))].sort(), missing };
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  if (entries.some((e) => e.name === DBT_PROJECT_FILE && !e.isDirectory())) return out;
  for (const entry of entries) {
    if (entry.name.startsWith(".")) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) out.push(...(await walk(full)));
    } else if (/\.ya?ml$/i.test(entry.name) && entry.name !== PROJECT_FILE && !FIXTURE_FILE.test(entry.name)) {
      out.push(full);
    }
  }
  return out;
}

/**
 * File operations in flight at once when writing a DAGs folder: enough to overlap the
 * latency of each (DAG folders are often network mounts) and keep libuv's four threads
 * busy, few enough not to run out of file descriptors.
 */
export const IO_CONCURRENCY = 8;

/**
 * `fn` over `items`, at most `limit` calls in flight, results in the order of `items`.
 * Calls start in that order; after a failure no new one starts, and once those in flight
 * have settled the error of the first failed item is thrown, so a run that fails fails
 * the same way every time.
 */
export async function mapInOrder<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  const failures = new Map<number, unknown>();
  let next = 0;
  const worker = async () => {
    while (next < items.length && failures.size === 0) {
      const index = next++;
      try {
        results[index] = await fn(items[index]!, index);
      } catch (e) {
        failures.set(index, e);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failures.size) throw failures.get(Math.min(...failures.keys()));
  return results;
}
