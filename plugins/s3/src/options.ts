/**
 * The options a user writes in YAML for the `s3` source. The core spreads each
 * schema's `shape` into a strict object, so every rule lives on a field.
 */
import path from "node:path";
import { z } from "zod";
import type { FileFormat } from "@xo-foundry/core";
import { BUCKET_NAME, uriProblem } from "./uri.js";

export const FORMATS = ["csv", "json", "ndjson", "parquet"] as const satisfies readonly FileFormat[];

/** Extensions that name a format; anything else needs an explicit `format`. */
export const EXTENSION_FORMATS: Readonly<Record<string, FileFormat>> = {
  ".csv": "csv",
  ".json": "json",
  ".ndjson": "ndjson",
  ".jsonl": "ndjson",
  ".parquet": "parquet",
};

/** No source-level options: credentials and endpoint come from the connection. */
export const sourceOptions = z.object({});

export const streamOptions = z
  .object({
    uri: z
      .string()
      .superRefine((uri, ctx) => {
        const problem = uriProblem(uri);
        if (problem) ctx.addIssue({ code: "custom", message: problem });
      })
      .optional()
      .describe(
        "Where the files are: `s3://bucket/prefix`, or a local folder, `file://data/incoming` (relative to the project) or `file:///srv/drop` (absolute). Instead of `bucket` and `prefix`.",
      ),
    bucket: z
      .string()
      .regex(BUCKET_NAME, "a bucket name: 3-63 lowercase letters, digits, dots and hyphens")
      .optional()
      .describe("Bucket to read from (or give `uri` instead)."),
    prefix: z
      .string()
      .default("")
      .refine((p) => !p.startsWith("/"), "a key prefix has no leading slash")
      .describe("Folder of keys to read (`exports/orders`) in `bucket`; a trailing slash is implied. Empty reads the whole bucket."),
    pattern: z
      .string()
      .min(1)
      .default("**/*")
      .describe("Glob (picomatch) matched against each key (or file path) relative to the folder, e.g. `*.csv` or `2026/**/*.parquet`."),
    format: z
      .enum(FORMATS)
      .optional()
      .describe("File format of every matched file; by default inferred from each name's extension."),
    incremental: z
      .boolean()
      .default(false)
      .describe("Only read files modified (S3 LastModified, local mtime) in the run's data window [start, end)."),
    max_files: z
      .number()
      .int()
      .positive()
      .optional()
      .describe("Fail instead of copying when more files than this match (a guard against a too-wide prefix)."),
  })
  // The core checks these object-level rules after the composed shape (each at its key).
  .superRefine((stream, ctx) => {
    if (stream.uri === undefined && stream.bucket === undefined) {
      ctx.addIssue({ code: "custom", path: ["uri"], message: "say where the files are: `uri: s3://bucket/prefix` or `uri: file://folder` (or `bucket:`)" });
    }
    if (stream.uri !== undefined && stream.bucket !== undefined) {
      ctx.addIssue({ code: "custom", path: ["bucket"], message: "`uri` already says where the files are; remove `bucket`" });
    }
    if (stream.uri !== undefined && stream.prefix !== "") {
      ctx.addIssue({ code: "custom", path: ["prefix"], message: "with `uri`, put the prefix in the URI (`s3://bucket/prefix`); remove `prefix`" });
    }
  });

export type SourceOptions = z.infer<typeof sourceOptions>;
export type StreamOptions = z.infer<typeof streamOptions>;

/** What the `s3` source is, apart from how it extracts (shared by the lazy plugin entry and createS3Source). */
export const S3_SOURCE = {
  id: "s3",
  description:
    "Copies files (csv, json, ndjson, parquet) from an S3 bucket or a local folder, selected by prefix, glob and last-modified time.",
  options: sourceOptions,
  stream: streamOptions,
  connection: "optional",
} as const;

export const S3_LANDING = {
  scheme: "s3",
  description: "Amazon S3 or an S3-compatible store (MinIO, moto): streaming multipart uploads, credentials from an Airflow aws connection.",
} as const;

/** The format a file name's extension stands for; fails with the fix when it stands for none. */
export function formatOf(name: string, what = "s3 object"): FileFormat {
  const format = EXTENSION_FORMATS[path.posix.extname(name).toLowerCase()];
  if (!format) {
    throw new Error(
      `cannot tell the format of ${what} ${JSON.stringify(name)} from its extension; ` +
        `set the stream's \`format\` (csv, json, ndjson or parquet) or narrow \`pattern\` (e.g. "**/*.csv")`,
    );
  }
  return format;
}
