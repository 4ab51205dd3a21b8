import { z } from "zod";
import { definePlugin, type XoPlugin } from "@xo-foundry/core";

/** A step type and an observer from a plugin the core knows nothing about. */
export function fixtureStepPlugin(events: string[]): XoPlugin {
  return definePlugin({
    name: "third-party-steps",
    version: "0.3.0",
    errors: { NOTE_REFUSED: "the note step refused its input" },
    steps: [
      {
        id: "fixture.note",
        description: "Adds up the rows its upstream tasks moved.",
        options: z.object({
          message: z.string(),
          skip: z.boolean().default(false),
          refuse: z.boolean().default(false),
        }),
        async run(ctx) {
          const o = ctx.options as { message: string; skip: boolean; refuse: boolean };
          events.push(`run:${ctx.taskId}:${o.message}`);
          if (o.refuse) throw Object.assign(new Error("refused to take notes"), { code: "NOTE_REFUSED", hint: "say please" });
          if (o.skip) return { skip: "asked to skip" };
          const rows = Object.values(ctx.upstream).reduce((n, s) => n + (typeof s.summary.rows === "number" ? s.summary.rows : 0), 0);
          return { summary: { message: o.message, upstream_rows: rows, upstream: Object.keys(ctx.upstream).sort() } };
        },
      },
    ],
    observers: [
      {
        id: "fixture.watch",
        onStepStart: (e) => void events.push(`start:${e.task}`),
        onStepEnd: (e) => void events.push(`end:${e.task}:${e.result.state}`),
        onStepFailure: (e) => void events.push(`failure:${e.task}:${e.diagnostics[0]?.code}`),
      },
    ],
  });
}
