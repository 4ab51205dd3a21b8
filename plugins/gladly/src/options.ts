/**
 * The options a user writes in YAML. The core spreads each schema's `shape` into a
 * strict object, so the stream schema has to be a flat object: `kind` is an enum
 * and the per-kind keys are optional in its shape; a refinement, which the core
 * applies after the shape, requires them per kind. `parseStream` re-reads the same
 * block through a discriminated union at extract time, so a report without `metric_set`
 * (or an export without `file`) still fails with a message naming the key.
 */
import { z } from "zod";

const positiveInt = () => z.number().int().positive();

/** Files the Export API writes for every job. Any other `*.jsonl` name is passed through. */
export const EXPORT_FILES = ["agents", "customers", "conversation_items", "topics"] as const;

/** A bare file name: no directories, no `..`, so it can never leave `/files/`. */
const FILE_NAME = /^(?!\.)[A-Za-z0-9_.-]+$/;

export const sourceOptions = z.object({
  organization: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/i, "an organization is the first label of its Gladly host, e.g. `acme` for acme.gladly.com")
    .optional()
    .describe("Gladly organization: requests go to https://<organization>.gladly.com unless `base_url` is set."),
  base_url: z
    .url({ protocol: /^https?$/ })
    .optional()
    .describe("Overrides the URL, e.g. `https://acme.gladly.qa` for a sandbox; else `organization`, else the connection's host."),
  timeout_ms: positiveInt()
    .max(1_800_000)
    .default(300_000)
    .describe("Longest wait for a response to start, and longest silence while it streams, in milliseconds. Reports can take minutes."),
  max_retries: z.number().int().min(0).max(20).default(5).describe("Retries after network errors, timeouts, 429 and 5xx."),
  backoff_ms: z
    .number()
    .int()
    .min(0)
    .max(30_000)
    .default(1_000)
    .describe("First retry delay in milliseconds; doubles on each retry (with jitter), capped at 60 s."),
  row_cap: positiveInt()
    .default(100_000)
    .describe("Rows Gladly returns at most per report; a report that reaches it is treated as truncated."),
  split_on_cap: z
    .boolean()
    .default(true)
    .describe(
      "When a report reaches `row_cap`, split its days in halves down to single days (and a day down to one hour for the metric sets that accept time ranges) instead of failing.",
    ),
});

const reportShape = {
  metric_set: z.string().min(1).describe("`kind: report`: the Gladly metric set, e.g. `ContactTimestampsReport`."),
  filters: z
    .record(z.string(), z.unknown())
    .optional()
    .describe("`kind: report`: Gladly report filters (`channel`, `inboxes`, `teams`, `phoneNumber`), sent as written; Gladly refuses a filter its metric set does not take."),
};

const exportShape = {
  file: z
    .string()
    .regex(FILE_NAME, "a bare file name such as `agents` or `conversation_items.jsonl`")
    .describe(`\`kind: export\`: ${EXPORT_FILES.join(", ")}, or a raw file name of the job.`),
  job_id: z.string().regex(FILE_NAME, "a Gladly export job id").optional().describe("`kind: export`: read this job instead of the newest one covering the window."),
};

const KIND_KEYS = { report: { required: ["metric_set"], allowed: ["metric_set", "filters"] }, export: { required: ["file"], allowed: ["file", "job_id"] } } as const;

export const streamOptions = z
  .object({
    kind: z.enum(["report", "export"]).describe("`report` runs a Reports API metric set (CSV); `export` reads a file of an Export API job (NDJSON)."),
    metric_set: reportShape.metric_set.optional(),
    filters: reportShape.filters,
    file: exportShape.file.optional(),
    job_id: exportShape.job_id,
  })
  // The core checks this after the flat shape, so validate-config reports it with the key's line.
  .superRefine((stream, ctx) => {
    const rules = KIND_KEYS[stream.kind];
    for (const key of rules.required) {
      if (stream[key] === undefined) ctx.addIssue({ code: "custom", path: [key], message: `\`${key}\` is required for kind: ${stream.kind}` });
    }
    const other = stream.kind === "report" ? KIND_KEYS.export : KIND_KEYS.report;
    for (const key of other.allowed) {
      if (stream[key] !== undefined) ctx.addIssue({ code: "custom", path: [key], message: `\`${key}\` belongs to kind: ${stream.kind === "report" ? "export" : "report"}, not ${stream.kind}` });
    }
  });

const reportStream = z.strictObject({ kind: z.literal("report"), ...reportShape });
const exportStream = z.strictObject({ kind: z.literal("export"), ...exportShape });

export const streamConfig = z.discriminatedUnion("kind", [reportStream, exportStream]);

export type SourceOptions = z.output<typeof sourceOptions>;
export type StreamOptions = z.output<typeof streamOptions>;
export type StreamConfig = z.output<typeof streamConfig>;
export type ReportStream = z.output<typeof reportStream>;
export type ExportStream = z.output<typeof exportStream>;

/** The stream block as its kind demands; errors name each key, e.g. `metric_set: required for kind: report`. */
export function parseStream(raw: unknown): StreamConfig {
  // Drop undefined keys the flat schema may have added, so strict objects do not see them.
  const clean = Object.fromEntries(Object.entries((raw ?? {}) as Record<string, unknown>).filter(([, v]) => v !== undefined));
  const result = streamConfig.safeParse(clean);
  if (result.success) return result.data;
  const kind = typeof clean.kind === "string" ? clean.kind : "(missing)";
  const problems = result.error.issues.map((i) => `${i.path.join(".") || "kind"}: ${i.message}`);
  throw new Error(`invalid gladly stream options for kind ${JSON.stringify(kind)}: ${problems.join("; ")}`);
}

/** `agents` -> `agents.jsonl`; a name with an extension is used as written. */
export function exportFileName(file: string): string {
  return file.includes(".") ? file : `${file}.jsonl`;
}
