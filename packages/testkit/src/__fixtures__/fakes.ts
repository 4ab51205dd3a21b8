/**
 * Small in-memory plugins for the testkit's own tests: a correct one of each kind, and
 * switches that break exactly one promise of the contract each.
 */
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { z } from "zod";
import {
  compareCodePoints,
  definePlugin,
  streamTasks,
  type ExtractBatch,
  type JsonObject,
  type LandingStore,
  type LoadContext,
  type LoadResult,
  type SinkDefinition,
  type SourceDefinition,
  type StepResult,
  type StepType,
  type TemplateDefinition,
  type Warehouse,
  type XoPlugin,
} from "@xo-foundry/core";

const tick = () => new Promise((resolve) => setImmediate(resolve));

/** Resolves never, rejects with the signal's reason when it aborts. */
function hang(signal: AbortSignal): Promise<never> {
  return new Promise((_resolve, reject) => {
    if (signal.aborted) reject(signal.reason as Error);
    signal.addEventListener("abort", () => reject(signal.reason as Error), { once: true });
  });
}

// ---------------------------------------------------------------- source

/** Where the fake source reads from: named record lists, and `stall` that never answers. */
export const origin = new Map<string, readonly JsonObject[]>();
let served = 0;

export type SourceFault = "ignores-abort" | "not-deterministic" | "normalizes-strings" | "yields-dates" | "unsafe-file-name" | "undeclared-code";

export function fakeSourcePlugin(fault?: SourceFault): XoPlugin {
  const source: SourceDefinition = {
    id: "memory",
    description: "Reads records from the test's memory.",
    options: z.object({ page_size: z.number().int().positive().default(50) }),
    stream: z.object({ key: z.string(), as_file: z.boolean().default(false) }),
    async *extract(ctx): AsyncGenerator<ExtractBatch> {
      const options = z.object({ page_size: z.number().default(50) }).parse(ctx.options);
      const key = String(ctx.streamOptions.key);
      if (key === "stall") {
        if (fault === "ignores-abort") await new Promise((resolve) => setTimeout(resolve, 60_000).unref());
        else await hang(ctx.signal);
      }
      if (key === "refuse") {
        throw Object.assign(new Error("the origin refused"), { code: fault === "undeclared-code" ? "MEMORY_REFUSED_UNDECLARED" : "XO_MEMORY_REFUSED" });
      }
      const records = origin.get(key) ?? [];
      for (let i = 0; i < records.length; i += options.page_size) {
        await tick();
        ctx.signal.throwIfAborted();
        let page = records.slice(i, i + options.page_size) as Record<string, unknown>[];
        if (fault === "not-deterministic") page = page.map((r) => ({ ...r, fetched: Math.random() }));
        if (fault === "normalizes-strings") page = page.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === "string" ? v.normalize("NFC") : v])));
        if (fault === "yields-dates") page = page.map((r) => ({ ...r, seen: new Date(0) }));
        if (ctx.streamOptions.as_file === true) {
          const text = page.map((r) => `${JSON.stringify(r)}\n`).join("");
          yield {
            type: "file",
            name: fault === "unsafe-file-name" ? `../page ${i}.ndjson` : `page-${i}.ndjson`,
            format: "ndjson",
            rows: page.length,
            body: (async function* () {
              yield Buffer.from(text);
            })(),
          };
        } else yield { type: "records", records: page };
      }
      yield { type: "state", state: { count: records.length } };
    },
  };
  return definePlugin({ name: "fake-source", version: "1.0.0", sources: [source], errors: { XO_MEMORY_REFUSED: "the memory origin refused" } });
}

export function serveFromMemory(records: readonly JsonObject[], asFile = false) {
  const key = `k${++served}`;
  origin.set(key, records);
  return { options: { page_size: 40 }, stream: { key, as_file: asFile }, cleanup: () => void origin.delete(key) };
}

// ---------------------------------------------------------------- sink

