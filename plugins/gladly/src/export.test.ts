/**
 * Export API end to end. Emulated: Gladly's API (src/__fixtures__/gladly-server.ts), following
 * Gladly's published Export API description: the job list (the last 14 days), a job by id, and
 * NDJSON job files. Real: axios, the Node HTTP stack and sockets.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startGladlyEmulator, type ExportJob, type GladlyEmulator } from "./__fixtures__/gladly-server.js";
import { extractError, extractFiles, makeContext } from "./__fixtures__/harness.js";

let gladly: GladlyEmulator;
beforeAll(async () => {
  gladly = await startGladlyEmulator();
});
afterAll(() => gladly.close());
beforeEach(() => {
  gladly.reset();
  gladly.now = Date.parse("2026-01-17T06:00:00Z");
  gladly.jobs = [
    // Older than 14 days: Gladly no longer lists it.
    job("job-expired", "2026-01-01T00:00:00Z", "2026-01-20T00:00:00Z", "2026-01-02T01:00:00Z"),
    job("job-old", "2026-01-14T00:00:00Z", "2026-01-15T00:00:00Z", "2026-01-15T01:00:00Z"),
    job("job-covering-1", "2026-01-15T00:00:00Z", "2026-01-16T00:00:00Z", "2026-01-16T01:00:00Z"),
    job("job-covering-2", "2026-01-15T12:00:00Z", "2026-01-16T12:00:00Z", "2026-01-16T13:00:00Z"),
    { ...job("job-failed", "2026-01-15T12:00:00Z", "2026-01-16T18:00:00Z", "2026-01-16T19:00:00Z"), status: "FAILED", files: [] },
    { ...job("job-running", "2026-01-16T00:00:00Z", "2026-01-17T00:00:00Z", "2026-01-17T01:00:00Z"), status: "IN_PROGRESS", files: [] },
  ];
  for (const j of gladly.jobs) {
    for (const f of FILES) gladly.files.set(`${j.id}/${f}`, agents(j.id));
  }
});

const FILES = ["agents.jsonl", "customers.jsonl", "conversation_items.jsonl", "topics.jsonl"];

function job(id: string, startAt: string, endAt: string, updatedAt: string): ExportJob {
  return { id, scheduleId: "vZgCEQlDR6aQz_0HeWZ9_Q", status: "COMPLETED", parameters: { type: "CONVERSATIONS", startAt, endAt }, updatedAt, files: FILES };
}

const agents = (jobId: string) => `${[1, 2, 3].map((i) => JSON.stringify({ id: `agent-${i}`, job: jobId, name: `Agent ${i}, "the ${i}"` })).join("\n")}\n`;

describe("export streams", () => {
  it("streams the file of the newest completed job that covers the window", async () => {
    const files = await extractFiles(makeContext({ source: { base_url: gladly.url }, stream: { kind: "export", file: "agents" } }));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatchObject({ name: "agents.jsonl", format: "ndjson", metadata: { job_id: "job-covering-2", file: "agents.jsonl", job_end_at: "2026-01-16T12:00:00Z" } });
    expect(files[0]!.bytes.toString("utf8")).toBe(agents("job-covering-2"));
    const list = gladly.requests.find((r) => r.path === "/api/v1/export/jobs");
    expect(list!.query.get("status")).toBe("COMPLETED");
    expect(gladly.requests.at(-1)!.path).toBe("/api/v1/export/jobs/job-covering-2/files/agents.jsonl");
  });

  it("accepts a raw file name and an explicit job id, after checking that the job completed", async () => {
    const files = await extractFiles(makeContext({ source: { base_url: gladly.url }, stream: { kind: "export", file: "conversation_items.jsonl", job_id: "job-old" } }));
    expect(files[0]!.name).toBe("conversation_items.jsonl");
    expect(files[0]!.bytes.toString("utf8")).toBe(agents("job-old"));
    expect(gladly.requests.map((r) => r.path)).toEqual(["/api/v1/export/jobs/job-old", "/api/v1/export/jobs/job-old/files/conversation_items.jsonl"]);
  });

  it("refuses an explicit job that has not completed, naming its status", async () => {
    const running = await extractError(makeContext({ source: { base_url: gladly.url }, stream: { kind: "export", file: "agents", job_id: "job-running" } }));
    expect(running.message).toBe("export job job-running is IN_PROGRESS, not COMPLETED, so it has no files to read. Wait for it to complete and re-run the task, or remove `job_id` to read the newest completed job");
    const failed = await extractError(makeContext({ source: { base_url: gladly.url }, stream: { kind: "export", file: "agents", job_id: "job-failed" } }));
    expect(failed.message).toContain("export job job-failed is FAILED, not COMPLETED");
    expect(gladly.requests.filter((r) => r.path.includes("/files/"))).toHaveLength(0);
  });

  it("fails clearly when no completed job covers the window", async () => {
    const error = await extractError(makeContext({ source: { base_url: gladly.url }, stream: { kind: "export", file: "agents" }, logicalDate: "2026-01-16" }));
    expect(error.message).toMatch(
      /no completed Gladly export job covers the window ending 2026-01-17T00:00:00\+00:00 \(3 completed job\(s\) in the last 14 days, which is all Gladly keeps; the latest ends 2026-01-16T12:00:00Z\)/,
    );
    expect(error.message).toContain("`job_id`");
  });

  it("fails clearly when the job has no such file", async () => {
    const error = await extractError(makeContext({ source: { base_url: gladly.url }, stream: { kind: "export", file: "calls" } }));
    expect(error.message).toMatch(/export job job-covering-2 has no file "calls.jsonl"; it has "agents.jsonl", "customers.jsonl"/);
  });

  it("rejects a file name that could leave the job's folder", async () => {
    const error = await extractError(makeContext({ source: { base_url: gladly.url }, stream: { kind: "export", file: "../agents" } }));
    expect(error.message).toMatch(/file: a bare file name/);
    expect(gladly.requests).toHaveLength(0);
  });

  it("turns a 404 for a job Gladly does not have (or no longer keeps) into a clear error", async () => {
    for (const id of ["job-nope", "job-expired"]) {
      const error = await extractError(makeContext({ source: { base_url: gladly.url }, stream: { kind: "export", file: "agents", job_id: id } }));
      expect(error.message).toContain(`GET /api/v1/export/jobs/${id} (export job ${id}) failed with HTTP 404 Not Found: {"errors":[{"code":"not_exist","detail":"entity does not exist"}]}`);
      expect(error.message).toContain("Gladly keeps export jobs and their files for 14 days");
    }
  });
});
