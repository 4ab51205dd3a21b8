/**
 * The suites against correct in-memory plugins (every check passes) and against plugins
 * broken in one way each (the check for that promise fails, naming plugin, check and fix).
 */
import { describe, expect, it } from "vitest";
import { definePlugin, emitDag, type XoPlugin } from "@xo-foundry/core";
import { z } from "zod";
import { ContractViolation, runCheck, type ContractCheck } from "./check.js";
import { sourceChecks, type SourceContractInput } from "./source.js";
import { sinkChecks, type SinkContractInput } from "./sink.js";
import { stepChecks } from "./step.js";
import { landingChecks } from "./landing.js";
import { templateChecks } from "./template.js";
import { pluginChecks } from "./common.js";
import { scriptedWarehouse } from "../warehouse.js";
import {
  fakeSinkPlugin,
  fakeSourcePlugin,
  fakeStepPlugin,
  fakeTemplatePlugin,
  memoryLanding,
  memoryPlace,
  serveFromMemory,
  type LandingFault,
  type SinkFault,
  type SourceFault,
  type StepFault,
  type TemplateFault,
} from "../__fixtures__/fakes.js";

/** The violation `name` fails with; fails the test when the check passes. */
async function violation(checks: readonly ContractCheck[], name: string): Promise<ContractViolation> {
  try {
    await runCheck(checks, name);
  } catch (e) {
    if (e instanceof ContractViolation) return e;
    throw e;
  }
  throw new Error(`check ${JSON.stringify(name)} passed, expected it to fail`);
}

const passAll = (make: () => readonly ContractCheck[]) => {
  it.each(make().map((c) => [c.name, c] as const))("passes: %s", async (_name, c) => {
    await c.run();
  });
};

describe("plugin checks", () => {
  const subject = { plugin: "broken@1.0.0", kind: "source", id: "x" } as const;

  it("refuse a plugin of another API version, naming the versions", async () => {
    const plugin = { ...definePlugin({ name: "broken", version: "1.0.0" }), apiVersion: 1 } as XoPlugin;
    const e = await violation(pluginChecks(subject, plugin), "is a plugin of this plugin API");
    expect(e.message).toMatch(/^broken@1\.0\.0 source "x" fails the contract check "is a plugin of this plugin API": its apiVersion is 1, this core speaks 2\n {2}fix: /);
  });

  it("refuse an error code that is not UPPER_SNAKE_CASE", async () => {
    const plugin = definePlugin({ name: "broken", version: "1.0.0", errors: { "bad-code": "x" } });
    const e = await violation(pluginChecks(subject, plugin), "describes every error code it declares");
    expect(e.problem).toBe('error code "bad-code" is not UPPER_SNAKE_CASE');
  });
});

// ---------------------------------------------------------------- source

const sourceInput = (fault?: SourceFault, asFile = false): SourceContractInput => ({
  plugin: fakeSourcePlugin(fault),
  examples: [{ options: { page_size: 10 }, stream: { key: "orders" } }],
  serve: (records) => serveFromMemory(records, asFile),
  stall: () => ({ options: {}, stream: { key: "stall" } }),
  refuse: () => ({ options: {}, stream: { key: "refuse" } }),
  abortWithinMs: 300,
  records: 120,
});

