/**
 * One record per message. Header values are passed through as Gmail returns them (`From` keeps
 * its display name: `"Billing" <billing@vendor.example>`); `date` is the message's internalDate
 * (when Gmail accepted it, the same instant the window is decided by), not its `Date` header,
 * which the sender's clock wrote. `snippet` is Gmail's, HTML-escaped as Gmail returns it.
 */
import type { Message } from "./gmail-api.js";
import type { LabelIndex } from "./labels.js";
import { decodeBase64Url, decodeText, header, plainTextPart } from "./parts.js";

/** The headers a record carries: what `format=metadata` is asked for when no body is needed. */
export const RECORD_HEADERS: readonly string[] = ["Subject", "From", "To", "Cc"];

/** A type, not an interface, so that it is a `Record<string, unknown>` as batches want. */
export type MessageRecord = {
  readonly id: string;
  readonly thread_id: string | null;
  readonly date: string | null;
  readonly subject: string | null;
  readonly from: string | null;
  readonly to: string | null;
  readonly cc: string | null;
  readonly snippet: string | null;
  readonly label_ids: string[];
  readonly label_names: string[];
  readonly size_estimate: number | null;
  readonly history_id: string | null;
  /** Only with `include_body`: the text/plain part, or null when the message has none. */
  readonly body?: string | null;
};

export function messageRecord(message: Message, labels: LabelIndex, body?: string | null): MessageRecord {
  const labelIds = message.labelIds ?? [];
  const internal = Number(message.internalDate);
  return {
    id: message.id ?? "",
    thread_id: message.threadId ?? null,
    date: Number.isFinite(internal) && message.internalDate ? new Date(internal).toISOString() : null,
    subject: header(message.payload, "Subject"),
    from: header(message.payload, "From"),
    to: header(message.payload, "To"),
    cc: header(message.payload, "Cc"),
    snippet: message.snippet ?? null,
    label_ids: [...labelIds],
    label_names: labelIds.map((id) => labels.nameOf(id)),
    size_estimate: message.sizeEstimate ?? null,
    history_id: message.historyId ?? null,
    ...(body !== undefined ? { body } : {}),
  };
}

/**
 * The message's text/plain body, or null when it has none. An HTML-only message is left null
 * rather than stripped of tags: text recovered from HTML by anything short of an HTML parser
 * mangles entities, scripts and layout, and `snippet` already gives a plain preview.
 */
export async function plainTextBody(message: Message, fetchAttachment: (attachmentId: string) => Promise<string | null | undefined>): Promise<string | null> {
  // A text/plain part with an empty body is an empty string; no text/plain part at all is null.
  const part = plainTextPart(message.payload);
  if (!part) return null;
  // Gmail moves large bodies out of the message, like attachments.
  const data = part.data ?? (part.attachmentId ? await fetchAttachment(part.attachmentId) : undefined) ?? "";
  return decodeText(decodeBase64Url(data), part.charset);
}
