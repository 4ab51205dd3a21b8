/**
 * Reading Gmail's MessagePart tree (format `full`): a part is a MIME entity with `mimeType`,
 * `headers`, `filename` ("only present if this message part represents an attachment"), a
 * `body` whose `data` is base64url or, for attachments and large parts, an `attachmentId` to
 * fetch with `users.messages.attachments.get`, and `parts` for `multipart/*` containers.
 */
import type { MessagePart } from "./gmail-api.js";

/** An attachment of a message, in the order the message carries them. */
export interface AttachmentPart {
  /** 1-based position among the message's attachments, counted before any filter. */
  readonly position: number;
  readonly partId: string;
  readonly filename: string;
  /** The MIME type without parameters, lower case: `text/csv`. */
  readonly mimeType: string;
  /** Decoded size in bytes, as Gmail reports it. */
  readonly size: number;
  readonly attachmentId?: string | undefined;
  /** The content when Gmail sent it inline instead of an attachment id. */
  readonly data?: string | undefined;
}

/** The message's text/plain body part. */
export interface TextPart {
  readonly charset: string;
  readonly data?: string | undefined;
  readonly attachmentId?: string | undefined;
}

/** The first value of a header, compared by name without case (RFC 5322 field names are case-insensitive). */
export function header(part: MessagePart | undefined, name: string): string | null {
  const wanted = name.toLowerCase();
  for (const h of part?.headers ?? []) if (h.name?.toLowerCase() === wanted) return h.value ?? null;
  return null;
}

/** Gmail's base64url (RFC 4648 section 5); Node's decoder also takes padding and the standard alphabet. */
export function decodeBase64Url(data: string): Buffer {
  return Buffer.from(data, "base64url");
}

/** Depth-first, as the parts appear in the message. */
function* walk(part: MessagePart | undefined): Generator<MessagePart> {
  if (!part) return;
  yield part;
  for (const child of part.parts ?? []) yield* walk(child);
}

export function attachmentParts(payload: MessagePart | undefined): AttachmentPart[] {
  const found: AttachmentPart[] = [];
  for (const part of walk(payload)) {
    if (!part.filename) continue;
    found.push({
      position: found.length + 1,
      partId: part.partId ?? "",
      filename: part.filename,
      mimeType: essence(part.mimeType),
      size: part.body?.size ?? 0,
      ...(part.body?.attachmentId ? { attachmentId: part.body.attachmentId } : {}),
      ...(typeof part.body?.data === "string" ? { data: part.body.data } : {}),
    });
  }
  return found;
}

/**
 * The first text/plain part that is not an attachment, depth-first: in a multipart/alternative
 * that is the plain rendering of the message; in multipart/mixed, the text before attachments.
 */
export function plainTextPart(payload: MessagePart | undefined): TextPart | undefined {
  for (const part of walk(payload)) {
    if (essence(part.mimeType) !== "text/plain" || part.filename) continue;
    if (/^\s*attachment\b/i.test(header(part, "Content-Disposition") ?? "")) continue;
    return {
      charset: charsetOf(header(part, "Content-Type")),
      ...(typeof part.body?.data === "string" ? { data: part.body.data } : {}),
      ...(part.body?.attachmentId ? { attachmentId: part.body.attachmentId } : {}),
    };
  }
  return undefined;
}

/**
 * Gmail returns a part's bytes after undoing its transfer encoding (base64, quoted-printable)
 * but, as observed rather than documented, still in the part's own charset: decode them with
 * it (for UTF-8 parts this changes nothing). Unknown labels fall back to UTF-8, and bytes that
 * do not decode become U+FFFD rather than failing the run.
 */
export function decodeText(bytes: Uint8Array, charset: string): string {
  try {
    return new TextDecoder(charset).decode(bytes);
  } catch {
    return new TextDecoder("utf-8").decode(bytes);
  }
}

/** `text/CSV; name="a.csv"` -> `text/csv`. */
export function essence(mimeType: string | null | undefined): string {
  return (mimeType ?? "").split(";")[0]!.trim().toLowerCase();
}

function charsetOf(contentType: string | null): string {
  const match = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType ?? "");
  return match ? match[1]!.toLowerCase() : "utf-8";
}
