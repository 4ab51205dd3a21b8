/**
 * The `api.send` step: sends the records of the files an upstream task published (NDJSON
 * or JSON arrays) to an HTTP API, `batch_size` records a request, each request with an
 * idempotency key, and keeps a ledger of the batches the API answered.
 *
 * Exactly once. A batch's key depends only on the pipeline, the task, the logical date,
 * the batch's position and the SHA-256 of its body (idempotency.ts), so the same rows in
 * the same order make the same batches and keys on every run of a date. The ledger
 * (ledger.ts) takes a batch's key only after the API answered it. When a run stops, each
 * batch is in one of three states:
 *
 * 1. answered and in the ledger: a re-run skips it;
 * 2. never answered (not sent, or sent with an unknown outcome and retries exhausted): a
 *    re-run sends it, with the same key if it went out before;
 * 3. answered, but the run was killed before the ledger was saved: a re-run sends it again
 *    with the same key and the same body, and the API, which keeps the key, replays its
 *    first answer instead of applying the batch again.
 *
 * So every record is applied once, provided the API honours idempotency keys at least as
 * long as it takes to re-run, and the export writes its rows in a stable order (ORDER BY a
 * key): rows in another order make other batches, and other keys. Rows that changed make
 * new keys too, which is right: they are new data. Without keys (`idempotency_key: false`)
 * state 3 becomes a duplicate of one batch, and a batch with an unknown outcome fails the
 * task instead of being retried (send-retry rules in idempotency.ts).
 *
 * Records the API refuses go to the date's rejected-records file (rejections.ts); the task
 * fails after the whole delivery if there are more than `max_rejected`.
 */
import { redact, rejectedRecordsUri, requestPace, upstreamFiles, type JsonObject, type JsonValue, type Logger, type StepContext, type StepType } from "@xo-foundry/core";
import { STATUS_CODES } from "node:http";
import { requestClient } from "./client.js";
import { SendError } from "./errors.js";
import { ApiRequestError, snippet, type HttpClient, type HttpResponse } from "./http.js";
import { batchKey, deliveryRetry, neverSent, sfString, sha256Hex } from "./idempotency.js";
import { DeliveryLedger } from "./ledger.js";
import { listedRefusals, reason, RejectedRecords, type Refusal, type RejectedLine } from "./rejections.js";
import { RECORDS_PLACEHOLDER, sendOptions, type SendOptions } from "./send-options.js";
import { inBatches, readRecords, recordFiles } from "./upstream-records.js";
import { buildUrl, fillPlaceholders, placeholderValues, resolveBaseUrl, type PlaceholderValues } from "./urls.js";

export const apiSend: StepType<SendOptions> = {
  id: "api.send",
  description:
    "Sends the records an upstream task exported (NDJSON or JSON) to an HTTP API in batches: idempotency keys, a delivery ledger so a re-run sends nothing twice, safe retries, rate limits, and a file of the records the API refused.",
  options: sendOptions,
  connection: "optional",
  canSkip: false,
  run,
};

interface Batch {
  /** Position in the run, from 0. */
  readonly index: number;
  /** Position of its first record in the run, from 0. */
  readonly first: number;
  readonly records: readonly JsonObject[];
  readonly key: string;
}

