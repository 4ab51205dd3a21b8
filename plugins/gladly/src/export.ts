/**
 * Export API: Gladly runs export jobs on its own schedule (daily by default) and keeps them
 * and their files for 14 days. A stream reads one file (`agents.jsonl`, ...) of one COMPLETED
 * job: the newest one whose period ends at or after the run's window end, or the job named by
 * `job_id`. Job statuses are PENDING, IN_PROGRESS, COMPLETED and FAILED; only a COMPLETED job
 * has files.
 */
import type { ExtractBatch, Logger } from "@xo-foundry/core";
import type { GladlyClient } from "./http.js";
import { exportFileName, type ExportStream } from "./options.js";

interface ExportJob {
  readonly id: string;
  readonly status?: "PENDING" | "IN_PROGRESS" | "COMPLETED" | "FAILED";
  readonly parameters?: { readonly type?: string; readonly startAt?: string; readonly endAt?: string };
  readonly updatedAt?: string;
  readonly files?: readonly string[];
}

export interface ExportInput {
  readonly client: GladlyClient;
  readonly stream: ExportStream;
  /** The run's window end, ISO 8601 with offset. */
  readonly windowEnd: string;
  readonly log: Logger;
}

export async function* extractExport(input: ExportInput): AsyncGenerator<ExtractBatch, void, undefined> {
  const fileName = exportFileName(input.stream.file);
  const job = input.stream.job_id ? await namedJob(input, input.stream.job_id, fileName) : await newestCoveringJob(input, fileName);
  const path = `export/jobs/${encodeURIComponent(job.id)}/files/${encodeURIComponent(fileName)}`;
  const response = await input.client.open({ method: "GET", path, accept: "application/x-ndjson, application/json, */*", what: `export file ${fileName} of job ${job.id}` });
  input.log.info(`reading ${fileName} of export job ${job.id}`, { job: job.id });

  const metadata: Record<string, string> = { job_id: job.id, file: fileName };
  if (job.parameters?.startAt) metadata.job_start_at = job.parameters.startAt;
  if (job.parameters?.endAt) metadata.job_end_at = job.parameters.endAt;
  if (job.updatedAt) metadata.job_updated_at = job.updatedAt;
  try {
    yield { type: "file", name: fileName, format: "ndjson", body: response.body, metadata };
  } finally {
    // Frees the socket when the extract is abandoned before the body was read.
    response.body.destroy();
  }
}

async function namedJob(input: ExportInput, id: string, fileName: string): Promise<ExportJob> {
  const job = (await input.client.json({ method: "GET", path: `export/jobs/${encodeURIComponent(id)}`, accept: "application/json", what: `export job ${id}` })) as ExportJob | null;
  if (typeof job !== "object" || job === null || job.id !== id) throw new Error(`Gladly's answer for export job ${id} is not that job; check \`organization\`/\`base_url\``);
  if (job.status !== "COMPLETED") {
    throw new Error(`export job ${id} is ${job.status ?? "in an unknown status"}, not COMPLETED, so it has no files to read. ${job.status === "FAILED" ? "Ask Gladly Support to run it again, or" : "Wait for it to complete and re-run the task, or"} remove \`job_id\` to read the newest completed job`);
  }
  checkFile(job, fileName);
  return job;
}

function checkFile(job: ExportJob, fileName: string): void {
  if (job.files && !job.files.includes(fileName)) {
    throw new Error(`export job ${job.id} has no file ${JSON.stringify(fileName)}; it has ${job.files.map((f) => JSON.stringify(f)).join(", ") || "no files"}. Check the stream's \`file\``);
  }
}

async function newestCoveringJob(input: ExportInput, fileName: string): Promise<ExportJob> {
  const body = await input.client.json({ method: "GET", path: "export/jobs", query: { status: "COMPLETED" }, accept: "application/json", what: "the list of completed export jobs" });
  if (!Array.isArray(body)) throw new Error("Gladly's list of export jobs is not a JSON array; check `organization`/`base_url`");
  const windowEnd = Date.parse(input.windowEnd);
  const jobs = (body as ExportJob[]).filter((j) => typeof j?.id === "string" && (j.status === undefined || j.status === "COMPLETED"));
  const covering = jobs
    .filter((j) => {
      const end = Date.parse(j.parameters?.endAt ?? "");
      return !Number.isNaN(end) && end >= windowEnd;
    })
    .sort((a, b) => timeOf(b) - timeOf(a));
  const job = covering[0];
  if (!job) {
    const latest = jobs.map((j) => j.parameters?.endAt).filter((e): e is string => !!e).sort((a, b) => Date.parse(b) - Date.parse(a))[0];
    throw new Error(
      `no completed Gladly export job covers the window ending ${input.windowEnd} (${jobs.length} completed job(s) in the last 14 days, which is all Gladly keeps` +
        `${latest ? `; the latest ends ${latest}` : ""}). Wait for Gladly's next export job and re-run the task, or set \`job_id\``,
    );
  }
  checkFile(job, fileName);
  return job;
}

/** Newest first: by `updatedAt`, then by the period's end. */
function timeOf(job: ExportJob): number {
  const updated = Date.parse(job.updatedAt ?? "");
  if (!Number.isNaN(updated)) return updated;
  const end = Date.parse(job.parameters?.endAt ?? "");
  return Number.isNaN(end) ? 0 : end;
}
