/**
 * The options a user writes in YAML for the `s3` source. The core spreads each
 * schema's `shape` into a strict object, so every rule lives on a field.
 */
import { z } from "zod";
import type { FileFormat } from "@xo-foundry/core";

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

export const streamOptions = z.object({
  bucket: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "a bucket name: 3-63 lowercase letters, digits, dots and hyphens")
    .describe("Bucket to read from."),
  prefix: z
    .string()
    .default("")
    .refine((p) => !p.startsWith("/"), "a key prefix has no leading slash")
    .describe("Folder of keys to read (`exports/orders`); a trailing slash is implied. Empty reads the whole bucket."),
  pattern: z
    .string()
    .min(1)
    .default("**/*")
    .describe("Glob (picomatch) matched against each key relative to `prefix`, e.g. `*.csv` or `2026/**/*.parquet`."),
  format: z
    .enum(FORMATS)
    .optional()
    .describe("File format of every matched object; by default inferred from each key's extension."),
  incremental: z
    .boolean()
    .default(false)
    .describe("Only read objects whose LastModified falls in the run's data window [start, end)."),
  max_files: z
    .number()
    .int()
    .positive()
    .optional()
    .describe("Fail instead of copying when more objects than this match (a guard against a too-wide prefix)."),
});

export type SourceOptions = z.infer<typeof sourceOptions>;
export type StreamOptions = z.infer<typeof streamOptions>;

/** What the `s3` source is, apart from how it extracts (shared by the lazy plugin entry and createS3Source). */
export const S3_SOURCE = {
  id: "s3",
  description: "Copies objects (csv, json, ndjson, parquet) from an S3 bucket, selected by prefix, glob and last-modified time.",
  options: sourceOptions,
  stream: streamOptions,
  connection: "optional",
} as const;

export const S3_LANDING = {
  scheme: "s3",
  description: "Amazon S3 or an S3-compatible store (MinIO, moto): streaming multipart uploads, credentials from an Airflow aws connection.",
} as const;
