/**
 * A loopback HTTP API that takes batches of records, for `api.send` tests. Its handling of
 * idempotency keys follows the IETF draft "The Idempotency-Key HTTP Header Field"
 * (draft-ietf-httpapi-idempotency-key-header-07, https://datatracker.ietf.org/doc/html/draft-ietf-httpapi-idempotency-key-header):
 *
 * - section 2.1: the field is a Structured Field String (RFC 8941 section 3.3.3); a value
 *   that is not one is refused (400), as is a missing key when `requireKey` documents it
 *   as required (section 2.7, 400);
 * - section 2.4: the fingerprint is the SHA-256 of the whole request payload;
 * - section 2.6: a first request is processed; a retry after it completed gets the stored
 *   result, success or error, without being applied again; a retry while it is still being
 *   processed gets 409 Conflict;
 * - section 2.7: a key reused with a different payload gets 422 Unprocessable Content.
 *   Error bodies are RFC 9457 problem details.
 *
 * Like the implementations the draft lists (Stripe among them), a request refused before
 * processing began (rate limited, invalid, a fault scripted `before`) stores no result, so
 * its retry is processed. The record format is the test's: the request body (or the array at
 * `recordsAt`) holds JSON objects, and refused records are answered as
 * `{ "errors": [{ "index": <position in the batch>, "message": "<reason>" }] }`, with the
 * rest of the batch applied. It refuses what a JSON API refuses: another method (405), a
 * body that is not `application/json` (415), or not JSON, or holds no array of objects (400).
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { JsonObject } from "@xo-foundry/core";

export interface ReceiverOptions {
  /** Dotted path of the records array in the request body; by default the body is the array. */
  readonly recordsAt?: string;
  /** The idempotency header, compared case-insensitively. */
  readonly keyHeader?: string;
  /** How the key is written: a Structured Field String (the draft), or bare (Stripe). */
  readonly keyFormat?: "sf-string" | "bare";
  /** The API documents the key as required: a request without one gets 400. */
  readonly requireKey?: boolean;
  /** How long processing a batch takes, in milliseconds. */
  readonly processingMs?: number;
  /** A record's reason to refuse it, or undefined to apply it. */
  readonly refuse?: (record: JsonObject) => string | undefined;
  /** The status that answers a batch with refused records (400 by default; 200 and 207 for APIs that report them in a success). */
  readonly refuseStatus?: number;
}

/** One scripted misbehaviour, for the next request(s) that reach the receiver. */
export type Fault =
  /** Answered before processing: nothing applied, nothing stored (429 with Retry-After, 503, a 500 of a crashed worker). */
  | { readonly phase: "before"; readonly status: number; readonly retryAfter?: string; readonly headers?: Readonly<Record<string, string>> }
  /** The batch is applied and its result stored, but this answer is lost: replaced by `status` (a failing proxy), or the connection is cut. */
  | { readonly phase: "after"; readonly status: number }
  | { readonly phase: "after"; readonly drop: true }
  /** The batch is applied and its result stored, but the answer never comes (the client waits until it gives up or dies). */
  | { readonly phase: "after"; readonly hold: true }
  /** The whole batch is refused after validation (stored, so a retry gets the same refusal). */
  | { readonly phase: "refuse"; readonly status: number; readonly body: unknown };

export interface ReceivedRequest {
  readonly method: string;
  readonly path: string;
  /** The key as parsed, or undefined. */
  readonly key: string | undefined;
  /** The header as it came, or undefined. */
  readonly rawKey: string | undefined;
  readonly body: string;
  /** What the receiver answered (0 when it dropped or held the answer). */
  status: number;
  /** Whether the answer was a stored result (the batch was not applied again). */
  replayed: boolean;
}

export interface AppliedBatch {
  readonly key: string | undefined;
  readonly records: readonly JsonObject[];
}

interface Stored {
  readonly fingerprint: string;
  result?: { readonly status: number; readonly body: unknown };
}

export interface Receiver {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly requests: readonly ReceivedRequest[];
  /** The batches applied, in order; each record of a batch that was applied appears here once per application. */
  readonly applied: readonly AppliedBatch[];
  /** Ids (`record.id`) of every applied record, in order of application. */
  appliedIds(): unknown[];
  /** Queues `fault` for `times` requests, after `skip` requests that pass untouched. */
  fault(fault: Fault, when?: { readonly times?: number; readonly skip?: number }): void;
  /** Called after a batch was applied (and stored), before it is answered. */
  onApplied(listener: (batches: number) => void): void;
  close(): Promise<void>;
}

const DEFAULT_KEY_HEADER = "idempotency-key";

