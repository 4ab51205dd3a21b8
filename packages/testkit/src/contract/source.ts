/**
 * The source contract: what the runtime relies on when it drains `extract` into the
 * landing zone. The test supplies the origin (a scripted server, a bucket, files); the
 * checks decide what it holds and compare what comes out.
 */
import { isDeepStrictEqual } from "node:util";
import type { Connection, ExtractBatch, FileFormat, JsonObject, SourceDefinition, XoPlugin } from "@xo-foundry/core";
import { extractContext } from "../context.js";
import { generateRecords } from "../generate.js";
import { HOSTILE_COLUMN_NAMES, HOSTILE_TEXT } from "../hostile.js";
import { check, subjectOf, type ContractCheck, type Fail, type SuiteOptions } from "./check.js";
import {
  abortReason,
  definitionCheck,
  expectDeclaredCode,
  firstDifference,
  isAbortError,
  notPlainJson,
  pick,
  pluginChecks,
  schemaChecks,
  settleWithin,
  sortedRecords,
  truncate,
} from "./common.js";
import { registerChecks } from "./register.js";

/** How to read one stream from an origin the test prepared. */
export interface SourceScenario {
  /** The source block's options, as a user writes them. */
  readonly options: Record<string, unknown>;
  /** The stream entry's options (without `name` and `target`). */
  readonly stream: Record<string, unknown>;
  readonly connection?: Connection;
  readonly state?: JsonObject;
  /** Called when the check is done with the scenario. */
  cleanup?(): void | Promise<void>;
}

export interface SourceExample {
  readonly options: Record<string, unknown>;
  readonly stream: Record<string, unknown>;
}

export interface SourceContractInput {
  readonly plugin: XoPlugin;
  /** The source's id; optional when the plugin provides one source. */
  readonly source?: string;
  /** Option blocks the README documents; each must pass the schemas the core applies. */
  readonly examples: readonly SourceExample[];
  /** Makes the origin hold exactly `records`, in this order, and says how to read them. */
  serve(records: readonly JsonObject[]): SourceScenario | Promise<SourceScenario>;
  /** Makes the origin stall (accept the request and never answer) and says how to read from it. */
  stall(): SourceScenario | Promise<SourceScenario>;
  /** An origin that refuses for good (401, 404, a missing bucket), to check the error codes. */
  refuse?(): SourceScenario | Promise<SourceScenario>;
  /** Turns a file batch into records, for formats other than ndjson and json. */
  readFile?(batch: { readonly name: string; readonly format: FileFormat }, bytes: Buffer): JsonObject[];
  /** How long extraction may go on after an abort; 2000 ms by default. */
  readonly abortWithinMs?: number;
  /** How many records the checks serve; 250 by default (several pages for most page sizes). */
  readonly records?: number;
}

interface Drained {
  readonly records: JsonObject[];
  readonly states: JsonObject[];
  /** Every batch in order, file bodies read, for comparing two runs. */
  readonly trace: unknown[];
}

