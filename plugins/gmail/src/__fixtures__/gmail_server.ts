/**
 * A loopback emulator of the Gmail API v1, on node:http at 127.0.0.1 and a free port. The
 * plugin reaches it through googleapis' generated client (`@googleapis/gmail` with `rootUrl`)
 * and the real Node HTTP stack; access tokens come from the testkit's OAuth 2 token endpoint
 * and are checked against it on every request.
 *
 * Follows: the Gmail API discovery document `gmail:v1` (paths, parameters, enums, scopes,
 * schemas), as generated into `@googleapis/gmail` 18.0.0 and as vendored in
 * googleapis/google-api-go-client (gmail/v1/gmail-api.json, commit 034a6b8f), with Gmail's
 * reference pages and its guides "Searching for messages", "Synchronize clients with Gmail" and
 * "Resolve errors". The rules are transcribed, with their sources, in gmail_api.ts (methods,
 * parameters, error bodies), gmail_search.ts (the `q` grammar) and mailbox.ts (resources).
 *
 * Serves: users.getProfile, users.labels.list, users.messages.list (q, labelIds (all must
 * match), maxResults <= 500, pageToken, includeSpamTrash; newest first), users.messages.get
 * (format minimal | full | metadata with metadataHeaders), users.messages.attachments.get,
 * users.history.list (startHistoryId, historyTypes, labelId, maxResults, pageToken; 404 when
 * the start is older than the history kept).
 * Refuses as Google does, with `{ error: { code, message, errors: [{ message, domain, reason }], status } }`:
 * 401 authError for a missing, unknown or expired token; 403 insufficientPermissions for a token
 * without the method's scopes; 400 for parameters the discovery document rules out; 404 for
 * unknown messages and attachments, and for history that is too old.
 * ASSUMED (no description covers them): a 401 carries a `WWW-Authenticate: Bearer` header; a
 * `userId` other than `me` or the token's own mailbox gets 403 "Delegation denied for ..."; a
 * service account acting as itself (no `sub`) gets 400 failedPrecondition; gmail.metadata
 * tokens get 403 for `q` and for format=full; an unknown label id in `labelIds` gets 400
 * "Invalid label"; a page token from another query gets 400 "Invalid pageToken"; page tokens
 * are keyset cursors, so a message delivered between pages does not shift later pages;
 * `startHistoryId` newer than the mailbox's gives an empty list; the mailbox of a refresh-token
 * client is the one whose `clients` lists it.
 * STRICTER: unknown query parameters and repeated non-repeated ones are refused; format=raw is
 * not emulated (400); only GET routes exist.
 * Scripted per test: faults (any GoogleError, e.g. 429 with Retry-After, 403
 * rateLimitExceeded, 500, 503; or a stall) on chosen calls of a method, hooks before a chosen
 * call, a delay on messages.get, and the peak number of concurrent messages.get calls.
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { OAuthServer } from "@xo-foundry/testkit";
import {
  badRequest,
  DEFAULT_MAX_RESULTS,
  delegationDenied,
  failedPrecondition,
  GoogleError,
  insufficientScopes,
  invalidCredentials,
  matchMethod,
  METADATA_SCOPE,
  metadataScope,
  notFound,
  readParams,
  type MethodId,
  type ParamValue,
} from "./gmail_api.js";
import { InvalidQuery, parseQuery } from "./gmail_search.js";
import { Mailbox, type MailboxSpec, type PartNode, type StoredMessage } from "./mailbox.js";

export { FAULTS, GoogleError, insufficientScopes, invalidCredentials, type MethodId } from "./gmail_api.js";
export { Mailbox, type AttachmentSpec, type MailboxSpec, type MessageSpec } from "./mailbox.js";

/** The scopes that read message content; a token with only gmail.metadata is restricted. */
const CONTENT_SCOPES = ["https://mail.google.com/", "https://www.googleapis.com/auth/gmail.modify", "https://www.googleapis.com/auth/gmail.readonly"];

