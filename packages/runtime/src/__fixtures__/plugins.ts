import { z } from "zod";
import { definePlugin, type ExtractBatch, type LoadContext, type Manifest, type XoPlugin } from "@xo-foundry/core";

export interface Recorder {
  readonly loads: { stream: string; manifest: Manifest; files: string[] }[];
  readonly events: string[];
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
          stream: z.object({ pages: z.number().int().default(2), size: z.number().int().default(3), fail: z.boolean().default(false), file: z.boolean().default(false) }),
          async *extract(ctx): AsyncGenerator<ExtractBatch> {
            const o = ctx.streamOptions as { pages: number; size: number; fail: boolean; file: boolean };
            recorder.events.push(`extract:${ctx.stream.name}:start`);
            for (let p = 0; p < o.pages; p++) {
              await new Promise((r) => setTimeout(r, 5));
              yield { type: "records", records: Array.from({ length: o.size }, (_, i) => ({ id: p * o.size + i, day: ctx.window.logicalDate })) };
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
            recorder.events.push(`extract:${ctx.stream.name}:end`);
          },
        },
      ],
    }),
    definePlugin({
      name: "fixture-sink",
      version: "1.0.0",
      sinks: [
        {
          id: "memory",
          description: "records loads",
          options: z.object({}),
          target: z.object({}),
          async load(ctx: LoadContext) {
            recorder.events.push(`load:${ctx.stream.name}:start`);
            const files = await Promise.all(ctx.manifest.files.map((f) => ctx.localPath(f)));
            recorder.loads.push({ stream: ctx.stream.name, manifest: ctx.manifest, files });
            await new Promise((r) => setTimeout(r, 10));
            recorder.events.push(`load:${ctx.stream.name}:end`);
            return { table: `mem.${ctx.stream.name}`, rowsLoaded: ctx.manifest.rows };
          },
        },
      ],
      templates: [
        {
          id: "ingest",
          description: "extract >> load per stream",
          tasks: (p) =>
            p.config.source.streams.flatMap((s) => [
              { id: `extract_${s.name}`, kind: "extract" as const, stream: s.name, upstream: [] },
              { id: `load_${s.name}`, kind: "load" as const, stream: s.name, upstream: [`extract_${s.name}`] },
            ]),
          render: () => "",
        },
      ],
    }),
  ];
}
