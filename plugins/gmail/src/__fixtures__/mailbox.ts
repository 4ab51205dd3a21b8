/**
 * A mailbox the emulator serves, defined by a test: labels, messages (headers, internalDate,
 * text and HTML bodies, attachments) and the history Gmail keeps of them. Messages are built
 * into Gmail's resources as the discovery document's schemas describe them (`Message`,
 * `MessagePart`, `MessagePartBody`, `History`, `Label`, `Profile`).
 *
 * ASSUMED, as observed of Gmail rather than documented:
 * - the MessagePart tree: the root part has partId "" and its children "0", "1", their
 *   children "0.0", ...; a message with attachments is multipart/mixed holding a
 *   multipart/alternative (text/plain, text/html) and the attachments;
 * - parts with a file name, and bodies larger than `largeBodyBytes`, carry `body.attachmentId`
 *   instead of `body.data`; attachment ids are long opaque strings (here `ANGjdJ` + base64url);
 * - `snippet` is the start of the text, whitespace collapsed, HTML-escaped;
 * - `sizeEstimate` is about the size of the RFC 822 message;
 * - message ids are 16 hex digits, history ids grow with gaps.
 */
import type { SearchDoc } from "./gmail_search.js";

export const SYSTEM_LABELS: readonly string[] = [
  "CHAT",
  "SENT",
  "INBOX",
  "IMPORTANT",
  "TRASH",
  "DRAFT",
  "SPAM",
  "CATEGORY_FORUMS",
  "CATEGORY_UPDATES",
  "CATEGORY_PERSONAL",
  "CATEGORY_PROMOTIONS",
  "CATEGORY_SOCIAL",
  "STARRED",
  "UNREAD",
];

export interface LabelSpec {
  readonly name: string;
  /** Default `Label_<n>`, as Gmail numbers user labels. */
  readonly id?: string;
}

export interface AttachmentSpec {
  readonly filename: string;
  readonly mimeType: string;
  readonly content: string | Uint8Array;
  /** ASSUMED variant: the content in `body.data`, with no attachment id. */
  readonly inline?: boolean;
}

export interface MessageSpec {
  readonly id?: string;
  readonly threadId?: string;
  /** Epoch ms, or an ISO 8601 instant. */
  readonly internalDate: number | string;
  /** Label ids or names. */
  readonly labels?: readonly string[];
  readonly from?: string;
  readonly to?: string;
  readonly cc?: string;
  readonly subject?: string;
  /** More headers of the top-level part. */
  readonly headers?: Readonly<Record<string, string>>;
  /** The text/plain body; bytes with their charset for other encodings than UTF-8. */
  readonly text?: string | { readonly bytes: Uint8Array; readonly charset: string };
  readonly html?: string;
  readonly attachments?: readonly AttachmentSpec[];
}

export interface MailboxSpec {
  readonly email: string;
  readonly labels?: readonly LabelSpec[];
  readonly messages?: readonly MessageSpec[];
  /** OAuth client ids whose refresh tokens this user granted: their tokens read this mailbox. */
  readonly clients?: readonly string[];
  /** Bodies larger than this move to an attachment id. */
  readonly largeBodyBytes?: number;
}

export interface PartNode {
  readonly partId: string;
  readonly mimeType: string;
  readonly filename: string;
  readonly headers: readonly { readonly name: string; readonly value: string }[];
  readonly bytes?: Buffer;
  readonly inline?: boolean;
  readonly parts?: readonly PartNode[];
}

export interface StoredMessage {
  readonly id: string;
  readonly threadId: string;
  readonly labelIds: readonly string[];
  readonly internalDate: number;
  readonly historyId: number;
  readonly payload: PartNode;
  readonly snippet: string;
  readonly sizeEstimate: number;
  readonly search: SearchDoc;
}

interface HistoryRecord {
  readonly id: number;
  readonly type: "messageAdded" | "messageDeleted";
  readonly message: { readonly id: string; readonly threadId: string; readonly labelIds: readonly string[] };
}

const HISTORY_GAPS = [3, 7, 2, 11, 5];
const SNIPPET_CHARS = 120;

export class Mailbox {
  readonly email: string;
  readonly clients: readonly string[];
  readonly labels: { readonly id: string; readonly name: string; readonly type: "system" | "user" }[];
  private readonly messages = new Map<string, StoredMessage>();
  private readonly history: HistoryRecord[] = [];
  private historyId = 1000;
  private events = 0;
  private nextMessage = 0x18c2f3a000000000n;
  /** History at or before this id is gone: a startHistoryId below it answers 404. */
  oldestHistoryId = 0;
  readonly largeBodyBytes: number;

