/**
 * dbt's outcome read from run_results.json, never from its log text: per-node status,
 * timing and rows, a small summary for XCom, and a one-screen error naming what failed.
 */
import type { DatasetRef, JsonObject } from "@xo-foundry/core";

/** One entry of run_results.json's `results` (the fields xo-foundry reads). */
export interface NodeResult {
  readonly unique_id: string;
  readonly status: string;
  readonly execution_time?: number;
  readonly message?: string | null;
  readonly failures?: number | null;
  readonly relation_name?: string | null;
  readonly adapter_response?: { readonly rows_affected?: number } | null;
}

export interface RunResults {
  readonly results: readonly NodeResult[];
  readonly elapsed_time?: number;
}

/** Statuses that fail the step: a model, seed or snapshot `error`, a test `fail` or `error`. */
const FAILING = new Set(["error", "fail", "runtime error"]);
const RESOURCES_WITH_TABLES = new Set(["model", "seed", "snapshot"]);
const MAX_NAMED = 10;

export function parseRunResults(text: string): RunResults {
  const doc = JSON.parse(text) as Partial<RunResults>;
  if (!Array.isArray(doc.results)) throw new Error("run_results.json has no `results` list");
  return { results: doc.results, ...(typeof doc.elapsed_time === "number" ? { elapsed_time: doc.elapsed_time } : {}) };
}

/** `model.shop.stg_orders` -> `model stg_orders`; a test's hash suffix is dropped. */
export function nodeLabel(uniqueId: string): string {
  const [resource = "node", , name = uniqueId] = uniqueId.split(".");
  return `${resource} ${name}`;
}

export function failingNodes(run: RunResults): NodeResult[] {
  return run.results.filter((r) => FAILING.has(r.status));
}

/** The step's summary: counts by status, elapsed time, rows, and the failing and warning nodes by name. */
export function runSummary(command: string, run: RunResults): JsonObject {
  const counts: Record<string, number> = {};
  let rows = 0;
  for (const r of run.results) {
    counts[r.status] = (counts[r.status] ?? 0) + 1;
    rows += r.adapter_response?.rows_affected ?? 0;
  }
  const named = (status: (s: string) => boolean) =>
    run.results
      .filter((r) => status(r.status))
      .slice(0, MAX_NAMED * 2)
      .map((r) => nodeLabel(r.unique_id));
  return {
    command,
    nodes: run.results.length,
    ...Object.fromEntries(Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : 1))),
    rows_affected: rows,
    elapsed_seconds: Math.round((run.elapsed_time ?? 0) * 100) / 100,
    failed: named((s) => FAILING.has(s)),
    warned: named((s) => s === "warn"),
  };
}

/** One screen: what failed, with dbt's message for each, at most ten named. */
export function failureReport(command: string, run: RunResults): string {
  const failing = failingNodes(run);
  const lines = failing.slice(0, MAX_NAMED).map((r) => {
    const message = (r.message ?? "").replace(/\s+/g, " ").trim();
    return `  - ${nodeLabel(r.unique_id)} (${r.status})${message ? `: ${message.length > 240 ? `${message.slice(0, 240)}...` : message}` : ""}`;
  });
  if (failing.length > MAX_NAMED) lines.push(`  ... and ${failing.length - MAX_NAMED} more (see run_results.json)`);
  const skipped = run.results.filter((r) => r.status === "skipped").length;
  return `dbt ${command} failed: ${failing.length} of ${run.results.length} nodes failed${skipped ? `, ${skipped} skipped` : ""}\n${lines.join("\n")}`;
}

/** The tables the run built, as dataset URIs `<base>#<relation>` with the relation's last `parts` parts. */
export function writtenDatasets(run: RunResults, where: { readonly datasetBase: string; readonly relationParts: number } | undefined): DatasetRef[] {
  if (where === undefined) return [];
  return run.results
    .filter((r) => r.status === "success" && RESOURCES_WITH_TABLES.has(r.unique_id.split(".")[0] ?? "") && r.relation_name)
    .map((r) => ({ uri: `${where.datasetBase}#${relationParts(r.relation_name!).slice(-where.relationParts).join(".")}` }))
    .sort((a, b) => (a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : 0));
}

/** `"db"."my schema"."t"` -> ["db", "my schema", "t"]. */
function relationParts(relation: string): string[] {
  return [...relation.matchAll(/"((?:[^"]|"")*)"|([^."]+)/g)].map((m) => (m[1] !== undefined ? m[1].replaceAll('""', '"') : m[2]!));
}