describe("source contract", () => {
  describe("a correct source", () => passAll(() => sourceChecks(sourceInput())));
  describe("a correct source of files", () => passAll(() => sourceChecks(sourceInput(undefined, true))));

  const cases: [SourceFault, string, RegExp][] = [
    ["ignores-abort", "stops promptly with the abort reason when aborted", /still extracting 300 ms after the abort/],
    ["not-deterministic", "is deterministic: the same origin twice gives the same batches", /two extracts of the same origin differ/],
    ["normalizes-strings", "keeps hostile strings unchanged", /what it read differs from what the origin holds/],
    ["yields-dates", "yields valid batches holding every record the origin holds", /record 0\["seen"\] is a Date, not a plain object/],
    ["undeclared-code", "fails with declared error codes when the origin refuses", /code MEMORY_REFUSED_UNDECLARED, which the plugin does not declare/],
  ];
  it.each(cases)("fails when it %s", async (fault, name, message) => {
    const e = await violation(sourceChecks(sourceInput(fault)), name);
    expect(e.message).toContain(`fake-source@1.0.0 source "memory" fails the contract check "${name}"`);
    expect(e.message).toMatch(message);
    expect(e.message).toMatch(/\n {2}fix: \S/);
  });

  it("fails a file batch whose name is a path", async () => {
    const e = await violation(sourceChecks(sourceInput("unsafe-file-name", true)), "yields valid batches holding every record the origin holds");
    expect(e.problem).toMatch(/names its file "\.\.\/page 0\.ndjson": it holds a path separator/);
  });

  it("fails documented examples the strict schema refuses, and names the key", async () => {
    const input = { ...sourceInput(), examples: [{ options: { page_size: 10, pagesize: 3 }, stream: { key: "x" } }] };
    const e = await violation(sourceChecks(input), "options: accepts the documented examples");
    expect(e.problem).toMatch(/example 0 .* is refused: .*pagesize/);
  });
});

// ---------------------------------------------------------------- sink

const sinkInput = (fault?: SinkFault): SinkContractInput => ({
  plugin: fakeSinkPlugin(fault),
  examples: [{ options: { db: "x" }, target: { table: "orders" } }],
  place: memoryPlace,
  rows: 60,
});