  constructor(spec: MailboxSpec) {
    this.email = spec.email;
    this.clients = spec.clients ?? [];
    this.largeBodyBytes = spec.largeBodyBytes ?? Number.POSITIVE_INFINITY;
    this.labels = [
      ...SYSTEM_LABELS.map((id) => ({ id, name: id, type: "system" as const })),
      ...(spec.labels ?? []).map((l, i) => ({ id: l.id ?? `Label_${i + 1}`, name: l.name, type: "user" as const })),
    ];
    for (const m of spec.messages ?? []) this.deliver(m);
  }

  /** The mailbox's current history id. */
  get currentHistoryId(): number {
    return this.historyId;
  }

  /** Adds a message as Gmail does on delivery: a new history record of type messageAdded. */
  deliver(spec: MessageSpec): StoredMessage {
    const id = spec.id ?? (this.nextMessage++).toString(16);
    if (this.messages.has(id)) throw new Error(`the emulated mailbox already has a message ${id}`);
    const labelIds = (spec.labels ?? ["INBOX"]).map((l) => this.labelId(l));
    const historyId = this.advance();
    const stored = buildMessage(id, spec, labelIds, historyId, this.labelNames(labelIds));
    this.messages.set(id, stored);
    this.history.push({ id: historyId, type: "messageAdded", message: { id, threadId: stored.threadId, labelIds } });
    return stored;
  }

  /** Deletes a message for good (not to Trash): a messageDeleted record. */
  delete(id: string): void {
    const stored = this.messages.get(id);
    if (!stored) throw new Error(`no message ${id}`);
    this.messages.delete(id);
    this.history.push({ id: this.advance(), type: "messageDeleted", message: { id, threadId: stored.threadId, labelIds: stored.labelIds } });
  }

  /** Gmail keeps history "for at least a week": forget everything up to now. */
  expireHistory(): void {
    this.oldestHistoryId = this.historyId;
  }

  message(id: string): StoredMessage | undefined {
    return this.messages.get(id);
  }

