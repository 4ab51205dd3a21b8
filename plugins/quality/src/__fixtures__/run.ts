/** Runs `quality.check` the way the runtime does: options parsed by its schema, a context from the testkit, a recording logger. */
import type { CheckResult, StepResult } from "@xo-foundry/core";
import { recordingLogger, stepContext, type RecordingLogger, type StepContextOverrides } from "@xo-foundry/testkit";
import { checkStepOptions, qualityCheck, type CheckOptions } from "../index.js";

export async function runChecks(
  options: Record<string, unknown>,
  env: Omit<StepContextOverrides<CheckOptions>, "options">,
): Promise<{ result: StepResult; log: RecordingLogger }> {
  const log = recordingLogger();
  const ctx = { ...stepContext({ taskId: "check_orders", ...env, options: checkStepOptions.parse(options) }), log };
  return { result: await qualityCheck.run(ctx), log };
}

export function checksOf(result: StepResult): CheckResult[] {
  return (result.summary?.checks ?? []) as unknown as CheckResult[];
}