export interface RecordedRequest {
  readonly method: MethodId | undefined;
  readonly path: string;
  readonly query: URLSearchParams;
  /** 1-based number of this call among the calls of its method since the last reset. */
  readonly call: number;
  /** The mailbox the token reads, once known. */
  user?: string;
  status?: number;
}

export interface GmailEmulator {
  /** The `rootUrl` for googleapis: `http://127.0.0.1:<port>/`. */
  readonly url: string;
  readonly requests: readonly RecordedRequest[];
  /** Defines a mailbox (replacing one with the same address). */
  mailbox(spec: MailboxSpec): Mailbox;
  /** The most messages.get calls that were in progress at the same time. */
  readonly peakConcurrentGets: number;
  /** Delay before messages.get answers, to make overlapping calls visible. */
  getDelayMs: number;
  /** Answers a call of `method` with `fault` instead: the `call`-th one (1-based), or the next one. */
  fault(method: MethodId, fault: GoogleError | "stall", options?: { readonly call?: number }): void;
  /** Runs `fn` when the `call`-th call of `method` arrives, before it is answered. */
  before(method: MethodId, call: number, fn: () => void): void;
  calls(method: MethodId): readonly RecordedRequest[];
  /** Forgets mailboxes, requests, faults, hooks and counters. */
  reset(): void;
  close(): Promise<void>;
}

interface ScriptedFault {
  readonly call?: number | undefined;
  readonly answer: GoogleError | "stall";
}

