/**
 * The options a user writes in YAML for the `s3` source and the `s3.upload` step. The
 * core spreads each schema's `shape` into a strict object, so every rule lives on a
 * field or in a refinement that names its key.
 */
import path from "node:path";
import { z } from "zod";
import { checkUpstreamFilesOptions, hasUnknownPlaceholder, upstreamFilesOptionsShape, type FileFormat } from "@xo-foundry/core";
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


export const uploadOptions = z
  .object({
    uri: z
      .string()
      .superRefine((uri, ctx) => {
        const problem = uploadUriProblem(uri);
        if (problem) ctx.addIssue({ code: "custom", message: problem });
      })
      .describe(
        "Where to deliver: `s3://bucket/prefix/`; `{ds}` and `{ds_nodash}` are the run's logical date, e.g. `s3://partner-drop/orders/{ds}/`. The bucket must exist.",
      ),
    name: z
      .string()
      .min(1)
      .default("{name}")
      .refine((n) => !hasUnknownPlaceholder(n, { name: true }), "placeholders are `{name}`, `{ds}` and `{ds_nodash}`")
      .refine((n) => !n.includes("/") && n !== "." && n !== "..", "a name is one key segment: no `/`, not `.` or `..`")
      .describe(
        "Object name under the prefix; `{name}` is the landed file's name, `{ds}`/`{ds_nodash}` the logical date, e.g. `orders_{ds_nodash}_{name}`. Keep the date in it (or in `uri`) so days do not overwrite each other.",
      ),
    overwrite: z
      .enum(["fail", "skip", "replace"])
      .default("fail")
      .describe(
        "When an object of that name is there and this step did not write it: `fail` (XO_S3_TARGET_EXISTS), `skip` it, or `replace` it. Objects this step delivered before are kept when unchanged and replaced when changed, whatever the policy.",
      ),
    ...upstreamFilesOptionsShape("deliver"),
  })
  .superRefine((o, ctx) => {
    checkUpstreamFilesOptions(o, ctx);
  });

export type UploadOptions = z.infer<typeof uploadOptions>;

/** Why `uri` cannot name where `s3.upload` delivers, or undefined when it can. */
function uploadUriProblem(uri: string): string | undefined {
  const match = /^s3:\/\/([^/]*)(?:\/(.*))?$/i.exec(uri);
  if (!match) return `expected s3://bucket/prefix/; got ${JSON.stringify(uri)}`;
  const bucket = match[1]!;
  if (!BUCKET_NAME.test(bucket)) return `${JSON.stringify(bucket)} is not a bucket name: 3-63 lowercase letters, digits, dots and hyphens (no placeholders)`;
  const prefix = (match[2] ?? "").replace(/\/+$/, "");
  if (hasUnknownPlaceholder(prefix, { name: true })) return "placeholders in the prefix are `{ds}` and `{ds_nodash}`";
  if (prefix.includes("{name}")) return "`{name}` goes in `name`, not in the prefix";
  // S3 takes these keys literally, so a `..` or `//` would make keys that look like other paths.
  if (prefix !== "" && prefix.split("/").some((part) => part === "" || part === "." || part === "..")) {
    return "the prefix has an empty, `.` or `..` segment; write it as `s3://bucket/folder/sub/`";
  }
  return undefined;
}

/** What the `s3.upload` step is, apart from how it runs (shared by the lazy plugin entry and createS3Upload). */
export const S3_UPLOAD = {
  id: "s3.upload",
  description:
    "Delivers the files an upstream task published (or a landing folder) to an S3 prefix: multipart uploads, checksum metadata, an overwrite policy and re-runs that write nothing twice.",
  options: uploadOptions,
  connection: "optional",
  canSkip: false,
  // Bucket names are global on AWS, so two connections to one bucket are still one destination.
  destination: ({ options }: { readonly options: UploadOptions }) => {
    const base = options.uri.replace(/^s3:\/\//i, "s3://").replace(/\/+$/, "");
    return `${base}/${options.name}`;
  },
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
