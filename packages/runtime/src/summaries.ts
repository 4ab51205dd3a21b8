/**
 * Each task's summary is kept in the landing zone under its run,
 * `<landing>/runs/<pipeline>/run=<run id>/<task id>.json`, so a downstream task reads
 * its upstream tasks' summaries the same way in Airflow (any worker, any pod) and in
 * `xo-foundry run`. A retry of a task replaces its own record.
 */
import { joinUri, safeRunId, type LandingStore, type TaskSummary } from "@xo-foundry/core";

function summaryUri(landingRoot: string, pipeline: string, runId: string, taskId: string): string {
  return joinUri(landingRoot, "runs", pipeline, `run=${safeRunId(runId)}`, `${taskId}.json`);
}

export interface SummaryStore {
  read(taskId: string): Promise<TaskSummary | undefined>;
  write(summary: TaskSummary): Promise<void>;
}

export function summaryStore(store: LandingStore, landingRoot: string, pipeline: string, runId: string): SummaryStore {
  return {
    async read(taskId) {
      const text = await store.readText(summaryUri(landingRoot, pipeline, runId, taskId));
      return text === undefined ? undefined : (JSON.parse(text) as TaskSummary);
    },
    async write(summary) {
      await store.writeText(summaryUri(landingRoot, pipeline, runId, summary.task), `${JSON.stringify(summary)}\n`);
    },
  };
}