async function run(ctx: StepContext<SendOptions>) {
  ctx.signal.throwIfAborted();
  // Parsing again is idempotent for validated configs and applies defaults when a caller passes raw options.
  const options = sendOptions.parse(ctx.options);
  const values = placeholderValues(ctx.window);
  const landed = await upstreamFiles(ctx, { task: options.task, from: options.from });
  const files = recordFiles(landed.files, landed.from);
  const endpoint = endpointOf(options, ctx, values);
  const client = connect(options, ctx);
  const shown = client.printUrl(endpoint);
  const keyed = options.idempotency_key !== false;

  const ledger = await DeliveryLedger.open(ctx);
  const rejected = await RejectedRecords.open(ctx.landing.store, rejectedRecordsUri(ctx), ctx.log);
  let batches = 0;
  let records = 0;
  let sent = 0;
  let skipped = 0;
  for await (const group of inBatches(readRecords(ctx.landing.store, files), options.batch_size)) {
    ctx.signal.throwIfAborted();
    const bodyText = JSON.stringify(options.body === undefined ? group : fillBody(options.body, group, values));
    const index = batches++;
    const key = batchKey({ pipeline: ctx.pipeline.pipeline.name, task: ctx.taskId, logicalDate: ctx.window.logicalDate, batch: index, bodySha256: sha256Hex(bodyText) });
    const batch: Batch = { index, first: records, records: group, key };
    records += group.length;
    if (ledger.has(key)) {
      skipped++;
      const kept = rejected.keep(key);
      ctx.log.debug(`batch ${index}: delivered by an earlier run of ${ctx.window.logicalDate}, skipped${kept ? ` (${kept} refused then)` : ""}`, { key });
      continue;
    }
    const { status, refusals } = await deliver(client, options, batch, { url: endpoint, shown, bodyText, keyed }, ctx.log);
    await rejected.replace(key, refusals.map((r): RejectedLine => ({ batch: index, index: r.index, key, error: reason(r.error), record: group[r.index]! })));
    await ledger.add(key);
    sent++;
    const refused = refusals.length ? `, ${refusals.length} refused` : "";
    ctx.log[refusals.length ? "warn" : "debug"](`batch ${index}: ${group.length} records sent, HTTP ${status}${refused}`, { key, records: group.length, refused: refusals.length });
  }
  const hasFile = await rejected.finish();

  const summary: JsonObject = { records, batches, sent, skipped, rejected: rejected.count, ...(hasFile ? { rejected_file: rejected.uri } : {}) };
  ctx.log.info(
    `${records} records in ${batches} batches to ${shown}: ${sent} sent, ${skipped} delivered before${rejected.count ? `; ${rejected.count} refused, see ${rejected.uri}` : ""}`,
    summary,
  );
  if (options.max_rejected !== null && rejected.count > options.max_rejected) {
    throw new SendError(
      "API_SEND_TOO_MANY_REJECTED",
      `the API refused ${rejected.count} of ${records} records (max_rejected: ${options.max_rejected}); every other record was delivered, and the refused ones are in ${rejected.uri}`,
      `read the reasons in ${rejected.uri} and fix the records at the source; set \`max_rejected\` (or null for no limit) if refusals are expected`,
    );
  }
  return { summary, reads: [{ uri: landed.from }], writes: [{ uri: shown }] };
}

function endpointOf(options: SendOptions, ctx: StepContext<SendOptions>, values: PlaceholderValues): URL {
  if (options.url !== undefined) return new URL(options.url);
  try {
    const base = resolveBaseUrl(undefined, ctx.connection, ctx.connection?.id, "`url` in the step's `with:` instead of `path`");
    return buildUrl(base, fillPlaceholders(options.path ?? "", values), {});
  } catch (e) {
    throw new SendError("API_SEND_CONNECTION", `task ${ctx.taskId}: ${message(e)}`, "give the step a `connection:` whose host is the API's base URL, or a full `url`", { cause: e });
  }
}

function connect(options: SendOptions, ctx: StepContext<SendOptions>): HttpClient {
  try {
    return requestClient(options, {
      connection: ctx.connection,
      connectionId: ctx.connection?.id,
      log: ctx.log,
      signal: ctx.signal,
      block: "the step",
      tuning: {
        // A 301/302 would turn the POST into a GET that "succeeds" without delivering anything.
        followRedirects: false,
        ...(options.rate ? { throttle: requestPace(options.rate.requests_per_second) } : {}),
        advice: { url: "`url` or `path`", size: "`batch_size`" },
      },
    });
  } catch (e) {
    throw new SendError("API_SEND_CONNECTION", `task ${ctx.taskId}: ${message(e)}`, "fix the connection the message names, or `auth`", { cause: e });
  }
}

/** The body shape with `{records}` replaced by the batch and the window placeholders filled. */
function fillBody(shape: unknown, records: readonly JsonObject[], values: PlaceholderValues): JsonValue {
  if (shape === RECORDS_PLACEHOLDER) return records;
  if (typeof shape === "string") return fillPlaceholders(shape, values);
  if (Array.isArray(shape)) return shape.map((v) => fillBody(v, records, values));
  if (typeof shape === "object" && shape !== null) return Object.fromEntries(Object.entries(shape).map(([k, v]) => [k, fillBody(v, records, values)]));
  return shape as JsonValue;
}

interface Wire {
  readonly url: URL;
  readonly shown: string;
  readonly bodyText: string;
  readonly keyed: boolean;
}