export type SinkFault = "duplicates" | "not-transactional" | "uncoded-errors" | "normalizes-strings" | "miscounts" | "drops-odd-columns";

const databases = new Map<string, Map<string, JsonObject[]>>();
let places = 0;

export function fakeSinkPlugin(fault?: SinkFault): XoPlugin {
  const sink: SinkDefinition = {
    id: "memory",
    description: "Loads into tables in the test's memory.",
    options: z.object({ db: z.string() }),
    target: z.object({ table: z.string().optional() }),
    async load(ctx: LoadContext): Promise<LoadResult> {
      const db = databases.get(String(ctx.options.db))!;
      const table = String(ctx.target.table ?? ctx.stream.name);
      const date = ctx.manifest.logicalDate;
      const parsed: JsonObject[][] = [];
      const existing = db.get(table) ?? [];
      let working = fault === "duplicates" || ctx.strategy !== "full_refresh" ? existing.filter((r) => fault === "duplicates" || r._date !== date) : [];
      for (const file of ctx.manifest.files) {
        const text = await readFile(await ctx.localPath(file), "utf8");
        let rows: JsonObject[];
        try {
          rows = text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as JsonObject);
        } catch (e) {
          if (fault === "not-transactional") db.set(table, working);
          if (fault === "uncoded-errors") throw e;
          throw Object.assign(new Error(`${file.uri} is not NDJSON: ${(e as Error).message}`), { code: "XO_MEMORY_BAD_FILE" });
        }
        if (fault === "normalizes-strings") rows = rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === "string" ? v.normalize("NFC") : v])));
        if (fault === "drops-odd-columns") rows = rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => /^\w+$/.test(k))));
        parsed.push(rows);
        if (fault === "not-transactional") working = [...working, ...rows.map((r) => ({ ...r, _date: date }))];
      }
      const incoming = parsed.flat().map((r) => ({ ...r, _date: date }));
      if (fault !== "not-transactional") working = [...working, ...incoming];
      db.set(table, working);
      return { table, rowsLoaded: incoming.length + (fault === "miscounts" ? 1 : 0), rowsInTable: working.length };
    },
    warehouse: (ctx): Warehouse => {
      const db = databases.get(String(ctx.options.db))!;
      return {
        dialect: "memory",
        query: async (sql) => {
          const match = /^SELECT \* FROM (.+)$/.exec(sql);
          if (!match) throw new Error(`the memory warehouse only answers SELECT * FROM <table>, not ${sql}`);
          return db.get(match[1]!) ?? [];
        },
        execute: async () => {},
        exportQuery: async () => [],
        describe: async () => undefined,
      };
    },
  };
  return definePlugin({ name: "fake-sink", version: "1.0.0", sinks: [sink], errors: { XO_MEMORY_BAD_FILE: "a landed file does not parse" } });
}

