import type { PlanInput } from "../plan.js";
import type { ResolvedTarget } from "../options.js";

/** A plan input with readable defaults; tests override what they are about. */
export function planInputFor(overrides: Partial<Omit<PlanInput, "target">> & { target?: Partial<ResolvedTarget> } = {}): PlanInput {
  const { target, ...rest } = overrides;
  return {
    database: "analytics",
    schema: "raw",
    format: "ndjson",
    fileFormat: undefined,
    stage: { type: "internal" },
    onError: "ABORT_STATEMENT",
    files: [
      { stageName: "part-0.ndjson", localPath: "/landing/stage/shop/orders/incremental/2024-01-02/part-0.ndjson" },
      { stageName: "part-1.ndjson", localPath: "/landing/stage/shop/orders/incremental/2024-01-02/part-1.ndjson" },
    ],
    runId: "scheduled__2024-01-02T00:00:00+00:00",
    logicalDate: "2024-01-02",
    window: { start: "2024-01-02", end: "2024-01-03" },
    queryTag: { pipeline: "shop", task: "load_orders", run_id: "scheduled__2024-01-02T00:00:00+00:00", stream: "orders" },
    ...rest,
    target: { table: "orders", mode: "append", keys: [], dateColumn: undefined, create: true, ...target },
  };
}

/** The columns INFER_SCHEMA gives the files of these tests, then the metadata columns the plan adds. */
export const STAGED_COLUMNS = ["ID", "STATUS", "CREATED_AT", "_XO_SOURCE_FILE", "_XO_SOURCE_ROW", "_XO_LOGICAL_DATE", "_XO_RUN_ID", "_XO_LOADED_AT"];
