/**
 * What a user writes in YAML for the `sftp` source and the `sftp.upload` and `sftp.archive`
 * steps. The core spreads each schema's `shape` into a strict object, so every rule lives on
 * a field or in a refinement that names its key.
 */
import path from "node:path";
import { z } from "zod";
import { checkUpstreamFilesOptions, hasUnknownPlaceholder, upstreamFilesOptionsShape, type FileFormat } from "@xo-foundry/core";

export const FORMATS = ["csv", "ndjson", "json", "parquet"] as const satisfies readonly FileFormat[];

const EXTENSION_FORMATS: Readonly<Record<string, FileFormat>> = {
  ".csv": "csv",
  ".ndjson": "ndjson",
  ".jsonl": "ndjson",
  ".json": "json",
  ".parquet": "parquet",
};

const connectShape = {
  retries: z.number().int().min(0).max(10).default(3).describe("Retries after the server could not be reached (refused, reset, timed out). Refused logins and host keys are never retried."),
  timeout_seconds: z.number().int().min(1).max(600).default(30).describe("Longest wait for the SSH handshake and login, in seconds."),
};

export const sourceOptions = z.object(connectShape);

export const streamOptions = z.object({
  path: z.string().min(1).describe("Remote folder to read, e.g. `/outgoing/orders` (absolute, or relative to the login's home folder)."),
  glob: z
    .string()
    .min(1)
    .default("*")
    .describe("Glob (picomatch) matched against each file's path relative to `path`, e.g. `orders_*.csv.gz`, or `2026/**/*.csv` with `recursive`."),
  recursive: z.boolean().default(false).describe("Walk the sub-folders of `path` too. Symbolic links and special files are never read."),
  format: z
    .enum(FORMATS)
    .optional()
    .describe("Format of every matched file; by default read from each name's extension (after `.gz`)."),
  modified: z
    .enum(["window", "state", "all"])
    .default("window")
    .describe(
      "Which files to take: `window`, those modified in the run's data window [start, end); `state`, those modified after the newest file of the last successful run (kept in the state store, saved once the load succeeded); `all`, every matched file.",
    ),
  decompress: z
    .boolean()
    .default(true)
    .describe("Decompress `.gz` files while landing them (the landed name loses `.gz`), so every sink reads them. `false` lands them as they are."),
  min_age_seconds: z
    .number()
    .int()
    .min(0)
    .default(0)
    .describe("Leave files modified less than this many seconds ago for a later run: a partner may still be writing them."),
});


export const uploadOptions = z
  .object({
    ...connectShape,
    folder: z
      .string()
      .min(1)
      .refine((f) => !hasUnknownPlaceholder(f, { name: true }), "placeholders are `{ds}` and `{ds_nodash}`")
      .refine((f) => !f.split("/").includes(".."), "a folder may not contain `..`")
      .describe("Remote folder to deliver to, created when missing (`mkdir -p`); `{ds}` and `{ds_nodash}` are the run's logical date, e.g. `/incoming/orders/{ds}`."),
    name: z
      .string()
      .min(1)
      .default("{name}")
      .refine((n) => !hasUnknownPlaceholder(n, { name: true }), "placeholders are `{name}`, `{ds}` and `{ds_nodash}`")
      .refine((n) => !n.includes("/") && !n.startsWith("."), "a name has no `/` and does not start with `.`")
      .describe("Remote file name; `{name}` is the landed file's name, `{ds}`/`{ds_nodash}` the logical date, e.g. `orders_{ds_nodash}_{name}`. Keep the date in it (or in `folder`) so days do not overwrite each other."),
    overwrite: z
      .enum(["fail", "skip", "replace"])
      .default("fail")
      .describe("When a file of that name is already there: `fail` (SFTP_TARGET_EXISTS), `skip` it (a re-run sends nothing twice), or `replace` it atomically."),
    ...upstreamFilesOptionsShape("deliver"),
  })
  .superRefine((o, ctx) => {
    checkUpstreamFilesOptions(o, ctx);
  });


export const archiveOptions = z.object({
  ...connectShape,
  folder: z
    .string()
    .min(1)
    .refine((f) => !hasUnknownPlaceholder(f, { name: false }), "placeholders are `{ds}` and `{ds_nodash}`")
    .refine((f) => !f.split("/").includes(".."), "a folder may not contain `..`")
    .describe(
      "Remote folder to move the loaded files into, created when missing (`mkdir -p`); `{ds}` and `{ds_nodash}` are the run's logical date, e.g. `archive/orders/{ds}`. Absolute, or relative to the login's home folder, on the source's server. Files keep their names (without the sub-folders of a recursive stream).",
    ),
  task: z
    .string()
    .min(1)
    .optional()
    .describe("The upstream `sftp` stream's extract or load task whose files to archive, e.g. `load_orders`. By default the partition of the task this step runs directly after."),
});

export type SourceOptions = z.infer<typeof sourceOptions>;
export type StreamOptions = z.infer<typeof streamOptions>;
export type UploadOptions = z.infer<typeof uploadOptions>;
export type ArchiveOptions = z.infer<typeof archiveOptions>;

/** The format a (decompressed) name's extension stands for; fails with the fix when there is none. */
export function formatOf(name: string): FileFormat {
  const format = EXTENSION_FORMATS[path.posix.extname(name.replace(/\.gz$/i, "")).toLowerCase()];
  if (!format) {
    throw new Error(`cannot tell the format of ${JSON.stringify(name)} from its extension; set the stream's \`format\` (csv, ndjson, json or parquet) or narrow \`glob\``);
  }
  return format;
}
