/**
 * Runs `api.send` once in a process of its own, for the kill test: the landing zone and the
 * state file are on disk, so what the process did survives a SIGKILL. Started by run-ts.mjs
 * with one JSON argument; prints the step's summary as JSON when it completes.
 */
import type { Connection, TaskSummary } from "@xo-foundry/core";
import { stepContext } from "@xo-foundry/testkit";
import { apiSend } from "../send.js";
import { sendOptions } from "../send-options.js";
import { fileStateStore, folderLanding } from "./landing.js";

export interface ChildInput {
  readonly landingDir: string;
  readonly stateFile: string;
  readonly upstream: Record<string, TaskSummary>;
  readonly options: Record<string, unknown>;
  readonly connection?: Connection;
  readonly taskId: string;
}

export async function main(input: ChildInput): Promise<void> {
  const result = await apiSend.run(
    stepContext({
      options: sendOptions.strict().parse(input.options),
      taskId: input.taskId,
      landing: folderLanding(input.landingDir),
      state: fileStateStore(input.stateFile),
      upstream: input.upstream,
      ...(input.connection ? { connection: input.connection } : {}),
    }),
  );
  process.stdout.write(`${JSON.stringify(result.summary)}\n`);
}
