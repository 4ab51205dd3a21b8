/**
 * The step contract: `run` gets options its schema parsed, returns a result small and
 * plain enough for XCom and `when:` conditions, and stops when the task is cancelled.
 */
import type { StepResult, StepType, XoPlugin } from "@xo-foundry/core";
import { stepContext, type StepContextOverrides } from "../context.js";
import { check, subjectOf, type ContractCheck, type Fail, type SuiteOptions } from "./check.js";
import { abortReason, definitionCheck, expectDeclaredCode, isAbortError, notPlainJson, pick, pluginChecks, schemaChecks, settleWithin, truncate } from "./common.js";
import { registerChecks } from "./register.js";

/** What a run gets besides its options and signal (warehouses, landing, upstream summaries, state). */
export type StepEnvironment = Omit<StepContextOverrides<unknown>, "options" | "signal">;

export interface StepContractInput {
  readonly plugin: XoPlugin;
  /** The step type's id; optional when the plugin provides one step type. */
  readonly step?: string;
  /** `with:` blocks the README documents; each is run, and must pass the schema the core applies. */
  readonly examples: readonly Record<string, unknown>[];
  /**
   * The services a run needs, bound to `signal` the way the runtime binds them (a warehouse
   * built for this run, `scriptedWarehouse({ signal })`). Called once per run.
   */
  environment?(signal: AbortSignal): StepEnvironment | Promise<StepEnvironment>;
  /** How long a run may go on after an abort; 2000 ms by default. */
  readonly abortWithinMs?: number;
}

export function stepChecks(input: StepContractInput): ContractCheck[] {
  const step = pick(input.plugin, input.plugin.steps, "step type", input.step) as StepType;
  const subject = subjectOf(input.plugin, "step", step.id);
  const within = input.abortWithinMs ?? 2000;

  async function run(example: Record<string, unknown>, signal: AbortSignal): Promise<StepResult> {
    // The core parses `with:` strictly, applying defaults, before `run` sees it.
    const options = step.options.strict().parse(example);
    const environment = (await input.environment?.(signal)) ?? {};
    return step.run(stepContext({ ...environment, options, signal }));
  }

  return [
    ...pluginChecks(subject, input.plugin),
    definitionCheck(subject, step),
    ...schemaChecks(subject, "with", step.options, input.examples),

    check(subject, "returns a plain JSON result for each example", async (fail: Fail) => {
      for (const [i, example] of input.examples.entries()) {
        let result: StepResult;
        try {
          result = await run(example, new AbortController().signal);
        } catch (e) {
          expectDeclaredCode(fail, input.plugin, e, `example ${i}`);
          throw e;
        }
        const where = `example ${i} returned ${truncate(JSON.stringify(result))}`;
        if (typeof result !== "object" || result === null || Array.isArray(result)) fail(`${where}, not an object`, "return { summary?, reads?, writes?, skip?, state?, warnings?, failure? }");
        const extra = Object.keys(result).filter((k) => !["summary", "reads", "writes", "skip", "state", "warnings", "failure"].includes(k));
        if (extra.length > 0) fail(`${where}, with keys the runtime drops: ${extra.join(", ")}`, "put what downstream tasks need into `summary`");
        if (result.summary !== undefined) {
          if (typeof result.summary !== "object" || result.summary === null || Array.isArray(result.summary)) fail(`${where}: summary is not an object`, "make `summary` a JSON object");
          const problem = notPlainJson(result.summary, "summary");
          if (problem) fail(`${where}: ${problem}`, "keep the summary to plain JSON (numbers, strings, booleans, null, arrays, objects); it travels as JSON to XCom and `when:`");
          if (JSON.stringify(result.summary).length > 48 * 1024) fail(`${where}: the summary is over 48 KiB`, "keep the summary small (counts, ids); write data to the warehouse or the landing zone");
        }
        for (const key of ["reads", "writes"] as const) {
          const refs = result[key];
          if (refs === undefined) continue;
          if (!Array.isArray(refs)) fail(`${where}: ${key} is not an array`, `give ${key} as [{ uri }]`);
          for (const ref of refs) {
            if (typeof ref?.uri !== "string" || !URL.canParse(ref.uri)) fail(`${where}: ${key} holds ${JSON.stringify(ref)}, not { uri } with a URI`, "name datasets by URI, e.g. duckdb:///path/db.duckdb#main.orders");
          }
        }
        if (result.skip !== undefined && (typeof result.skip !== "string" || result.skip === "")) fail(`${where}: skip is not a reason`, "give `skip` as a sentence saying why the task skipped");
        if (result.state !== undefined) {
          const entries = typeof result.state === "object" && result.state !== null && !Array.isArray(result.state) ? Object.entries(result.state) : undefined;
          if (!entries) fail(`${where}: state is not an object of state keys`, "give `state` as { <key>: <JSON object> }, e.g. { export__orders: { watermark: ... } }");
          for (const [key, value] of entries ?? []) {
            if (!/^[a-z][a-z0-9_]*$/.test(key)) fail(`${where}: state key ${JSON.stringify(key)} is not a safe name`, "use stepStateKey(kind, ctx.taskId) from @xo-foundry/core");
            if (typeof value !== "object" || value === null || Array.isArray(value) || notPlainJson(value, `state.${key}`)) {
              fail(`${where}: state.${key} is not a plain JSON object`, "stage a JSON object per key; it is saved as the key's state");
            }
          }
        }
      }
    }),

    check(subject, "rejects with the abort reason when the signal is aborted", async (fail: Fail) => {
      const example = input.examples[0];
      if (!example) fail("the test gave no example options", "pass examples");
      const controller = new AbortController();
      const reason = abortReason();
      controller.abort(reason);
      const settled = await settleWithin(run(example, controller.signal), within);
      if (settled.state === "pending") fail(`it was still running ${within} ms after the abort`, "pass ctx.signal to every call that waits, and stop when it aborts");
      if (settled.state === "resolved") fail("it succeeded although the task was cancelled", "check ctx.signal (signal.throwIfAborted()) before doing work and pass it to every call that waits");
      if (!isAbortError(settled.error, reason)) fail(`it failed with ${String(settled.error)} instead of the abort`, "rethrow ctx.signal.reason, so the runtime can tell a cancelled task from a failed one");
    }),
  ];
}

/** Registers the step contract as a vitest `describe` block. */
export function describeStep(input: StepContractInput, options: SuiteOptions = {}): void {
  const step = pick(input.plugin, input.plugin.steps, "step type", input.step);
  registerChecks(`step contract: ${input.plugin.name} ${step.id}`, stepChecks(input), options);
}
