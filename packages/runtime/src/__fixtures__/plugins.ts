import { z } from "zod";
import { definePlugin, streamTasks, type ExtractBatch, type JsonObject, type LoadContext, type Manifest, type XoPlugin } from "@xo-foundry/core";

export interface Recorder {
  readonly loads: { stream: string; manifest: Manifest; files: string[] }[];
  readonly events: string[];
  /** What each source saw as its saved state, in order. */
  readonly states?: (JsonObject | undefined)[];
  /** Awaited by every extract after its first page (its part file is open then): a test holds an extract here. */
  hold?: () => Promise<void>;
}

/**
 * A source that yields scripted pages, a sink that records what it was asked
 * to load, and a two-task-per-stream template: enough to drive the runtime.
 */
export function fixturePlugins(recorder: Recorder): XoPlugin[] {
  const enc = new TextEncoder();
  return [
    definePlugin({
      name: "fixture-source",
      version: "1.0.0",
      sources: [
        {
          id: "pages",
          description: "scripted pages",
          options: z.object({}),
          stream: z.object({
            pages: z.number().int().default(2),
            size: z.number().int().default(3),
            fail: z.boolean().default(false),
            file: z.boolean().default(false),
            /** Reports the logical date as the stream's new state. */
            stateful: z.boolean().default(false),
          }),
          async *extract(ctx): AsyncGenerator<ExtractBatch> {
            const o = ctx.streamOptions as { pages: number; size: number; fail: boolean; file: boolean; stateful: boolean };
            recorder.events.push(`extract:${ctx.stream.name}:start`);
            recorder.states?.push(ctx.state);
            for (let p = 0; p < o.pages; p++) {
              await new Promise((r) => setTimeout(r, 5));
              yield { type: "records", records: Array.from({ length: o.size }, (_, i) => ({ id: p * o.size + i, day: ctx.window.logicalDate })) };
              if (p === 0 && recorder.hold) {
                recorder.events.push(`extract:${ctx.stream.name}:held`);
                await recorder.hold();
              }
            }
            if (o.file) {
              yield {
                type: "file",
                name: "export.csv",
                format: "csv",
                body: (async function* () {
                  yield enc.encode("id,name\n");
                  yield enc.encode("1,a\n");
                })(),
              };
            }
            if (o.fail) throw new Error("source exploded");
            if (o.stateful) yield { type: "state", state: { through: ctx.window.logicalDate } };
            recorder.events.push(`extract:${ctx.stream.name}:end`);
          },
        },
      ],
    }),
    definePlugin({
      name: "fixture-sink",
      version: "1.0.0",
      errors: { MEM_FULL: "the memory sink ran out of room" },
      sinks: [
        {
          id: "memory",
          description: "records loads",
          options: z.object({ fail: z.boolean().optional() }),
          target: z.object({ table: z.string().optional() }),
          async load(ctx: LoadContext) {
            recorder.events.push(`load:${ctx.stream.name}:start`);
            if ((ctx.options as { fail?: boolean }).fail) {
              throw Object.assign(new Error("the memory is full\n  hint: free some memory"), { code: "MEM_FULL" });
            }
            const files = await Promise.all(ctx.manifest.files.map((f) => ctx.localPath(f)));
            recorder.loads.push({ stream: ctx.stream.name, manifest: ctx.manifest, files });
            await new Promise((r) => setTimeout(r, 10));
            recorder.events.push(`load:${ctx.stream.name}:end`);
            return { table: `mem.${ctx.stream.name}`, rowsLoaded: ctx.manifest.rows };
          },
        },
      ],
      templates: [
        { id: "ingest", description: "extract >> load per stream", isDefault: true, tasks: (p) => streamTasks(p.config, { groupBySource: false }) },
        { id: "grouped", description: "one task group per source", tasks: (p) => streamTasks(p.config, { groupBySource: true }) },
      ],
    }),
  ];
}