/** Sends one batch; resolves with the records the API refused, or fails with what to do. */
async function deliver(client: HttpClient, options: SendOptions, batch: Batch, wire: Wire, log: Logger): Promise<{ status: number; refusals: Refusal[] }> {
  const idempotency = options.idempotency_key;
  const headers = idempotency === false ? {} : { [idempotency.header]: idempotency.quoted ? sfString(batch.key) : batch.key };
  const what = `batch ${batch.index} (records ${batch.first}-${batch.first + batch.records.length - 1}, key ${batch.key})`;
  const retry = deliveryRetry(wire.keyed);
  let res: HttpResponse;
  try {
    res = await client.exchange({ method: options.method, url: wire.url, bodyText: wire.bodyText, headers }, retry);
  } catch (e) {
    if (!(e instanceof ApiRequestError)) throw e;
    if (wire.keyed || (e.outcome?.kind === "network" && neverSent(e.outcome.code))) {
      throw new SendError("API_SEND_FAILED", `${what}: ${e.message}`, "re-run the task when the API is reachable: delivered batches are skipped, the rest go out with the same keys", { cause: e });
    }
    throw uncertain(`${what}: ${e.message}`, e);
  }

  const where = `${options.method} ${wire.shown} for ${what}`;
  const status = `HTTP ${res.status}${STATUS_CODES[res.status] ? ` ${STATUS_CODES[res.status]}` : ""}`;
  const tries = res.attempts > 1 ? ` after ${res.attempts} attempts` : "";
  const size = batch.records.length;

  if (res.status >= 200 && res.status < 300) {
    if (res.json !== "ok" && options.rejected) {
      // The API took the batch, so it counts as delivered; only a list of refusals it may hold is lost with the body.
      log.warn(redact(`${where} answered ${status} with a body that is not ${res.json === "incomplete" ? "complete " : ""}JSON; records it may have refused (\`rejected\`) are unknown: ${snippet(res.text)}`));
    }
    return { status: res.status, refusals: listedRefusals(res.body, options.rejected, size, where) ?? [] };
  }
  const refused = (text: string) => new SendError("API_SEND_REFUSED", `${where}: ${text}`, refusedHint(res.status, options));
  if (res.status >= 300 && res.status < 400) {
    throw refused(`the API redirected (${status}) to ${res.headers.location ?? "no Location"}; a delivery does not follow redirects, which would turn the ${options.method} into a GET`);
  }
  // What the rule retries and still failed: the API kept refusing to take it, for now.
  if (retry({ kind: "response", status: res.status, headers: {}, text: "" })) {
    const hint = res.status === 409 ? "another request with this key was still being processed; re-run later" : "re-run the task later: delivered batches are skipped, the rest go out with the same keys";
    throw new SendError("API_SEND_FAILED", `${where}: ${status}${tries}: ${snippet(res.text)}`, hint);
  }
  if (res.status >= 500) throw uncertain(`${where}: ${status}: ${snippet(res.text)}`);
  if (![401, 403, 404, 408, 409, 429].includes(res.status)) {
    const listed = res.json === "ok" ? listedRefusals(res.body, options.rejected, size, where) : undefined;
    if (listed) return { status: res.status, refusals: listed };
    if (res.status === 400 || res.status === 422) {
      const whole = `${status}: ${snippet(res.text)}`;
      return { status: res.status, refusals: batch.records.map((_, index) => ({ index, error: whole })) };
    }
  }
  throw refused(`${status}: ${snippet(res.text)}`);
}

function uncertain(failed: string, cause?: unknown): SendError {
  return new SendError(
    "API_SEND_UNCERTAIN",
    `${failed}. It was not retried: without an idempotency key a retry could apply it twice`,
    "check on the API's side whether this batch arrived; a re-run sends it again (batches before it are in the ledger and are skipped). Turn on `idempotency_key` if the API supports it",
    cause === undefined ? undefined : { cause },
  );
}

function refusedHint(status: number, options: SendOptions): string {
  if (status === 401) return "check the credentials in the step's connection and its `auth` type";
  if (status === 403) return "check that the connection's credentials may write to this endpoint";
  if (status === 404) return `check \`${options.url !== undefined ? "url" : "path"}\` and the connection's host`;
  if (status === 409) return "the API reports a conflict with data it holds; resolve it there, then re-run";
  if (status === 413) return "lower `batch_size`: the API refuses requests this large";
  if (status >= 300 && status < 400) return "set `url` (or `path`) to the address the API redirects to";
  return "see the API's documentation for this status; set `rejected` if it lists refused records in this response";
}

function message(e: unknown): string {
  return redact(e instanceof Error ? e.message : String(e));
}