export function sourceChecks(input: SourceContractInput): ContractCheck[] {
  const source = pick(input.plugin, input.plugin.sources, "source", input.source);
  const subject = subjectOf(input.plugin, "source", source.id);
  const count = input.records ?? 250;
  const within = input.abortWithinMs ?? 2000;

  async function drain(scenario: SourceScenario, fail: Fail, signal?: AbortSignal): Promise<Drained> {
    const ctx = extractContext({
      options: scenario.options,
      streamOptions: scenario.stream,
      stream: { name: "contract_items" },
      plugin: source.id,
      ...(scenario.connection ? { connection: scenario.connection } : {}),
      ...(scenario.state ? { state: scenario.state } : {}),
      ...(signal ? { signal } : {}),
    });
    const out: Drained = { records: [], states: [], trace: [] };
    let index = 0;
    for await (const batch of (source as SourceDefinition).extract(ctx) as AsyncIterable<ExtractBatch>) {
      const where = `batch ${index++}`;
      if (typeof batch !== "object" || batch === null) fail(`${where} is ${String(batch)}, not a batch`, "yield { type: 'records' | 'file' | 'state', ... }");
      switch (batch.type) {
        case "records": {
          if (!Array.isArray(batch.records)) fail(`${where} has no records array`, "yield { type: 'records', records: [...] }");
          batch.records.forEach((record, i) => {
            if (typeof record !== "object" || record === null || Array.isArray(record)) {
              fail(`${where} record ${i} is ${truncate(JSON.stringify(record))}, not an object`, "yield one JSON object per record");
            }
            const problem = notPlainJson(record, `record ${i}`);
            if (problem) fail(`${where}: ${problem}`, "yield plain JSON (strings for dates, numbers within JSON's range); the runtime writes records with JSON.stringify");
          });
          out.records.push(...(batch.records as JsonObject[]));
          out.trace.push({ records: batch.records });
          break;
        }
        case "file": {
          const problem = fileNameProblem(batch.name);
          if (problem) fail(`${where} names its file ${JSON.stringify(batch.name)}: ${problem}`, "name files with letters, digits, `.`, `_` and `-` only (the runtime places them under the partition)");
          if (!FORMATS.includes(batch.format)) fail(`${where} has format ${JSON.stringify(batch.format)}`, `use one of ${FORMATS.join(", ")}`);
          if (batch.rows !== undefined && (!Number.isInteger(batch.rows) || batch.rows < 0)) fail(`${where} reports rows ${String(batch.rows)}`, "report a non-negative integer, or leave rows out");
          for (const [k, v] of Object.entries(batch.metadata ?? {})) {
            if (typeof v !== "string" && typeof v !== "number") fail(`${where} metadata ${k} is a ${typeof v}`, "keep metadata to strings and numbers; it goes into the manifest");
          }
          if (!batch.body || typeof (batch.body as AsyncIterable<unknown>)[Symbol.asyncIterator] !== "function") fail(`${where} has no async iterable body`, "give `body` as an AsyncIterable<Uint8Array>");
          const chunks: Buffer[] = [];
          for await (const chunk of batch.body) {
            if (!(chunk instanceof Uint8Array)) fail(`${where} body yielded a ${typeof chunk}, not a Uint8Array`, "yield bytes (Uint8Array or Buffer) from the body");
            chunks.push(Buffer.from(chunk));
          }
          const bytes = Buffer.concat(chunks);
          const records = readRecords(batch, bytes, fail, where);
          if (batch.rows !== undefined && batch.rows !== records.length) fail(`${where} reports ${batch.rows} rows but holds ${records.length}`, "report the file's real row count, or leave rows out");
          out.records.push(...records);
          out.trace.push({ name: batch.name, format: batch.format, rows: batch.rows, metadata: batch.metadata, bytes: bytes.toString("base64") });
          break;
        }
        case "state": {
          const problem = notPlainJson(batch.state, "state");
          if (typeof batch.state !== "object" || batch.state === null || Array.isArray(batch.state) || problem) {
            fail(`${where} has a state that is not a plain JSON object${problem ? ` (${problem})` : ""}`, "yield { type: 'state', state: { cursor: ... } }");
          }
          out.states.push(batch.state);
          out.trace.push({ state: batch.state });
          break;
        }
        default:
          fail(`${where} has type ${JSON.stringify((batch as { type?: unknown }).type)}`, "yield batches of type records, file or state");
      }
    }
    return out;
  }

  function readRecords(batch: { readonly name: string; readonly format: FileFormat }, bytes: Buffer, fail: Fail, where: string): JsonObject[] {
    if (input.readFile) return input.readFile(batch, bytes);
    const text = bytes.toString("utf8");
    try {
      if (batch.format === "ndjson") return text.split("\n").filter((line) => line.trim() !== "").map((line) => JSON.parse(line) as JsonObject);
      if (batch.format === "json") {
        const parsed = JSON.parse(text) as unknown;
        return (Array.isArray(parsed) ? parsed : [parsed]) as JsonObject[];
      }
    } catch (e) {
      fail(`${where} (${batch.format}) does not parse: ${(e as Error).message}`, "land well-formed files");
    }
    throw new Error(`the ${batch.format} file of ${where} needs \`readFile\` in the contract input to be read back`);
  }

  async function withScenario<T>(make: () => SourceScenario | Promise<SourceScenario>, use: (s: SourceScenario) => Promise<T>): Promise<T> {
    const scenario = await make();
    try {
      return await use(scenario);
    } finally {
      await scenario.cleanup?.();
    }
  }

  const compare = (fail: Fail, got: readonly JsonObject[], served: readonly JsonObject[], fix: string) => {
    const difference = firstDifference(sortedRecords(got), sortedRecords(served));
    if (difference) fail(`what it read differs from what the origin holds: ${difference}`, fix);
  };

  const checks: ContractCheck[] = [
    ...pluginChecks(subject, input.plugin),
    definitionCheck(subject, source),
    ...schemaChecks(subject, "options", source.options, input.examples.map((e) => e.options)),
    ...schemaChecks(subject, "stream", source.stream, input.examples.map((e) => e.stream)),

    check(subject, "yields valid batches holding every record the origin holds", async (fail: Fail) => {
      const served = generateRecords({ seed: 11, count, nullRate: 0.1 });
      const got = await withScenario(() => input.serve(served), (s) => drain(s, fail));
      compare(fail, got.records, served, "yield every record of every page once, unchanged");
    }),

    check(subject, "is deterministic: the same origin twice gives the same batches", async (fail: Fail) => {
      const served = generateRecords({ seed: 12, count, nullRate: 0.1 });
      const [first, second] = await withScenario(() => input.serve(served), async (s) => [await drain(s, fail), await drain(s, fail)] as const);
      if (!isDeepStrictEqual(first.trace, second.trace)) {
        const difference = firstDifference(second.trace, first.trace) ?? "the batches differ";
        fail(`two extracts of the same origin differ: ${difference}`, "derive every value from the origin and the context (window, state), never from the clock, randomness or iteration order of unordered sources");
      }
    }),

    check(subject, "keeps hostile strings unchanged", async (fail: Fail) => {
      const served: JsonObject[] = HOSTILE_TEXT.map((s, i) => ({ id: i + 1, value: s, [HOSTILE_COLUMN_NAMES[i % HOSTILE_COLUMN_NAMES.length]!]: s }));
      const got = await withScenario(() => input.serve(served), (s) => drain(s, fail));
      compare(fail, got.records, served, "pass strings through untouched: no trimming, normalising, unescaping or re-encoding");
    }),

    check(subject, "stops promptly with the abort reason when aborted", async (fail: Fail) => {
      await withScenario(() => input.stall(), async (scenario) => {
        const controller = new AbortController();
        const reason = abortReason();
        const running = drain(scenario, fail, controller.signal);
        // Let the source reach the stalled origin before aborting.
        await settleWithin(running, 200);
        controller.abort(reason);
        const settled = await settleWithin(running, within);
        if (settled.state === "pending") fail(`it was still extracting ${within} ms after the abort`, "pass ctx.signal to every request and wait, and stop when it aborts");
        if (settled.state === "resolved") fail("it ended normally although the signal was aborted, so the runtime would publish a partial partition", "throw ctx.signal.reason (signal.throwIfAborted()) when the signal aborts");
        if (!isAbortError(settled.error, reason)) fail(`it failed with ${String(settled.error)} instead of the abort`, "rethrow ctx.signal.reason when the signal aborts, so the runtime can tell a cancelled task from a failed one");
      });
    }),
  ];

  if (input.refuse) {
    const refuse = input.refuse;
    checks.push(
      check(subject, "fails with declared error codes when the origin refuses", async (fail: Fail) => {
        await withScenario(refuse, async (scenario) => {
          const settled = await settleWithin(drain(scenario, fail), 30_000);
          if (settled.state === "pending") fail("it was still extracting after 30 s against an origin that refuses", "give up on permanent errors (4xx other than 429) instead of retrying them");
          if (settled.state === "resolved") fail("it ended normally although the origin refused", "fail the extract when the origin refuses, or the runtime publishes an empty partition");
          expectDeclaredCode(fail, input.plugin, settled.error, "the extract");
        });
      }),
    );
  }
  return checks;
}

/** Registers the source contract as a vitest `describe` block. */
export function describeSource(input: SourceContractInput, options: SuiteOptions = {}): void {
  const source = pick(input.plugin, input.plugin.sources, "source", input.source);
  registerChecks(`source contract: ${input.plugin.name} ${source.id}`, sourceChecks(input), options);
}

const FORMATS: readonly FileFormat[] = ["ndjson", "csv", "json", "parquet"];

function fileNameProblem(name: unknown): string | undefined {
  if (typeof name !== "string" || name === "") return "it is empty";
  if (name.length > 200) return "it is longer than 200 characters";
  if (/[/\\]/.test(name)) return "it holds a path separator";
  if (name.startsWith(".")) return "it starts with a dot";
  if (!/^[A-Za-z0-9._-]+$/.test(name)) return "it holds characters other than letters, digits, `.`, `_` and `-`";
  return undefined;
}
