/**
 * The options a user writes in YAML. The core spreads each schema's `shape` into a
 * strict object, so only field-level rules survive composition: every check below
 * lives on a field, never on the object itself. Nested objects are strict here
 * because the core only makes the top level strict.
 */
import { z } from "zod";

/** Placeholders allowed in a stream's `path` and string `params`, filled from the run's window. */
export const PLACEHOLDERS = ["logical_date", "window_start", "window_end", "window_start_date", "window_end_date"] as const;

const PLACEHOLDER_PATTERN = /\{([A-Za-z0-9_]+)\}/g;

/** Names of `{placeholders}` in `text` that we would not fill, so typos fail validation instead of reaching the API. */
export function unknownPlaceholders(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER_PATTERN)]
    .map((m) => m[1]!)
    .filter((name) => !(PLACEHOLDERS as readonly string[]).includes(name));
}

const placeholderText = (what: string) =>
  z.string().superRefine((value, ctx) => {
    for (const name of unknownPlaceholders(value)) {
      ctx.addIssue({
        code: "custom",
        message: `unknown placeholder {${name}} in ${what}; available: ${PLACEHOLDERS.map((p) => `{${p}}`).join(", ")}`,
      });
    }
  });

/** Header names that carry credentials; those belong in the connection, never in a pipeline file. */
const CREDENTIAL_HEADERS = ["authorization", "proxy-authorization", "cookie", "x-api-key"];

const positiveInt = () => z.number().int().positive();

// ---------------------------------------------------------------- auth

const noAuth = z.strictObject({ type: z.literal("none") }).describe("No authentication.");
const bearerAuth = z
  .strictObject({ type: z.literal("bearer") })
  .describe("`Authorization: Bearer <token>`; the token is the connection's password.");
const basicAuth = z
  .strictObject({ type: z.literal("basic") })
  .describe("HTTP Basic with the connection's login and password.");
const apiKeyAuth = z
  .strictObject({
    type: z.literal("api_key"),
    header: z.string().min(1).default("X-API-Key").describe("Header that carries the key (the connection's password)."),
    query_param: z
      .string()
      .min(1)
      .optional()
      .describe("Send the key as this query parameter instead of a header (it is masked in logs and errors)."),
  })
  .describe("An API key (the connection's password) in a header or a query parameter.");

export const authOptions = z
  .discriminatedUnion("type", [noAuth, bearerAuth, basicAuth, apiKeyAuth])
  .default({ type: "none" })
  .describe("How requests authenticate. Secrets always come from the connection, never from the pipeline file.");

// ---------------------------------------------------------------- pagination

const noPagination = z.strictObject({ type: z.literal("none") }).describe("One request returns every record.");

const offsetPagination = z
  .strictObject({
    type: z.literal("offset"),
    limit_param: z.string().min(1).default("limit").describe("Query parameter for the page size."),
    offset_param: z.string().min(1).default("offset").describe("Query parameter for the number of records to skip."),
    page_size: positiveInt().optional().describe("Records per page; defaults to the source's `page_size`."),
  })
  .describe("`?limit=N&offset=M`; stops at the first page with fewer than `page_size` records.");

const pagePagination = z
  .strictObject({
    type: z.literal("page"),
    page_param: z.string().min(1).default("page").describe("Query parameter for the page number."),
    size_param: z.string().min(1).default("per_page").describe("Query parameter for the page size."),
    page_size: positiveInt().optional().describe("Records per page; defaults to the source's `page_size`."),
    start_page: z.number().int().min(0).default(1).describe("Number of the first page."),
  })
  .describe("`?page=N&per_page=M`; stops at the first page with fewer than `page_size` records.");

const cursorPagination = z
  .strictObject({
    type: z.literal("cursor"),
    cursor_param: z.string().min(1).default("cursor").describe("Query parameter that sends the cursor back."),
    next_cursor_path: z
      .string()
      .min(1)
      .describe("Dotted path of the next cursor in the response body, e.g. `meta.next_cursor`; empty or null ends the stream."),
    limit_param: z
      .string()
      .min(1)
      .optional()
      .describe("Query parameter for the page size; the page size is only sent when this is set."),
    page_size: positiveInt().optional().describe("Records per page; defaults to the source's `page_size`."),
  })
  .describe("Follows a cursor from each response body until it is empty.");

const linkHeaderPagination = z
  .strictObject({
    type: z.literal("link_header"),
    limit_param: z.string().min(1).optional().describe("Query parameter for the page size on the first request."),
    page_size: positiveInt().optional().describe("Records per page; defaults to the source's `page_size`."),
  })
  .describe('Follows the `Link: <url>; rel="next"` response header (RFC 8288) on the same origin.');

export const paginationOptions = z
  .discriminatedUnion("type", [noPagination, offsetPagination, pagePagination, cursorPagination, linkHeaderPagination])
  .default({ type: "none" })
  .describe("How to request the following pages.");

// ---------------------------------------------------------------- source and stream

export const sourceOptions = z.object({
  base_url: z
    .url({ protocol: /^https?$/ })
    .optional()
    .describe("Root URL of the API, e.g. `https://api.example.com/v1`; defaults to the connection's host."),
  auth: authOptions,
  headers: z
    .record(z.string().min(1), z.string())
    .default({})
    .superRefine((headers, ctx) => {
      for (const name of Object.keys(headers)) {
        if (CREDENTIAL_HEADERS.includes(name.toLowerCase())) {
          ctx.addIssue({
            code: "custom",
            path: [name],
            message: `header ${JSON.stringify(name)} carries credentials: use \`auth\` and put the secret in the connection`,
          });
        }
      }
    })
    .describe("Extra request headers (not secrets)."),
  timeout_ms: positiveInt().max(600_000).default(30_000).describe("Timeout of one request, in milliseconds."),
  max_retries: z.number().int().min(0).max(20).default(5).describe("Retries after network errors, timeouts, 429 and 5xx."),
  backoff_ms: z
    .number()
    .int()
    .min(0)
    .max(30_000)
    .default(500)
    .describe("First retry delay in milliseconds; doubles on each retry (with jitter), capped at 30 s."),
  page_size: positiveInt().max(100_000).default(100).describe("Default records per page for paginated streams."),
});

export const streamOptions = z.object({
  path: placeholderText("`path`")
    .min(1)
    .describe("Path relative to `base_url`, e.g. `customers`; may use {logical_date}, {window_start}, {window_end}, {window_start_date}, {window_end_date}."),
  params: z
    .record(z.string().min(1), z.union([placeholderText("`params`"), z.number(), z.boolean()]))
    .default({})
    .describe("Query parameters; strings may use {logical_date}, {window_start}, {window_end}, {window_start_date}, {window_end_date}."),
  record_path: z
    .string()
    .min(1)
    .optional()
    .describe("Dotted path of the record array in the response body, e.g. `data.items`; by default the body is the array."),
  pagination: paginationOptions,
  max_pages: positiveInt().optional().describe("Stop after this many pages (a safety cap; a warning is logged)."),
});

export type SourceOptions = z.output<typeof sourceOptions>;
export type StreamOptions = z.output<typeof streamOptions>;
export type AuthOptions = z.output<typeof authOptions>;
export type PaginationOptions = z.output<typeof paginationOptions>;