export async function startReceiver(options: ReceiverOptions = {}): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  const applied: AppliedBatch[] = [];
  const keys = new Map<string, Stored>();
  /** One entry per coming request; `undefined` lets a request pass. */
  const faults: (Fault | undefined)[] = [];
  const listeners: ((batches: number) => void)[] = [];
  const keyHeader = (options.keyHeader ?? DEFAULT_KEY_HEADER).toLowerCase();

  async function handle(req: IncomingMessage, res: ServerResponse, body: string): Promise<void> {
    const rawKey = header(req, keyHeader);
    const key = rawKey === undefined ? undefined : options.keyFormat === "bare" ? rawKey : parseSfString(rawKey);
    const received: ReceivedRequest = { method: req.method ?? "", path: req.url ?? "/", key, rawKey, body, status: 0, replayed: false };
    requests.push(received);
    const answer = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      received.status = status;
      const problem = status >= 400 && typeof payload === "object" && payload !== null && "title" in payload;
      res.writeHead(status, { "content-type": problem ? "application/problem+json" : "application/json", ...headers });
      res.end(JSON.stringify(payload));
    };

    if (!["POST", "PUT", "PATCH"].includes(received.method)) return answer(405, problem("Method Not Allowed", `${received.method} is not supported here`), { allow: "POST, PUT, PATCH" });
    if (!/^application\/json\b/.test(req.headers["content-type"] ?? "")) return answer(415, problem("Unsupported Media Type", "send application/json"));
    if (rawKey !== undefined && key === undefined) return answer(400, problem("Idempotency-Key is malformed", "the key must be a Structured Field String (RFC 8941), e.g. \"8e03978e-40d5-43e8-bc93-6894a57f9324\""));
    if (rawKey === undefined && options.requireKey) return answer(400, problem("Idempotency-Key is missing", "This operation is idempotent and it requires correct usage of Idempotency Key."));

    const fault = faults.shift();
    if (fault?.phase === "before") {
      const headers = { ...fault.headers, ...(fault.retryAfter === undefined ? {} : { "retry-after": fault.retryAfter }) };
      return answer(fault.status, problem("Scripted failure", `answered ${fault.status} before processing`), headers);
    }

    const fingerprint = createHash("sha256").update(body).digest("hex");
    const stored = key === undefined ? undefined : keys.get(key);
    if (stored) {
      // A scripted fault is for a request that gets processed; a replay leaves it to the next one.
      if (fault) faults.unshift(fault);
      if (stored.fingerprint !== fingerprint) return answer(422, problem("Idempotency-Key is already used", "Idempotency Key MUST not be reused across different payloads of this operation."));
      if (!stored.result) return answer(409, problem("A request is outstanding for this Idempotency-Key", "A request with the same Idempotency-Key for the same operation is being processed or is outstanding."));
      received.replayed = true;
      return answer(stored.result.status, stored.result.body);
    }

    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return answer(400, problem("Bad Request", "the body is not JSON"));
    }
    const records = options.recordsAt === undefined ? parsed : dotted(parsed, options.recordsAt);
    if (!Array.isArray(records) || records.some((r) => typeof r !== "object" || r === null || Array.isArray(r))) {
      return answer(400, problem("Bad Request", `expected an array of records at ${options.recordsAt ?? "the body"}`));
    }

    const entry: Stored = { fingerprint };
    if (key !== undefined) keys.set(key, entry);
    if (options.processingMs) await new Promise((resolve) => setTimeout(resolve, options.processingMs));

    let result: { status: number; body: unknown };
    if (fault?.phase === "refuse") {
      result = { status: fault.status, body: fault.body };
    } else {
      const errors: { index: number; message: string }[] = [];
      const accepted: JsonObject[] = [];
      (records as JsonObject[]).forEach((record, index) => {
        const why = options.refuse?.(record);
        if (why === undefined) accepted.push(record);
        else errors.push({ index, message: why });
      });
      applied.push({ key, records: accepted });
      result = errors.length ? { status: options.refuseStatus ?? 400, body: { accepted: accepted.length, errors } } : { status: 200, body: { accepted: accepted.length } };
      for (const listener of listeners) listener(applied.length);
    }
    entry.result = result;

    if (fault?.phase === "after") {
      if ("drop" in fault) {
        req.socket.destroy();
        return;
      }
      if ("hold" in fault) return;
      return answer(fault.status, problem("Scripted failure", `answered ${fault.status} after processing`));
    }
    answer(result.status, result.body);
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => void handle(req, res, Buffer.concat(chunks).toString("utf8")));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    applied,
    appliedIds: () => applied.flatMap((b) => b.records.map((r) => r.id)),
    fault(fault, { times = 1, skip = 0 } = {}) {
      for (let i = 0; i < skip; i++) faults.push(undefined);
      for (let i = 0; i < times; i++) faults.push(fault);
    },
    onApplied(listener) {
      listeners.push(listener);
    },
    close() {
      // Held answers leave sockets open; close() alone would wait for them.
      server.closeAllConnections();
      return new Promise((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
    },
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(", ") : value;
}

/** RFC 8941 section 4.2.5: a String item is `"` printable ASCII with `\"` and `\\` escapes `"`; anything else is no String. */
export function parseSfString(raw: string): string | undefined {
  const text = raw.trim();
  if (text.length < 2 || !text.startsWith('"') || !text.endsWith('"')) return undefined;
  let out = "";
  for (let i = 1; i < text.length - 1; i++) {
    const c = text[i]!;
    if (c < " " || c > "~") return undefined;
    if (c === '"') return undefined;
    if (c === "\\") {
      if (i + 1 >= text.length - 1) return undefined;
      const next = text[++i];
      if (next !== '"' && next !== "\\") return undefined;
      out += next;
    } else out += c;
  }
  return out;
}

function problem(title: string, detail: string): JsonObject {
  return { type: "https://receiver.test/problems", title, detail };
}

function dotted(value: unknown, path: string): unknown {
  let current = value;
  for (const key of path.split(".")) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}
