/**
 * Idempotency keys and what is safe to retry, after the IETF draft "The Idempotency-Key
 * HTTP Header Field" (draft-ietf-httpapi-idempotency-key-header-07):
 *
 * - the field is a Structured Field String (RFC 8941 section 3.3.3): `Idempotency-Key: "…"`;
 * - a key MUST NOT be reused with a different payload. Ours is derived from the body's
 *   SHA-256, so a batch whose records changed gets a new key, never a 422;
 * - a resource answers a repeated key with the stored result of the first request, and a
 *   key whose first request is still running with 409, which needs no correction before a
 *   retry. So with a key every failure that left the outcome unknown may be retried.
 *
 * The draft recommends a UUID or a similar random identifier; a random key would make every
 * re-run a new request, so ours is a name-based UUID: version 8 over SHA-256, as RFC 9562
 * appendix B.2 shows. APIs that check the key's shape accept it as a UUID.
 */
import { createHash } from "node:crypto";
import type { RetryRule } from "./http.js";

export interface BatchIdentity {
  readonly pipeline: string;
  readonly task: string;
  /** YYYY-MM-DD */
  readonly logicalDate: string;
  /** The batch's position in the run, from 0. */
  readonly batch: number;
  /** Hex SHA-256 of the request body exactly as sent. */
  readonly bodySha256: string;
}

/** Changes only if the derivation does: keys of the same batch then stay stable across versions. */
const KEY_SCHEME = "xo-foundry/api.send/1";

/** The batch's key: the same batch of the same date always gets the same key, any other batch another. */
export function batchKey(id: BatchIdentity): string {
  const name = JSON.stringify([KEY_SCHEME, id.pipeline, id.task, id.logicalDate, id.batch, id.bodySha256]);
  const bytes = createHash("sha256").update(name, "utf8").digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x80; // version 8
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // variant 10
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/** RFC 8941 section 4.1.6: a String item, quoted, with `"` and `\` escaped; printable ASCII only. */
export function sfString(value: string): string {
  if (!/^[\x20-\x7e]*$/.test(value)) throw new Error(`an idempotency key must be printable ASCII, got ${JSON.stringify(value)}`);
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** Connection failures that happen before a request leaves this machine: nothing reached the server. */
const NOTHING_SENT = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN", "ENOTFOUND"]);

/** Whether a network failure with this system code happened before any byte of the request was sent. */
export function neverSent(code: string | undefined): boolean {
  return code !== undefined && NOTHING_SENT.has(code);
}

/**
 * What a delivery may retry. Without a key, only what the server did not process: 408 (it
 * did not get the whole request), 429 and 503 (it said so), and connections that never
 * carried the request. A 500, a timeout or a cut connection may hide an applied batch, so a
 * retry could apply it twice. With a key the server deduplicates, so those are retried too,
 * and a 409 (the first attempt of this key is still running) as well.
 */
export function deliveryRetry(keyed: boolean): RetryRule {
  return (outcome) => {
    switch (outcome.kind) {
      case "network":
        return !outcome.permanent && (keyed || neverSent(outcome.code));
      case "timeout":
      case "truncated":
        return keyed;
      case "response":
        return [408, 429, 503].includes(outcome.status) || (keyed && (outcome.status === 409 || outcome.status >= 500));
    }
  };
}
