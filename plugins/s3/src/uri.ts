/**
 * `s3://bucket/key` URIs. Keys are kept exactly as written (no percent-decoding):
 * the runtime builds URIs by joining plain strings, and S3 keys are plain strings.
 */
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
