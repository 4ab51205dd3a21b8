/**
 * S3 failures, rephrased: which operation on which object failed, why, and what to
 * change. The SDK's own messages ("Access Denied") name neither the object nor the
 * connection, and may quote request details, so every message passes the redactor.
 */
import { connectionEnvVar, PluginError, redact } from "@xo-foundry/core";
import { formatS3Uri } from "./uri.js";

/** The codes S3 failures reach users with, each with what it means and the fix (the plugin's `errors`). */
export const S3_ERRORS = {
  XO_S3_NO_SUCH_BUCKET: "The bucket does not exist at the connection's endpoint and region. Create it, or fix the bucket in the URI the message names.",
  XO_S3_ACCESS_DENIED:
    "S3 refused the credentials (wrong or expired keys, or no permission on this bucket or key). Fix the connection the message names, or the bucket's policy.",
  XO_S3_WRONG_REGION: "The bucket is in another region than the connection's. Set region_name in the connection's extra.",
  XO_S3_REQUEST_FAILED: "An S3 request failed for another reason; the message quotes S3's own error code and text.",
  XO_S3_TARGET_EXISTS:
    "An object of that name is already under the `s3.upload` step's prefix, this step did not write it, and `overwrite` is `fail` (the default, so nothing a partner holds is replaced silently). Set `overwrite: skip` to keep it, `overwrite: replace` to replace it, or change `uri` or `name`.",
  XO_S3_NAME_CLASH:
    "Two files of the partition would get the same object key, so one would replace the other. Put `{name}` in the `s3.upload` step's `name`.",
  XO_S3_SIZE_MISMATCH:
    "An object's size is not the size of the landed file: the landed file changed after its manifest was written, or the object was replaced while it was being checked. Re-run the upstream task, then this step.",
  XO_S3_CHECKSUM_MISMATCH:
    "The bytes read from the landing zone, or the checksum metadata S3 returns for the delivered object, do not match the landed file's sha256. Re-run the upstream task, then this step; if it repeats on an S3-compatible store, check that it keeps user metadata (x-amz-meta-*).",
} as const;

export type S3ErrorCode = keyof typeof S3_ERRORS;

export class S3OperationError extends Error {
  override readonly name = "S3OperationError";
  /** What the user sees: one of S3_ERRORS. */
  readonly code: S3ErrorCode;
  constructor(
    message: string,
    /** The S3 API operation, e.g. `PutObject`. */
    readonly operation: string,
    readonly bucket: string,
    readonly key: string,
    /** S3's own error code (`NoSuchBucket`, `AccessDenied`, ...) or the HTTP status. */
    readonly s3Code: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(redact(message), options);
    this.code = xoCode(s3Code);
  }
}

/** A failure of the plugin's own checks (not of an S3 request), with a hint that says what to do. */
export class S3Error extends PluginError<S3ErrorCode> {
  override readonly name = "S3Error";
}

/** Where the failing bucket came from, so the hint can name the YAML key to fix. */
export interface ErrorScope {
  /** e.g. `landing.uri` or `source.streams[].bucket`. */
  readonly bucketOption: string;
  /** The connection id, when one is configured. */
  readonly connectionId: string | undefined;
}

const CREDENTIAL_CODES = new Set([
  "AccessDenied",
  "InvalidAccessKeyId",
  "SignatureDoesNotMatch",
  "ExpiredToken",
  "InvalidToken",
  "TokenRefreshRequired",
  "CredentialsProviderError",
]);

function xoCode(s3Code: string | undefined): S3ErrorCode {
  if (s3Code === "NoSuchBucket") return "XO_S3_NO_SUCH_BUCKET";
  if (s3Code && (CREDENTIAL_CODES.has(s3Code) || s3Code === "403")) return "XO_S3_ACCESS_DENIED";
  if (s3Code && REGION_CODES.has(s3Code)) return "XO_S3_WRONG_REGION";
  return "XO_S3_REQUEST_FAILED";
}

const REGION_CODES = new Set(["PermanentRedirect", "AuthorizationHeaderMalformed", "301"]);

export function errorCode(e: unknown): string | undefined {
  if (typeof e !== "object" || e === null) return undefined;
  const err = e as { name?: unknown; Code?: unknown; $metadata?: { httpStatusCode?: number } };
  if (typeof err.Code === "string") return err.Code;
  if (typeof err.name === "string" && err.name !== "Error" && err.name !== "S3ServiceException") return err.name;
  const status = err.$metadata?.httpStatusCode;
  return status ? String(status) : undefined;
}

export function isNotFound(e: unknown): boolean {
  const code = errorCode(e);
  if (code === "NoSuchBucket") return false;
  return code === "NoSuchKey" || code === "NotFound" || code === "404";
}

/**
 * A conditional write that lost: 412, an object exists (If-None-Match) or changed (If-Match);
 * 409, another conditional write of the key is in flight (one of them wins).
 */
export function isConditionFailed(e: unknown): boolean {
  const code = errorCode(e);
  return code === "PreconditionFailed" || code === "412" || code === "ConditionalRequestConflict" || code === "409";
}

export function hintFor(code: string | undefined, scope: ErrorScope): string | undefined {
  if (code === "NoSuchBucket") return `Create the bucket or fix ${scope.bucketOption}`;
  if (code && (CREDENTIAL_CODES.has(code) || code === "403")) {
    return scope.connectionId
      ? `Check connection ${scope.connectionId} (${connectionEnvVar(scope.connectionId)}): its keys, region and endpoint, and that they may access this bucket`
      : "No connection is configured, so the SDK's default credential chain was used (AWS_* variables, profile, instance role); configure a connection or fix those credentials";
  }
  if (code && REGION_CODES.has(code)) {
    return "The bucket is in another region: set region_name in the connection's extra";
  }
  return undefined;
}

export function wrapS3Error(e: unknown, operation: string, bucket: string, key: string, scope: ErrorScope): S3OperationError {
  if (e instanceof S3OperationError) return e;
  const code = errorCode(e);
  const detail = e instanceof Error ? e.message : String(e);
  const hint = hintFor(code, scope);
  const what = `S3 ${operation} on ${formatS3Uri(bucket, key)} failed`;
  const message = `${what}: ${code && !detail.startsWith(code) ? `${code}: ` : ""}${detail || "no details"}${hint ? `. ${hint}` : ""}`;
  return new S3OperationError(message, operation, bucket, key, code, { cause: e });
}
