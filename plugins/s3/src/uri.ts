/**
 * `s3://bucket/key` URIs. Keys are kept exactly as written (no percent-decoding):
 * the runtime builds URIs by joining plain strings, and S3 keys are plain strings.
 * The source also reads local folders, named by `file://` URIs.
 */
import { fileURLToPath } from "node:url";
import { resolveLandingUri } from "@xo-foundry/core";

export const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export interface S3Location {
  readonly bucket: string;
  /** The key or key prefix, without a leading slash; "" for the bucket root. */
  readonly key: string;
}

export function parseS3Uri(uri: string): S3Location {
  const match = /^s3:\/\/([^/]+)(?:\/(.*))?$/i.exec(uri);
  if (!match) throw new Error(`not an s3:// URI: ${JSON.stringify(uri)}; expected s3://bucket/prefix`);
  return { bucket: match[1]!, key: (match[2] ?? "").replace(/^\/+/, "") };
}

export function formatS3Uri(bucket: string, key: string): string {
  return key ? `s3://${bucket}/${key}` : `s3://${bucket}`;
}

/** The key as a folder prefix (`a/b` -> `a/b/`), so `date=1` never matches `date=10`. */
export function folderPrefix(key: string): string {
  const trimmed = key.replace(/\/+$/, "");
  return trimmed ? `${trimmed}/` : "";
}

/** Where a stream's files are: a bucket and key prefix, or a local folder. */
export type SourceLocation =
  | { readonly scheme: "s3"; readonly bucket: string; readonly prefix: string }
  | { readonly scheme: "file"; readonly dir: string };

const SOURCE_URIS = "s3://bucket/prefix or file://folder (relative to the project, or file:///absolute/path)";

/** Why `uri` cannot name a source's files, or undefined when it can. */
export function uriProblem(uri: string): string | undefined {
  const match = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/is.exec(uri);
  const scheme = match?.[1]!.toLowerCase();
  const rest = match?.[2] ?? "";
  if (scheme === "s3") {
    const bucket = rest.split("/")[0]!;
    return BUCKET_NAME.test(bucket) ? undefined : `${JSON.stringify(bucket)} is not a bucket name: 3-63 lowercase letters, digits, dots and hyphens`;
  }
  if (scheme === "file") {
    if (rest === "") return "the folder is missing: use file://data/incoming (relative to the project) or file:///absolute/path";
    try {
      decodeURIComponent(rest);
    } catch {
      return "a `%` in a file:// URI starts an escape such as %20; write a literal % as %25";
    }
    return undefined;
  }
  return `expected ${SOURCE_URIS}; got ${JSON.stringify(uri)}`;
}

/**
 * The location a stream's options name. A relative `file://` folder resolves against
 * the project, with the rule the core applies to `landing.uri`.
 */
export function sourceLocation(stream: { readonly uri?: string | undefined; readonly bucket?: string | undefined; readonly prefix: string }, projectDir: string): SourceLocation {
  const { uri, bucket } = stream;
  if (uri === undefined) {
    if (bucket === undefined) throw new Error(`a stream of the s3 source needs \`uri\` (${SOURCE_URIS}) or \`bucket\``);
    return { scheme: "s3", bucket, prefix: stream.prefix };
  }
  const problem = uriProblem(uri);
  if (problem) throw new Error(`invalid uri ${JSON.stringify(uri)}: ${problem}`);
  if (/^file:/i.test(uri)) return { scheme: "file", dir: fileURLToPath(resolveLandingUri(uri, projectDir, [])) };
  const { bucket: uriBucket, key } = parseS3Uri(uri);
  return { scheme: "s3", bucket: uriBucket, prefix: key };
}
