import { z } from "zod";
import { definePlugin, type XoPlugin } from "@xo-foundry/core";

/** A step type and an observer from a plugin the core knows nothing about. */
export function fixtureStepPlugin(events: string[]): XoPlugin {
  return definePlugin({
    name: "third-party-steps",
    version: "0.3.0",
    errors: { NOTE_REFUSED: "the note step refused its input", FAN_UNKNOWN_PART: "a part's `after` names no part" },
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
      {
        id: "fixture.stage",
        description: "Stages a watermark, saved once the tasks after it succeed.",
        options: z.object({ key: z.string(), value: z.string() }),
        async run(ctx) {
          const o = ctx.options as { key: string; value: string };
          events.push(`run:${ctx.taskId}:stage=${o.value}`);
          return { summary: { staged: o.value }, state: { [o.key]: { watermark: o.value } } };
        },
      },
      {
        // Stands for one task per part, each after the parts it names: a chain a -> b, say.
        id: "fixture.fan",
        description: "One task per part.",
        canSkip: false,
        options: z.object({
          parts: z.array(z.object({ name: z.string(), after: z.array(z.string()).default([]) })),
          part: z.string().optional(),
          broken: z.boolean().default(false),
          // Asks to skip although the step type says it never does: a faulty plugin.
          skip: z.boolean().default(false),
        }),
        expand(input) {
          const o = input.options as { parts: { name: string; after: string[] }[]; broken: boolean; skip: boolean };
          for (const p of o.parts) {
            const unknown = p.after.find((a) => !o.parts.some((q) => q.name === a));
            if (unknown) throw Object.assign(new Error(`part ${p.name} runs after ${unknown}, which is no part`), { code: "FAN_UNKNOWN_PART", hint: "name parts of this step" });
          }
          return o.parts.map((p) => ({ name: o.broken ? p.name.toUpperCase() : p.name, with: { parts: [], part: p.name, skip: o.skip }, upstream: p.after }));
        },
        async run(ctx) {
          events.push(`run:${ctx.taskId}:part=${(ctx.options as { part?: string }).part}`);
          if ((ctx.options as { skip: boolean }).skip) return { skip: "nothing to do" };
          return { summary: { part: (ctx.options as { part?: string }).part ?? null } };
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
