/**
 * Turns one page of message ids into batches: a `records` batch of the page's messages, or
 * one `file` batch per selected attachment. Messages are fetched `concurrency` at a time and
 * kept in the page's order; memory holds one page of messages (`max_results`) and one
 * attachment, never the whole stream.
 */
import type { ExtractBatch, Logger } from "@xo-foundry/core";
import type { AttachmentSelector } from "./attachment-filter.js";
import { mapBounded } from "./bounded.js";
import { landedFileName } from "./file-name.js";
import type { GmailApi, Message } from "./gmail-api.js";
import type { LabelIndex } from "./labels.js";
import { messageRecord, plainTextBody, RECORD_HEADERS, type MessageRecord } from "./message-record.js";
import type { LandedFormat } from "./options.js";
import { attachmentParts, decodeBase64Url, type AttachmentPart } from "./parts.js";
import { inWindow, type WindowBounds } from "./window.js";

/** Landed files are handed to the runtime in pieces of this size. */
const CHUNK_BYTES = 64 * 1024;

/** Which of the selected messages belong to the stream; the reason a message is left out, or undefined. */
export interface MessageRules {
  /** Window syncs: internalDate must be in the window. History syncs read whatever is new. */
  readonly bounds?: WindowBounds | undefined;
  /** Label ids every message must carry (history syncs can only ask Gmail for one). */
  readonly labelIds: readonly string[];
  readonly includeSpamTrash: boolean;
}

export interface ReaderInput {
  readonly api: GmailApi;
  readonly labels: LabelIndex;
  readonly concurrency: number;
  readonly log: Logger;
}

export interface RecordOptions extends ReaderInput {
  readonly includeBody: boolean;
}

export interface AttachmentOptions extends ReaderInput {
  readonly select: AttachmentSelector;
  readonly format: LandedFormat;
}

/**
 * Why a message is not part of the stream. Drafts never are: Gmail stores a new draft message
 * on every autosave, and an unsent draft is not mail that arrived. Spam and Trash are left out
 * unless asked for, as `messages.list` does.
 */
export function exclusion(message: Message, rules: MessageRules): string | undefined {
  const labelIds = message.labelIds ?? [];
  if (labelIds.includes("DRAFT")) return "it is a draft";
  if (!rules.includeSpamTrash && (labelIds.includes("SPAM") || labelIds.includes("TRASH"))) return "it is in Spam or Trash";
  const missing = rules.labelIds.filter((id) => !labelIds.includes(id));
  if (missing.length) return `it lacks label ${missing.join(", ")}`;
  if (rules.bounds && !inWindow(message.internalDate, rules.bounds)) return `its internalDate ${message.internalDate ?? "(none)"} is outside the window`;
  return undefined;
}

export async function* recordBatches(ids: readonly string[], rules: MessageRules, options: RecordOptions): AsyncGenerator<ExtractBatch, void, undefined> {
  const records = await mapBounded(ids, options.concurrency, async (id) => {
    const message = await fetchIncluded(id, options.includeBody ? "full" : "metadata", rules, options);
    if (!message) return undefined;
    const body = options.includeBody ? await plainTextBody(message, async (attachmentId) => (await options.api.getAttachment(id, attachmentId)).data) : undefined;
    return messageRecord(message, options.labels, body);
  });
  const kept = records.filter((r): r is MessageRecord => r !== undefined);
  if (kept.length) yield { type: "records", records: kept };
}

export async function* attachmentBatches(ids: readonly string[], rules: MessageRules, options: AttachmentOptions): AsyncGenerator<ExtractBatch, void, undefined> {
  const messages = await mapBounded(ids, options.concurrency, async (id) => {
    const message = await fetchIncluded(id, "full", rules, options);
    // Only what landing needs is kept, not the message's parts and bodies.
    return message ? { id, threadId: message.threadId ?? "", internalDate: message.internalDate, attachments: selected(message, id, options) } : undefined;
  });
  for (const message of messages) {
    if (!message) continue;
    for (const attachment of message.attachments) {
      const data = attachment.data ?? (attachment.attachmentId ? (await options.api.getAttachment(message.id, attachment.attachmentId)).data : undefined) ?? "";
      const bytes = decodeBase64Url(data);
      const internal = Number(message.internalDate);
      yield {
        type: "file",
        name: landedFileName(message.id, attachment.position, attachment.filename),
        format: options.format,
        body: chunks(bytes),
        metadata: {
          message_id: message.id,
          thread_id: message.threadId,
          message_date: Number.isFinite(internal) ? new Date(internal).toISOString() : "",
          filename: attachment.filename,
          mime_type: attachment.mimeType,
          size: bytes.length,
        },
      };
    }
  }
}

async function fetchIncluded(id: string, format: "full" | "metadata", rules: MessageRules, options: ReaderInput): Promise<Message | undefined> {
  const message = await options.api.getMessage(id, format, RECORD_HEADERS);
  if (!message) {
    options.log.info(`message ${id} was deleted after it was listed; skipped`);
    return undefined;
  }
  const excluded = exclusion(message, rules);
  if (excluded) {
    options.log.debug(`message ${id} skipped: ${excluded}`);
    return undefined;
  }
  return message;
}

function selected(message: Message, id: string, options: AttachmentOptions): AttachmentPart[] {
  return attachmentParts(message.payload).filter((a) => {
    const skip = options.select(a);
    if (skip) options.log[skip.level](`attachment ${JSON.stringify(a.filename)} of message ${id} skipped: ${skip.reason}`);
    return skip === undefined;
  });
}

async function* chunks(bytes: Buffer): AsyncGenerator<Uint8Array, void, undefined> {
  for (let offset = 0; offset < bytes.length; offset += CHUNK_BYTES) yield bytes.subarray(offset, offset + CHUNK_BYTES);
}