  /** All messages, newest first (internalDate, then id), as messages.list orders them. ASSUMED tie order. */
  newestFirst(): StoredMessage[] {
    return [...this.messages.values()].sort((a, b) => b.internalDate - a.internalDate || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  }

  /** History records after `start`, oldest first. */
  historyAfter(start: number): readonly HistoryRecord[] {
    return this.history.filter((h) => h.id > start);
  }

  labelId(idOrName: string): string {
    const label = this.labels.find((l) => l.id === idOrName) ?? this.labels.find((l) => l.name === idOrName);
    if (!label) throw new Error(`the emulated mailbox ${this.email} has no label ${idOrName}`);
    return label.id;
  }

  private labelNames(ids: readonly string[]): string[] {
    return ids.map((id) => this.labels.find((l) => l.id === id)?.name ?? id);
  }

  private advance(): number {
    this.historyId += HISTORY_GAPS[this.events++ % HISTORY_GAPS.length]!;
    return this.historyId;
  }
}

function buildMessage(id: string, spec: MessageSpec, labelIds: readonly string[], historyId: number, labelNames: readonly string[]): StoredMessage {
  const internalDate = typeof spec.internalDate === "number" ? spec.internalDate : Date.parse(spec.internalDate);
  if (!Number.isFinite(internalDate)) throw new Error(`message ${id}: internalDate ${String(spec.internalDate)} is not an instant`);
  const text = spec.text === undefined ? undefined : typeof spec.text === "string" ? { bytes: Buffer.from(spec.text, "utf8"), charset: "utf-8" } : { bytes: Buffer.from(spec.text.bytes), charset: spec.text.charset };
  const textString = typeof spec.text === "string" ? spec.text : text ? new TextDecoder(text.charset).decode(text.bytes) : "";

  const bodyParts: Omit<PartNode, "partId">[] = [];
  if (text) bodyParts.push(leaf(`text/plain; charset="${text.charset.toUpperCase()}"`, text.bytes));
  if (spec.html !== undefined) bodyParts.push(leaf('text/html; charset="UTF-8"', Buffer.from(spec.html, "utf8")));
  if (!bodyParts.length) bodyParts.push(leaf('text/plain; charset="UTF-8"', Buffer.alloc(0)));
  const body = bodyParts.length === 1 ? bodyParts[0]! : container("multipart/alternative", bodyParts);
  const attachments = (spec.attachments ?? []).map(attachmentPart);
  const tree = attachments.length ? container("multipart/mixed", [body, ...attachments]) : body;

  const topHeaders: { name: string; value: string }[] = [
    { name: "MIME-Version", value: "1.0" },
    { name: "Date", value: new Date(internalDate).toUTCString().replace("GMT", "+0000") },
    ...(spec.headers?.["Message-ID"] === undefined ? [{ name: "Message-ID", value: `<${id}@mail.example.test>` }] : []),
    ...(spec.subject !== undefined ? [{ name: "Subject", value: spec.subject }] : []),
    ...(spec.from !== undefined ? [{ name: "From", value: spec.from }] : []),
    ...(spec.to !== undefined ? [{ name: "To", value: spec.to }] : []),
    ...(spec.cc !== undefined ? [{ name: "Cc", value: spec.cc }] : []),
    ...Object.entries(spec.headers ?? {}).map(([name, value]) => ({ name, value })),
  ];
  const payload = numbered({ ...tree, headers: [...topHeaders, ...tree.headers] }, "");
  const snippetSource = textString || (spec.html ?? "").replace(/<[^>]*>/g, " ");
  return {
    id,
    threadId: spec.threadId ?? id,
    labelIds,
    internalDate,
    historyId,
    payload,
    snippet: escapeHtml(snippetSource.replace(/\s+/g, " ").trim().slice(0, SNIPPET_CHARS)),
    sizeEstimate: sizeOf(payload),
    search: {
      from: spec.from ?? "",
      to: spec.to ?? "",
      cc: spec.cc ?? "",
      subject: spec.subject ?? "",
      messageId: topHeaders.find((h) => h.name.toLowerCase() === "message-id")?.value ?? "",
      text: textString,
      filenames: (spec.attachments ?? []).map((a) => a.filename),
      labelIds,
      labelNames,
      internalDate,
    },
  };
}

function leaf(contentType: string, bytes: Buffer): Omit<PartNode, "partId"> {
  return { mimeType: contentType.split(";")[0]!, filename: "", headers: [{ name: "Content-Type", value: contentType }, { name: "Content-Transfer-Encoding", value: "quoted-printable" }], bytes };
}

function container(mimeType: string, parts: readonly Omit<PartNode, "partId">[]): Omit<PartNode, "partId"> & { parts: readonly Omit<PartNode, "partId">[] } {
  return { mimeType, filename: "", headers: [{ name: "Content-Type", value: `${mimeType}; boundary="${mimeType.replace("/", "_")}_boundary"` }], parts: parts as PartNode[] };
}

function attachmentPart(a: AttachmentSpec): Omit<PartNode, "partId"> {
  const quoted = a.filename.replace(/["\\]/g, "\\$&");
  return {
    mimeType: a.mimeType,
    filename: a.filename,
    headers: [
      { name: "Content-Type", value: `${a.mimeType}; name="${quoted}"` },
      { name: "Content-Disposition", value: `attachment; filename="${quoted}"` },
      { name: "Content-Transfer-Encoding", value: "base64" },
    ],
    bytes: typeof a.content === "string" ? Buffer.from(a.content, "utf8") : Buffer.from(a.content),
    ...(a.inline ? { inline: true } : {}),
  };
}

/** Gives every part its partId: "" for the root, "0", "1" for its children, "0.0" below. */
function numbered(part: Omit<PartNode, "partId">, partId: string): PartNode {
  const prefix = partId === "" ? "" : `${partId}.`;
  return { ...part, partId, ...(part.parts ? { parts: part.parts.map((p, i) => numbered(p, `${prefix}${i}`)) } : {}) };
}

function sizeOf(part: PartNode): number {
  const headers = part.headers.reduce((n, h) => n + h.name.length + h.value.length + 4, 0);
  const bytes = part.bytes ? Math.ceil((part.bytes.length * 4) / 3) : 0;
  return headers + bytes + (part.parts ?? []).reduce((n, p) => n + sizeOf(p), 0);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&${{ "&": "amp", "<": "lt", ">": "gt", '"': "quot", "'": "#39" }[c]};`);
}