describe("sink contract", () => {
  describe("a correct sink", () => passAll(() => sinkChecks(sinkInput())));

  const cases: [SinkFault, string, RegExp][] = [
    ["duplicates", "does not duplicate rows when the same manifest loads again", /loading one manifest of 60 rows twice \(strategy full_refresh, no target options\) the table holds 120 rows/],
    ["not-transactional", "fails a corrupt file with a declared code and keeps the table as it was", /the failed load changed the table \(20 rows before, 21 after/],
    ["uncoded-errors", "fails a corrupt file with a declared code and keeps the table as it was", /failed without an error code \(SyntaxError: .*\); users see XO_STEP_FAILED/],
    ["normalizes-strings", "keeps hostile values unchanged, or refuses them with a declared code", /came back as/],
    ["miscounts", "loads N generated rows and reports rowsLoaded N", /reported rowsLoaded 61 for 60 rows/],
    ["drops-odd-columns", "keeps hostile column names, or refuses them with a declared code", /column "say \\"hi\\"" came back as missing/],
  ];
  it.each(cases)("fails when it %s", async (fault, name, message) => {
    const e = await violation(sinkChecks(sinkInput(fault)), name);
    expect(e.message).toContain(`fake-sink@1.0.0 sink "memory" fails the contract check "${name}"`);
    expect(e.message).toMatch(message);
  });
});

// ---------------------------------------------------------------- step

const stepInput = (fault?: StepFault) => ({
  plugin: fakeStepPlugin(fault),
  examples: fault === "loose-schema" ? [{ rows: 3 }] : [{ rows: 3 }, {}],
  environment: (signal: AbortSignal) => ({ warehouses: { main: scriptedWarehouse({ signal }) } }),
  abortWithinMs: 300,
});

describe("step contract", () => {
  describe("a correct step", () => passAll(() => stepChecks(stepInput())));

  const cases: [StepFault, string, RegExp][] = [
    ["ignores-abort", "rejects with the abort reason when the signal is aborted", /it succeeded although the task was cancelled/],
    ["summary-with-date", "returns a plain JSON result for each example", /summary\["at"\] is a Date/],
    ["extra-keys", "returns a plain JSON result for each example", /with keys the runtime drops: rows/],
    ["loose-schema", "with: accepts the documented examples", /example 0 \{"rows":3\} is refused/],
  ];
  it.each(cases)("fails when it %s", async (fault, name, message) => {
    const e = await violation(stepChecks(stepInput(fault)), name);
    expect(e.message).toContain(`fake-step@1.0.0 step "memory.count" fails the contract check "${name}"`);
    expect(e.message).toMatch(message);
  });

  it("fails an options schema that is not a zod object", async () => {
    const plugin = definePlugin({ name: "odd", version: "1.0.0", steps: [{ id: "odd.step", description: "odd", options: z.record(z.string(), z.unknown()) as never, run: async () => ({}) }] });
    const e = await violation(stepChecks({ plugin, examples: [{}] }), "with: refuses an unknown key");
    expect(e.problem).toBe("`with` is not a zod object schema");
  });
});

// ---------------------------------------------------------------- landing store

const landingInput = (fault?: LandingFault) => ({
  provider: "fake-landing@1.0.0",
  scheme: "memory",
  capabilities: { createText: true, copy: true },
  open: () => ({ ...memoryLanding(fault), root: "memory://bucket/root" }),
});

describe("landing store contract", () => {
  describe("a correct store", () => passAll(() => landingChecks(landingInput())));

  const cases: [LandingFault, string, RegExp][] = [
    ["lists-siblings", "lists every object under a folder-like prefix, in code-point order, every time", /listing memory:\/\/bucket\/root\/in gave .*in-sibling/],
    ["unsorted", "lists every object under a folder-like prefix, in code-point order, every time", /expected \["memory:\/\/bucket\/root\/in\/deep/],
    ["partial-writes", "leaves nothing behind when a write's body fails", /left an object under its URI/],
    ["aliased-copies", "copies stay as they were when the original is replaced or deleted", /replacing the original changed the copy/],
    ["racy-create", "createText creates only once, atomically", /10 of 10 concurrent createText calls won/],
    ["no-create", "createText creates only once, atomically", /has no createText, although it is documented to have one/],
  ];
  it.each(cases)("fails when it %s", async (fault, name, message) => {
    const e = await violation(landingChecks(landingInput(fault)), name);
    expect(e.message).toContain(`fake-landing@1.0.0 landing store "memory" fails the contract check "${name}"`);
    expect(e.message).toMatch(message);
  });
});

// ---------------------------------------------------------------- template

describe("template contract", () => {
  describe("a correct template", () => passAll(() => templateChecks({ plugin: fakeTemplatePlugin() })));

  const cases: [TemplateFault, string, RegExp][] = [
    ["not-deterministic", "builds the same graph and byte-identical Python every time", /two calls of tasks\(\) on one pipeline differ/],
    ["ids-from-dag-id", "keeps hostile strings out of code and out of Jinja", /rendering with hostile string #1 .* \(bash runner, Airflow 2\) in the config threw XoError: task id .* is not a safe name/],
  ];
  it.each(cases)("fails when it %s", async (fault, name, message) => {
    const e = await violation(templateChecks({ plugin: fakeTemplatePlugin(fault) }), name);
    expect(e.message).toContain(`fake-template@1.0.0 template "memory" fails the contract check "${name}"`);
    expect(e.message).toMatch(message);
  });

  it("fails an emitter that drops literal(), naming the argument that reaches Jinja", async () => {
    const render = (input: Parameters<typeof emitDag>[0]) => emitDag(input).replaceAll("literal(", "(");
    const e = await violation(templateChecks({ plugin: fakeTemplatePlugin(), render }), "keeps hostile strings out of code and out of Jinja");
    expect(e.problem).toMatch(/^with hostile string #16 "\{\{ ds \}\}" \(kubernetes runner, Airflow 2\) in the config: argument namespace of KubernetesPodOperator passes "\{\{ ds \}\}" to Jinja unescaped/);
  });

  it("fails an emitter whose output does not parse", async () => {
    const render = (input: Parameters<typeof emitDag>[0]) => `${emitDag(input)}\ndef (:\n`;
    const e = await violation(templateChecks({ plugin: fakeTemplatePlugin(), render }), "renders Python that parses");
    expect(e.problem).toMatch(/^the generated file does not parse: 0 does not parse: SyntaxError/);
  });
});
