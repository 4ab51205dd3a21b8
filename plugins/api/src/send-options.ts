/**
 * The `with:` block of the `api.send` step. The request keys (auth, headers, timeouts,
 * backoff) are the source block's own (options.ts), so a pipeline reads and writes one API
 * with the same words. Nested objects are strict: the core makes only the top level strict.
 */
import { z } from "zod";
import { checkUpstreamFilesOptions, upstreamFilesOptionsShape } from "@xo-foundry/core";
import { jsonStrings, maxRetriesOption, PLACEHOLDER_PATTERN, PLACEHOLDERS, requestOptions, unknownPlaceholders, type RequestOptions } from "./options.js";

/** The string in `body` that stands for the batch's array of records. */
export const RECORDS_PLACEHOLDER = "{records}";

/** A delivery fills the run's window; it has no cursor. */
export const SEND_PLACEHOLDERS = PLACEHOLDERS.filter((p) => p !== "cursor");

const SEND_PLACEHOLDER_LIST = SEND_PLACEHOLDERS.map((p) => `{${p}}`).join(", ");

/** Problems of one string: placeholders we would not fill. `{records}` only where `allowRecords` says. */
function placeholderProblems(text: string, allowRecords: boolean): string[] {
  const problems = unknownPlaceholders(text)
    .filter((name) => !(allowRecords && name === "records"))
    .map((name) => `unknown placeholder {${name}}; available: ${SEND_PLACEHOLDER_LIST}${allowRecords ? `, and ${RECORDS_PLACEHOLDER} as a whole value` : ""}`);
  if ([...text.matchAll(PLACEHOLDER_PATTERN)].some((m) => m[1] === "cursor")) {
    problems.push("{cursor} belongs to incremental sources; a delivery sends what its upstream task exported");
  }
  return problems;
}

const windowText = () =>
  z.string().superRefine((value, ctx) => {
    for (const message of placeholderProblems(value, false)) ctx.addIssue({ code: "custom", message });
  });

const positiveInt = () => z.number().int().positive();

