/**
 * What a pipeline test needs besides the real DuckDB sink and this plugin: a source that
 * yields the rows its stream entry lists (`rows:`), and a template that groups each source's
 * extract and load tasks, as the ingest template does.
 */
import { z } from "zod";
import { definePlugin, streamTasks, type ExtractBatch, type XoPlugin } from "@xo-foundry/core";

export function rowsPlugin(): XoPlugin {
  return definePlugin({
    name: "test-rows",
    version: "0.0.0",
    sources: [
      {
        id: "rows",
        description: "The rows its stream entry lists.",
        options: z.object({}),
        stream: z.object({ rows: z.array(z.record(z.string(), z.unknown())) }),
        async *extract(ctx): AsyncGenerator<ExtractBatch> {
          yield { type: "records", records: (ctx.streamOptions as { rows: Record<string, unknown>[] }).rows };
        },
      },
    ],
    templates: [{ id: "grouped_ingest", description: "extract >> load per stream, grouped by source", isDefault: true, tasks: (p) => streamTasks(p.config, { groupBySource: true }) }],
  });
}
