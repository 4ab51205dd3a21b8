/**
 * An S3 client from an Airflow `aws` connection: `login`/`password` are the access
 * key pair, `extra` holds region, endpoint and addressing style, as Airflow's
 * Amazon provider reads them. Without a connection the SDK's default credential
 * chain applies (environment, profile, container or instance role).
 */
import { S3Client, ListObjectsV2Command, type S3ClientConfig, type _Object } from "@aws-sdk/client-s3";
import { registerSecret, type Connection } from "@xo-foundry/core";
import { VERSION } from "./version.js";

export const DEFAULT_REGION = "us-east-1";

export interface ClientSettings {
  readonly region: string;
  readonly endpoint: string | undefined;
  readonly forcePathStyle: boolean;
  readonly credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined;
}

export function clientSettings(connection: Connection | undefined): ClientSettings {
  const extra = connection?.extra ?? {};
  const text = (key: string): string | undefined => {
    const v = extra[key];
    return typeof v === "string" && v.trim() !== "" ? v.trim() : undefined;
  };
  const endpoint = text("endpoint_url");
  const config = extra.config_kwargs as { s3?: { addressing_style?: unknown } } | undefined;
  const style = text("addressing_style") ?? (typeof config?.s3?.addressing_style === "string" ? config.s3.addressing_style : undefined);
  const force = extra.force_path_style;
  // Emulators and most S3-compatible stores (moto, MinIO) only answer path-style requests.
  const forcePathStyle =
    force !== undefined ? force === true || force === "true" : style !== undefined ? style === "path" : endpoint !== undefined;

  const sessionToken = text("aws_session_token");
  const login = connection?.login ?? text("aws_access_key_id");
  const secret = connection?.password ?? text("aws_secret_access_key");
  registerSecret(secret);
  registerSecret(sessionToken);
  const credentials =
    login && secret ? { accessKeyId: login, secretAccessKey: secret, ...(sessionToken ? { sessionToken } : {}) } : undefined;
  return { region: text("region_name") ?? text("region") ?? DEFAULT_REGION, endpoint, forcePathStyle, credentials };
}

export function createS3Client(connection: Connection | undefined): S3Client {
  const s = clientSettings(connection);
  const config: S3ClientConfig = {
    region: s.region,
    forcePathStyle: s.forcePathStyle,
    customUserAgent: `xo-foundry-plugin-s3/${VERSION}`,
    ...(s.endpoint ? { endpoint: s.endpoint } : {}),
    ...(s.credentials ? { credentials: s.credentials } : {}),
    // S3-compatible stores lag behind AWS on the newer flexible checksums; only send them when an operation needs one.
    ...(s.endpoint ? { requestChecksumCalculation: "WHEN_REQUIRED" as const, responseChecksumValidation: "WHEN_REQUIRED" as const } : {}),
  };
  return new S3Client(config);
}

/** Every object under `prefix`, page by page (ListObjectsV2 with continuation tokens). */
export async function* listObjects(
  client: S3Client,
  bucket: string,
  prefix: string,
  pageSize: number,
  signal?: AbortSignal,
): AsyncGenerator<_Object, void, undefined> {
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix || undefined, MaxKeys: pageSize, ContinuationToken: token }),
      signal ? { abortSignal: signal } : {},
    );
    for (const object of page.Contents ?? []) if (object.Key !== undefined) yield object;
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

/** Code-point order, like S3's own listing order and the `file://` store's. */
export function byKey(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