/** RFC 9110 field names: a token. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export const DEFAULT_IDEMPOTENCY_HEADER = "Idempotency-Key";

const idempotencyKey = z
  .union([
    z.literal(false),
    z.strictObject({
      header: z.string().regex(HEADER_NAME, "a header name (letters, digits and -)").default(DEFAULT_IDEMPOTENCY_HEADER).describe("The request header that carries the key."),
      quoted: z
        .boolean()
        .default(true)
        .describe(
          'Send the key as a Structured Field string (`"5f0c…"`), as the IETF draft draft-ietf-httpapi-idempotency-key-header says; `false` sends it bare, as most APIs of today (Stripe, Adyen) document.',
        ),
    }),
  ])
  .default({ header: DEFAULT_IDEMPOTENCY_HEADER, quoted: true })
  .describe(
    "An idempotency key on every batch, derived from the pipeline, the task, the logical date, the batch's position and the SHA-256 of its body (a UUID), so a retry or a re-run of the date sends the same key and the API applies the batch once. `false` when the API does not deduplicate: then only what the API did not process is retried.",
  );

const rejected = z
  .strictObject({
    path: z.string().min(1).default("errors").describe("Dotted path of the list of refused records in the response body, e.g. `errors` or `result.failures`."),
    index: z.string().min(1).default("index").describe("Field of a list item holding the refused record's position in the batch, counted from 0; dotted paths reach into objects."),
    message: z.string().min(1).default("message").describe("Field of a list item holding the reason; dotted paths reach into objects."),
  })
  .describe(
    "How the API reports records it refused: a list in the response body whose items name a record's position in the batch and a reason. A 2xx or a 4xx (other than 401, 403, 404, 408, 409 and 429) whose body has such a list refuses those records, and the rest of the batch counts as delivered; a 400 or 422 without one refuses the whole batch. Refused records go to the run's rejected-records file.",
  );

export const sendOptions = z
  .object({
    path: windowText()
      .min(1)
      .optional()
      .describe(`Path relative to the connection's base URL (as a source stream's \`path\`), e.g. \`v1/orders/batch\`; may use ${SEND_PLACEHOLDER_LIST}.`),
    url: z.url({ protocol: /^https?$/ }).optional().describe("The full endpoint URL, instead of `path` (for an API without a connection, or with `auth: none`)."),
    method: z.enum(["POST", "PUT", "PATCH"]).default("POST").describe("The HTTP method of every batch."),
    ...requestOptions,
    max_retries: maxRetriesOption(
      "Retries of a batch: 408, 429, 503 and connection failures before anything was sent always; with `idempotency_key` also 409, other 5xx, timeouts and lost connections.",
    ),
    batch_size: positiveInt().max(10_000).default(100).describe("Records per request."),
    body: z
      .record(z.string(), z.unknown())
      .optional()
      .superRefine((body, ctx) => {
        let records = 0;
        for (const { path, text } of jsonStrings(body ?? {})) {
          if (text === RECORDS_PLACEHOLDER) {
            records++;
            continue;
          }
          if (text.includes(RECORDS_PLACEHOLDER)) {
            ctx.addIssue({ code: "custom", path, message: `${RECORDS_PLACEHOLDER} must be a whole value (\`data: "${RECORDS_PLACEHOLDER}"\`), not part of a string` });
          }
          for (const message of placeholderProblems(text, true)) ctx.addIssue({ code: "custom", path, message });
        }
        if (body !== undefined && records !== 1) {
          ctx.addIssue({
            code: "custom",
            message: `must hold ${RECORDS_PLACEHOLDER} exactly once (it holds it ${records} times), where the batch's array of records goes, e.g. \`{ data: "${RECORDS_PLACEHOLDER}" }\``,
          });
        }
      })
      .describe(
        `The JSON body of each request, in which the string "${RECORDS_PLACEHOLDER}" is replaced by the batch's array of records, e.g. \`{ data: "${RECORDS_PLACEHOLDER}", source: xo }\`; other strings may use ${SEND_PLACEHOLDER_LIST}. By default the body is the array itself.`,
      ),
    idempotency_key: idempotencyKey,
    rejected: rejected.optional(),
    max_rejected: z
      .number()
      .int()
      .min(0)
      .nullable()
      .default(0)
      .describe(
        "How many refused records the task tolerates (this run's and those of batches an earlier run of the date delivered). Beyond it the task fails, after every batch was sent and the rejected-records file written. 0 by default: any refusal fails the task; `null` for no limit.",
      ),
    rate: z
      .strictObject({
        requests_per_second: z.number().positive().max(1000).describe("At most this many requests a second, retries included."),
      })
      .optional()
      .describe("A request budget, for APIs with a published rate limit; 429 answers are honoured either way."),
    ...upstreamFilesOptionsShape("send the records of"),
  })
  .superRefine((o, ctx) => {
    if (o.path === undefined && o.url === undefined) ctx.addIssue({ code: "custom", path: ["path"], message: "give `path` (relative to the connection's base URL) or `url`" });
    if (o.path !== undefined && o.url !== undefined) ctx.addIssue({ code: "custom", path: ["url"], message: "give `path` or `url`, not both" });
    checkUpstreamFilesOptions(o, ctx);
    const keyHeader = o.idempotency_key === false ? undefined : o.idempotency_key.header.toLowerCase();
    for (const name of Object.keys(o.headers)) {
      if (name.toLowerCase() === keyHeader) {
        ctx.addIssue({ code: "custom", path: ["headers", name], message: `${name} is the idempotency key's header; the step sets it per batch (see \`idempotency_key\`)` });
      }
    }
  });

export type SendOptions = z.output<typeof sendOptions> & RequestOptions;
export type RejectedOptions = z.output<typeof rejected>;
export type IdempotencyKeyOptions = Exclude<z.output<typeof idempotencyKey>, false>;