export async function startGmailEmulator(input: { readonly oauth: OAuthServer }): Promise<GmailEmulator> {
  const { oauth } = input;
  const mailboxes = new Map<string, Mailbox>();
  const requests: RecordedRequest[] = [];
  const counts = new Map<MethodId, number>();
  const faults = new Map<MethodId, ScriptedFault[]>();
  const hooks: { method: MethodId; call: number; fn: () => void }[] = [];
  const state = { getDelayMs: 0, activeGets: 0, peakConcurrentGets: 0 };

  const server = createServer((req, res) => {
    // Bodies are never expected (every route is a GET); drain whatever comes.
    req.resume();
    req.on("end", () => {
      void handle(req, res).catch((e: unknown) => send(res, e instanceof Refusal ? e.error : new GoogleError(500, "INTERNAL", `emulator failure: ${String(e)}`, "backendError")));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const route = matchMethod(req.method ?? "", url.pathname);
    const call = route ? (counts.get(route.rule.id) ?? 0) + 1 : 0;
    if (route) counts.set(route.rule.id, call);
    const record: RecordedRequest = { method: route?.rule.id, path: url.pathname, query: url.searchParams, call };
    requests.push(record);
    res.on("finish", () => (record.status = res.statusCode));
    if (!route) return send(res, new GoogleError(404, "NOT_FOUND", `No route ${req.method} ${url.pathname}`, "notFound"));

    for (const hook of hooks) if (hook.method === route.rule.id && hook.call === call) hook.fn();

    const token = oauth.verify(req.headers.authorization);
    if (!token.ok) return send(res, invalidCredentials());
    if (!route.rule.scopes.some((s) => token.scopes.includes(s))) return send(res, insufficientScopes());

    const fault = takeFault(route.rule.id, call);
    if (fault === "stall") return; // The socket stays open and silent; close() ends it.
    if (fault) return send(res, fault);

    const read = readParams(route.rule, url.searchParams);
    if ("error" in read) return send(res, read.error);

    const mailbox = token.subject !== undefined ? mailboxes.get(token.subject.toLowerCase()) : [...mailboxes.values()].find((m) => token.clientId !== undefined && m.clients.includes(token.clientId));
    if (!mailbox) return send(res, failedPrecondition());
    record.user = mailbox.email;
    const userId = route.pathParams.userId!;
    if (userId !== "me" && userId.toLowerCase() !== mailbox.email.toLowerCase()) return send(res, delegationDenied(userId));

    const metadataOnly = !CONTENT_SCOPES.some((s) => token.scopes.includes(s)) && token.scopes.includes(METADATA_SCOPE);
    const p = read.params;
    switch (route.rule.id) {
      case "gmail.users.getProfile":
        return sendJson(res, { emailAddress: mailbox.email, messagesTotal: mailbox.newestFirst().length, threadsTotal: new Set(mailbox.newestFirst().map((m) => m.threadId)).size, historyId: String(mailbox.currentHistoryId) });
      case "gmail.users.labels.list":
        return sendJson(res, { labels: mailbox.labels.map((l) => ({ id: l.id, name: l.name, type: l.type, ...(l.type === "user" ? { messageListVisibility: "show", labelListVisibility: "labelShow" } : {}) })) });
      case "gmail.users.messages.list":
        if (metadataOnly && p.q !== undefined) return send(res, metadataScope("Metadata scope does not support 'q' parameter"));
        return sendJson(res, listMessages(mailbox, p));
      case "gmail.users.messages.get":
        return getMessage(res, mailbox, route.pathParams.id!, p, metadataOnly);
      case "gmail.users.messages.attachments.get": {
        const body = attachment(mailbox, route.pathParams.messageId!, route.pathParams.id!);
        return body ? sendJson(res, body) : send(res, notFound());
      }
      case "gmail.users.history.list":
        return sendJson(res, listHistory(mailbox, p));
    }
  }

  function takeFault(method: MethodId, call: number): GoogleError | "stall" | undefined {
    const list = faults.get(method);
    if (!list?.length) return undefined;
    const index = list.findIndex((f) => f.call === call) >= 0 ? list.findIndex((f) => f.call === call) : list.findIndex((f) => f.call === undefined);
    if (index < 0) return undefined;
    return list.splice(index, 1)[0]!.answer;
  }

  async function getMessage(res: ServerResponse, mailbox: Mailbox, id: string, p: Record<string, ParamValue>, metadataOnly: boolean): Promise<void> {
    state.activeGets++;
    state.peakConcurrentGets = Math.max(state.peakConcurrentGets, state.activeGets);
    try {
      if (state.getDelayMs) await new Promise((r) => setTimeout(r, state.getDelayMs));
      const format = (p.format as string | undefined) ?? "full"; // discovery: "default": "full"
      if (metadataOnly && (format === "full" || format === "raw")) return send(res, metadataScope(`Metadata scope doesn't allow format ${format.toUpperCase()}`));
      if (format === "raw") return send(res, badRequest("format=raw is not emulated (STRICTER than Gmail)"));
      const message = mailbox.message(id);
      if (!message) return send(res, notFound());
      sendJson(res, messageResource(message, format, (p.metadataHeaders as readonly string[] | undefined) ?? [], mailbox.largeBodyBytes));
    } finally {
      state.activeGets--;
    }
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    mailbox(spec) {
      const mailbox = new Mailbox(spec);
      mailboxes.set(spec.email.toLowerCase(), mailbox);
      return mailbox;
    },
    get peakConcurrentGets() {
      return state.peakConcurrentGets;
    },
    get getDelayMs() {
      return state.getDelayMs;
    },
    set getDelayMs(ms) {
      state.getDelayMs = ms;
    },
    fault(method, fault, options = {}) {
      faults.set(method, [...(faults.get(method) ?? []), { call: options.call, answer: fault }]);
    },
    before(method, call, fn) {
      hooks.push({ method, call, fn });
    },
    calls: (method) => requests.filter((r) => r.method === method),
    reset() {
      mailboxes.clear();
      requests.length = 0;
      counts.clear();
      faults.clear();
      hooks.length = 0;
      Object.assign(state, { getDelayMs: 0, activeGets: 0, peakConcurrentGets: 0 });
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
    },
  };
}

// ------------------------------------------------------------------ users.messages.list

function listMessages(mailbox: Mailbox, p: Record<string, ParamValue>): object {
  const labelIds = (p.labelIds as readonly string[] | undefined) ?? [];
  for (const id of labelIds) if (!mailbox.labels.some((l) => l.id === id)) throw new Refusal(badRequest(`Invalid label: ${id}`, "invalidArgument"));
  let matches: (doc: StoredMessage["search"]) => boolean = () => true;
  if (p.q !== undefined) {
    try {
      matches = parseQuery(p.q as string);
    } catch (e) {
      if (e instanceof InvalidQuery) throw new Refusal(badRequest(e.message, "invalidArgument"));
      throw e;
    }
  }
  const includeSpamTrash = p.includeSpamTrash === true; // discovery: "default": "false"
  const selected = mailbox
    .newestFirst()
    .filter((m) => includeSpamTrash || !(m.labelIds.includes("SPAM") || m.labelIds.includes("TRASH")))
    .filter((m) => labelIds.every((id) => m.labelIds.includes(id)))
    .filter((m) => matches(m.search));
  const query = fingerprint([(p.q as string | undefined) ?? "", [...labelIds].sort().join(","), String(includeSpamTrash)]);
  let start = 0;
  if (p.pageToken !== undefined) {
    const cursor = readToken(p.pageToken as string, query);
    // Keyset: continue after the last message of the previous page, wherever it now sits.
    start = selected.findIndex((m) => m.internalDate < cursor.d || (m.internalDate === cursor.d && m.id < cursor.i));
    if (start < 0) start = selected.length;
  }
  const size = (p.maxResults as number | undefined) ?? DEFAULT_MAX_RESULTS;
  const page = selected.slice(start, start + size);
  const last = page.at(-1);
  const more = start + size < selected.length && last !== undefined;
  return {
    ...(page.length ? { messages: page.map((m) => ({ id: m.id, threadId: m.threadId })) } : {}),
    ...(more ? { nextPageToken: writeToken({ d: last.internalDate, i: last.id, f: query }) } : {}),
    resultSizeEstimate: selected.length,
  };
}

// ------------------------------------------------------------------ users.messages.get

function messageResource(m: StoredMessage, format: string, metadataHeaders: readonly string[], largeBodyBytes: number): object {
  const minimal = { id: m.id, threadId: m.threadId, labelIds: m.labelIds, snippet: m.snippet, sizeEstimate: m.sizeEstimate, historyId: String(m.historyId), internalDate: String(m.internalDate) };
  if (format === "minimal") return minimal;
  if (format === "metadata") {
    const wanted = metadataHeaders.map((h) => h.toLowerCase());
    const headers = m.payload.headers.filter((h) => !wanted.length || wanted.includes(h.name.toLowerCase()));
    return { ...minimal, payload: { partId: "", mimeType: m.payload.mimeType, filename: "", headers } };
  }
  return { ...minimal, payload: partResource(m, m.payload, largeBodyBytes) };
}

function partResource(m: StoredMessage, part: PartNode, largeBodyBytes: number): object {
  const bytes = part.bytes;
  const external = bytes !== undefined && ((part.filename !== "" && !part.inline) || bytes.length > largeBodyBytes);
  const body = !bytes || bytes.length === 0 ? { size: 0 } : external ? { attachmentId: attachmentId(m.id, part.partId), size: bytes.length } : { size: bytes.length, data: bytes.toString("base64url") };
  return {
    partId: part.partId,
    mimeType: part.mimeType,
    filename: part.filename,
    headers: part.headers,
    body,
    ...(part.parts ? { parts: part.parts.map((p) => partResource(m, p, largeBodyBytes)) } : {}),
  };
}

// ------------------------------------------------------------------ users.messages.attachments.get

const ATTACHMENT_PREFIX = "ANGjdJ";

function attachmentId(messageId: string, partId: string): string {
  return ATTACHMENT_PREFIX + Buffer.from(`${messageId}/${partId}`).toString("base64url");
}

function attachment(mailbox: Mailbox, messageId: string, id: string): object | undefined {
  if (!id.startsWith(ATTACHMENT_PREFIX)) return undefined;
  const [owner, partId] = Buffer.from(id.slice(ATTACHMENT_PREFIX.length), "base64url").toString("utf8").split("/");
  const message = mailbox.message(messageId);
  if (!message || owner !== messageId || partId === undefined) return undefined;
  const part = findPart(message.payload, partId);
  if (!part?.bytes) return undefined;
  return { attachmentId: id, size: part.bytes.length, data: part.bytes.toString("base64url") };
}

function findPart(part: PartNode, partId: string): PartNode | undefined {
  if (part.partId === partId) return part;
  for (const child of part.parts ?? []) {
    const found = findPart(child, partId);
    if (found) return found;
  }
  return undefined;
}

// ------------------------------------------------------------------ users.history.list

function listHistory(mailbox: Mailbox, p: Record<string, ParamValue>): object {
  const start = Number(p.startHistoryId);
  // "Supplying an invalid or out of date startHistoryId typically returns an HTTP 404 error code."
  if (start < mailbox.oldestHistoryId) throw new Refusal(notFound());
  const labelId = p.labelId as string | undefined;
  if (labelId !== undefined && !mailbox.labels.some((l) => l.id === labelId)) throw new Refusal(badRequest(`Invalid label: ${labelId}`, "invalidArgument"));
  const types = (p.historyTypes as readonly string[] | undefined) ?? ["messageAdded", "messageDeleted", "labelAdded", "labelRemoved"];
  const query = fingerprint([String(start), labelId ?? "", [...types].sort().join(",")]);
  let records = mailbox.historyAfter(start).filter((h) => types.includes(h.type) && (labelId === undefined || h.message.labelIds.includes(labelId)));
  if (p.pageToken !== undefined) {
    const cursor = readToken(p.pageToken as string, query);
    records = records.filter((h) => h.id > cursor.d);
  }
  const size = (p.maxResults as number | undefined) ?? DEFAULT_MAX_RESULTS;
  const page = records.slice(0, size);
  const more = records.length > size;
  return {
    ...(page.length
      ? {
          history: page.map((h) => ({
            id: String(h.id),
            messages: [{ id: h.message.id, threadId: h.message.threadId }],
            [h.type === "messageAdded" ? "messagesAdded" : "messagesDeleted"]: [{ message: { id: h.message.id, threadId: h.message.threadId, labelIds: h.message.labelIds } }],
          })),
        }
      : {}),
    historyId: String(mailbox.currentHistoryId),
    ...(more ? { nextPageToken: writeToken({ d: page.at(-1)!.id, i: "", f: query }) } : {}),
  };
}

// ------------------------------------------------------------------ plumbing

/** A refusal thrown from a handler, answered with its Google error. */
class Refusal extends Error {
  constructor(readonly error: GoogleError) {
    super(error.message);
  }
}

interface Cursor {
  readonly d: number;
  readonly i: string;
  /** Which query the token belongs to. */
  readonly f: string;
}

function writeToken(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString("base64url");
}

function readToken(token: string, query: string): Cursor {
  try {
    const cursor = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as Cursor;
    if (typeof cursor.d === "number" && typeof cursor.i === "string" && cursor.f === query) return cursor;
  } catch {
    // Refused below.
  }
  throw new Refusal(badRequest("Invalid pageToken", "invalidArgument"));
}

function fingerprint(parts: readonly string[]): string {
  return createHash("sha256").update(JSON.stringify(parts)).digest("base64url").slice(0, 16);
}

function send(res: ServerResponse, error: GoogleError): void {
  res.writeHead(error.code, { "content-type": "application/json; charset=UTF-8", ...error.headers });
  res.end(JSON.stringify(error.body()));
}

function sendJson(res: ServerResponse, body: object): void {
  res.writeHead(200, { "content-type": "application/json; charset=UTF-8" });
  res.end(JSON.stringify(body));
}