export async function memoryPlace() {
  const db = `db${++places}`;
  databases.set(db, new Map());
  const projectDir = await mkdtemp(path.join(os.tmpdir(), "xo-testkit-sink-"));
  return {
    projectDir,
    options: { db },
    cleanup: async () => {
      databases.delete(db);
      await rm(projectDir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------- step

export type StepFault = "ignores-abort" | "summary-with-date" | "loose-schema" | "extra-keys";

export function fakeStepPlugin(fault?: StepFault): XoPlugin {
  const options = fault === "loose-schema" ? z.object({}) : z.object({ rows: z.number().int().default(1) });
  const step: StepType<{ rows?: number }> = {
    id: "memory.count",
    description: "Counts to `rows`.",
    options,
    async run(ctx): Promise<StepResult> {
      if (fault !== "ignores-abort") ctx.signal.throwIfAborted();
      await tick();
      if (fault === "summary-with-date") return { summary: { rows: ctx.options.rows ?? 1, at: new Date(0) as unknown as string } };
      if (fault === "extra-keys") return { summary: { rows: 1 }, rows: 1 } as never;
      return { summary: { rows: ctx.options.rows ?? 1 }, writes: [{ uri: "memory://tables/counts" }] };
    },
  };
  return definePlugin({ name: "fake-step", version: "1.0.0", steps: [step] });
}

// ---------------------------------------------------------------- landing store

export type LandingFault = "lists-siblings" | "unsorted" | "partial-writes" | "aliased-copies" | "racy-create" | "no-create";

/** A store in memory; `cleanup` removes the files `localPath` wrote. */
export function memoryLanding(fault?: LandingFault): { store: LandingStore; cleanup(): Promise<void> } {
  const objects = new Map<string, Buffer | { link: string }>();
  const downloads: string[] = [];
  const bytesOf = (uri: string): Buffer | undefined => {
    const o = objects.get(uri);
    return o === undefined ? undefined : Buffer.isBuffer(o) ? o : bytesOf(o.link);
  };
  const under = (prefix: string) => [...objects.keys()].filter((k) => k.startsWith(fault === "lists-siblings" ? prefix : `${prefix}/`));
  const store: LandingStore = {
    async write(uri, body) {
      const chunks: Buffer[] = [];
      for await (const chunk of body) {
        chunks.push(Buffer.from(chunk));
        if (fault === "partial-writes") objects.set(uri, Buffer.concat(chunks));
      }
      const all = Buffer.concat(chunks);
      objects.set(uri, all);
      return { bytes: all.length, sha256: createHash("sha256").update(all).digest("hex") };
    },
    async *read(uri) {
      const b = bytesOf(uri);
      if (!b) throw new Error(`no object ${uri}`);
      yield b;
    },
    readText: async (uri) => bytesOf(uri)?.toString("utf8"),
    writeText: async (uri, text) => void objects.set(uri, Buffer.from(text)),
    async list(prefix) {
      const keys = under(prefix);
      if (fault !== "unsorted") keys.sort(compareCodePoints);
      else keys.reverse();
      return keys.map((uri) => ({ uri, bytes: bytesOf(uri)!.length }));
    },
    deletePrefix: async (prefix) => {
      for (const k of under(prefix)) objects.delete(k);
    },
    async localPath(uri) {
      const dir = await mkdtemp(path.join(os.tmpdir(), "xo-testkit-landing-"));
      downloads.push(dir);
      const file = path.join(dir, "object");
      await writeFile(file, bytesOf(uri) ?? Buffer.alloc(0));
      return file;
    },
    async copy(from, to) {
      objects.set(to, fault === "aliased-copies" ? { link: from } : Buffer.from(bytesOf(from)!));
    },
  };
  if (fault !== "no-create") {
    store.createText = async (uri, text) => {
      if (objects.has(uri)) return false;
      if (fault === "racy-create") await tick();
      objects.set(uri, Buffer.from(text));
      return true;
    };
  }
  return { store, cleanup: async () => void (await Promise.all(downloads.map((d) => rm(d, { recursive: true, force: true })))) };
}

// ---------------------------------------------------------------- template

export type TemplateFault = "not-deterministic" | "ids-from-dag-id";

export function fakeTemplatePlugin(fault?: TemplateFault): XoPlugin {
  const template: TemplateDefinition = {
    id: "memory",
    description: "Extract then load, per stream.",
    tasks(pipeline) {
      const tasks = streamTasks(pipeline.config, { groupBySource: false });
      if (fault === "not-deterministic") return tasks.map((t) => ({ ...t, description: `built at ${Math.random()}` }));
      if (fault === "ids-from-dag-id") {
        const prefix = pipeline.config.pipeline.dag_id;
        return tasks.map((t) => ({ ...t, id: `${prefix}_${t.id}`, upstream: t.upstream.map((u) => `${prefix}_${u}`) }));
      }
      return tasks;
    },
  };
  return definePlugin({ name: "fake-template", version: "1.0.0", templates: [template] });
}
