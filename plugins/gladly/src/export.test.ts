/**
 * Export API end to end. Emulated: Gladly's API (src/__fixtures__/gladly-server.ts):
 * the job list and NDJSON job files. Real: axios, the Node HTTP stack and sockets.
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
  gladly.jobs = [
    job("job-old", "2026-01-14T00:00:00Z", "2026-01-15T00:00:00Z", "2026-01-15T01:00:00Z"),
    job("job-covering-1", "2026-01-15T00:00:00Z", "2026-01-16T00:00:00Z", "2026-01-16T01:00:00Z"),
    job("job-covering-2", "2026-01-15T12:00:00Z", "2026-01-16T12:00:00Z", "2026-01-16T13:00:00Z"),
    { ...job("job-running", "2026-01-16T00:00:00Z", "2026-01-17T00:00:00Z", "2026-01-17T01:00:00Z"), status: "IN_PROGRESS" },
  ];
  for (const j of gladly.jobs) {
    for (const f of j.files) gladly.files.set(`${j.id}/${f}`, agents(j.id));
  }
});

function job(id: string, startAt: string, endAt: string, updatedAt: string): ExportJob {
  return { id, status: "COMPLETED", parameters: { type: "FULL", startAt, endAt }, updatedAt, files: ["agents.jsonl", "customers.jsonl", "conversation_items.jsonl", "topics.jsonl"] };
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

  it("accepts a raw file name and an explicit job id", async () => {
    const files = await extractFiles(makeContext({ source: { base_url: gladly.url }, stream: { kind: "export", file: "conversation_items.jsonl", job_id: "job-old" } }));
    expect(files[0]!.name).toBe("conversation_items.jsonl");
    expect(files[0]!.bytes.toString("utf8")).toBe(agents("job-old"));
    expect(gladly.requests.map((r) => r.path)).toEqual(["/api/v1/export/jobs/job-old/files/conversation_items.jsonl"]);
  });

  it("fails clearly when no completed job covers the window", async () => {
    const error = await extractError(makeContext({ source: { base_url: gladly.url }, stream: { kind: "export", file: "agents" }, logicalDate: "2026-01-20" }));
    expect(error.message).toMatch(/no completed Gladly export job covers the window ending 2026-01-21T00:00:00\+00:00 \(3 completed job\(s\), the latest ends 2026-01-16T12:00:00Z\)/);
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

  it("turns a 404 for a missing file into a clear error", async () => {
    const error = await extractError(makeContext({ source: { base_url: gladly.url }, stream: { kind: "export", file: "agents", job_id: "job-nope" } }));
    expect(error.message).toMatch(/GET \/api\/v1\/export\/jobs\/job-nope\/files\/agents.jsonl \(export file agents.jsonl of job job-nope\) failed with HTTP 404/);
  });
});
