/**
 * The Gladly source against the testkit's source contract, through its `export` streams:
 * the emulator (src/__fixtures__/gladly-server.ts, after Gladly's published Export API)
 * serves the records as the NDJSON file of a completed export job. A scripted server that
 * never answers stands in for a hung Gladly.
 */
import { afterAll, beforeAll } from "vitest";
import type { SourceScenario } from "@xo-foundry/testkit";
import { describeSource, useScriptedServer } from "@xo-foundry/testkit";
import { gladly } from "./index.js";
import { startGladlyEmulator, type GladlyEmulator } from "./__fixtures__/gladly-server.js";
import { connection } from "./__fixtures__/harness.js";

let emulator: GladlyEmulator;
beforeAll(async () => {
  emulator = await startGladlyEmulator();
});
afterAll(() => emulator.close());
const hung = useScriptedServer();

const JOB = "job-contract";
const stream = { kind: "export", file: "agents", job_id: JOB };

/** A completed export job whose agents.jsonl holds `text`. */
function job(text: string): SourceScenario {
  emulator.reset();
  const now = new Date().toISOString();
  emulator.jobs = [{ id: JOB, scheduleId: "contract", status: "COMPLETED", parameters: { type: "CONVERSATIONS", startAt: now, endAt: now }, updatedAt: now, files: ["agents.jsonl"] }];
  emulator.files.set(`${JOB}/agents.jsonl`, text);
  return { options: { base_url: emulator.url, backoff_ms: 10 }, stream, connection: connection() };
}

describeSource({
  plugin: gladly(),
  // The source blocks and streams the README shows.
  examples: [
    { options: { organization: "acme" }, stream: { kind: "report", metric_set: "ContactTimestampsReport" } },
    { options: { organization: "acme" }, stream: { kind: "export", file: "agents" } },
  ],
  serve: (records) => job(records.map((r) => `${JSON.stringify(r)}\n`).join("")),
  stall() {
    hung.reset();
    hung.route({ path: /.*/, respond: { stall: true } });
    return { options: { base_url: hung.url, backoff_ms: 10 }, stream, connection: connection() };
  },
  refuse() {
    const scenario = job("");
    // Gladly answers 401 to a wrong API token.
    return { ...scenario, connection: connection({ password: "not-the-token" }) };
  },
});
