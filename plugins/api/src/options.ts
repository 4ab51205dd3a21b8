/**
 * The options a user writes in YAML. The core spreads each schema's `shape` into a
 * strict object, which drops object-level checks; it then checks every block again
 * with the plugin's own schema, so the one rule that spans fields (`{cursor}` needs
 * `incremental:`) still reports, with its path. Field-level checks stay the rule.
 * Nested objects are strict here because the core only makes the top level strict.
 */
import { z } from "zod";

/**
 * Placeholders allowed in a stream's `path` and string `params`: the run's window,
 * and `{cursor}`, where an incremental stream starts.
 */
export const PLACEHOLDERS = ["logical_date", "window_start", "window_end", "window_start_date", "window_end_date", "cursor"] as const;

export type Placeholder = (typeof PLACEHOLDERS)[number];

export const PLACEHOLDER_PATTERN = /\{([A-Za-z0-9_]+)\}/g;

const usesCursor = (text: string) => [...text.matchAll(PLACEHOLDER_PATTERN)].some((m) => m[1] === "cursor");

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

/** Every string in a JSON value, with its path, for placeholder checks. */
export function jsonStrings(value: unknown, path: (string | number)[] = []): { path: (string | number)[]; text: string }[] {
  if (typeof value === "string") return [{ path, text: value }];
  if (Array.isArray(value)) return value.flatMap((v, i) => jsonStrings(v, [...path, i]));
  if (typeof value === "object" && value !== null) return Object.entries(value).flatMap(([k, v]) => jsonStrings(v, [...path, k]));
  return [];
}

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

const oauth2Fields = {
  token_url: z.url({ protocol: /^https?$/ }).describe("The OAuth 2 token endpoint, e.g. `https://auth.example.com/oauth/token`."),
  scopes: z.array(z.string().min(1)).default([]).describe("Scopes to request (sent space-separated as `scope`); none by default."),
};

const oauth2ClientCredentials = z
  .strictObject({
    type: z.literal("oauth2_client_credentials"),
    ...oauth2Fields,
    audience: z.string().min(1).optional().describe("Sent as `audience`, which some providers (Auth0, for one) require."),
    client_auth: z
      .enum(["basic", "body"])
      .default("basic")
      .describe("How the client authenticates to the token endpoint: HTTP Basic (RFC 6749's default) or `client_id`/`client_secret` in the body."),
  })
  .describe("OAuth 2 client credentials: the client id is the connection's login, the client secret its password. Tokens are cached and renewed before they expire.");

const oauth2RefreshToken = z
  .strictObject({
    type: z.literal("oauth2_refresh_token"),
    ...oauth2Fields,
    client_auth: z
      .enum(["basic", "body"])
      .default("body")
      .describe("How the client authenticates to the token endpoint: `client_id`/`client_secret` in the body (what most providers of refresh tokens expect) or HTTP Basic."),
  })
  .describe("OAuth 2 refresh token: the client id is the connection's login, the client secret its password (optional for public clients), the refresh token `extra.refresh_token`.");

export const authOptions = z
  .discriminatedUnion("type", [noAuth, bearerAuth, basicAuth, apiKeyAuth, oauth2ClientCredentials, oauth2RefreshToken])
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

const nextUrlPagination = z
  .strictObject({
    type: z.literal("next_url"),
    next_url_path: z
      .string()
      .min(1)
      .describe("Dotted path of the next page's URL in the response body, e.g. `links.next` or `@odata.nextLink`; absolute or relative to the page; empty or null ends the stream."),
    limit_param: z.string().min(1).optional().describe("Parameter for the page size on the first request."),
    page_size: positiveInt().optional().describe("Records per page; defaults to the source's `page_size`."),
  })
  .describe("Follows the next page's URL given in each response body, on the same origin.");

const linkHeaderPagination = z
  .strictObject({
    type: z.literal("link_header"),
    limit_param: z.string().min(1).optional().describe("Query parameter for the page size on the first request."),
    page_size: positiveInt().optional().describe("Records per page; defaults to the source's `page_size`."),
  })
  .describe('Follows the `Link: <url>; rel="next"` response header (RFC 8288) on the same origin.');

export const paginationOptions = z
  .discriminatedUnion("type", [noPagination, offsetPagination, pagePagination, cursorPagination, nextUrlPagination, linkHeaderPagination])
  .default({ type: "none" })
  .describe("How to request the following pages. With `method: POST`, the page parameters go into the JSON body instead of the query string.");

// ---------------------------------------------------------------- incremental

export const incrementalOptions = z
  .strictObject({
    cursor_field: z
      .string()
      .min(1)
      .describe("Record field that grows with every change, e.g. `updated_at` or `id`; a dotted path (`meta.updated_at`) reaches into objects."),
    initial_value: z
      .union([z.string().min(1), z.number()])
      .describe("Where the first run starts (the value of {cursor} while the stream has no saved state), e.g. `2026-01-01T00:00:00Z` or `0`."),
    lookback: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe(
        "Seconds to move a saved date-time cursor back (a plain number for a numeric cursor), so rows that arrive late are read again; merge keys make the overlap harmless.",
      ),
  })
  .describe(
    "Read only what changed since the last successful load: {cursor} is the saved cursor (or `initial_value`), records before it are dropped, and the largest `cursor_field` value is saved once the load succeeds.",
  );

// ---------------------------------------------------------------- requests

/** Extra request headers; credentials are refused here because they belong in the connection. */
export const headersOption = z
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
  .describe("Extra request headers (not secrets).");

/** `max_retries`, with the retry rules of the block that uses it. */
export const maxRetriesOption = (description: string) => z.number().int().min(0).max(20).default(5).describe(description);

/**
 * The keys of every block that makes requests, the source block and the `api.send` step:
 * one schema, so both authenticate, time out and back off the same way.
 */
export const requestOptions = {
  auth: authOptions,
  headers: headersOption,
  timeout_ms: positiveInt().max(600_000).default(30_000).describe("Timeout of one request, in milliseconds."),
  max_retries: maxRetriesOption("Retries after network errors, timeouts, 429 and 5xx."),
  backoff_ms: z
    .number()
    .int()
    .min(0)
    .max(30_000)
    .default(500)
    .describe("First retry delay in milliseconds; doubles on each retry (with jitter), capped at 30 s."),
};

export interface RequestOptions {
  readonly auth: AuthOptions;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeout_ms: number;
  readonly max_retries: number;
  readonly backoff_ms: number;
}

// ---------------------------------------------------------------- source and stream

export const sourceOptions = z.object({
  base_url: z
    .url({ protocol: /^https?$/ })
    .optional()
    .describe("Root URL of the API, e.g. `https://api.example.com/v1`; defaults to the connection's host."),
  ...requestOptions,
  page_size: positiveInt().max(100_000).default(100).describe("Default records per page for paginated streams."),
});

const PLACEHOLDER_LIST = PLACEHOLDERS.map((p) => `{${p}}`).join(", ");

export const streamOptions = z.object({
  path: placeholderText("`path`")
    .min(1)
    .describe(`Path relative to \`base_url\`, e.g. \`customers\`; may use ${PLACEHOLDER_LIST}.`),
  params: z
    .record(z.string().min(1), z.union([placeholderText("`params`"), z.number(), z.boolean()]))
    .default({})
    .describe(`Query parameters; strings may use ${PLACEHOLDER_LIST}.`),
  method: z.enum(["GET", "POST"]).default("GET").describe("`POST` for search-style endpoints that take the query as a JSON body."),
  body: z
    .record(z.string(), z.unknown())
    .optional()
    .superRefine((body, ctx) => {
      for (const { path, text } of jsonStrings(body ?? {})) {
        for (const name of unknownPlaceholders(text)) {
          ctx.addIssue({ code: "custom", path, message: `unknown placeholder {${name}} in \`body\`; available: ${PLACEHOLDERS.map((p) => `{${p}}`).join(", ")}` });
        }
      }
    })
    .describe(`The JSON body of a \`POST\` stream; strings at any depth may use ${PLACEHOLDERS.map((p) => `{${p}}`).join(", ")}.`),
  record_path: z
    .string()
    .min(1)
    .optional()
    .describe("Dotted path of the record array in the response body, e.g. `data.items`; by default the body is the array."),
  pagination: paginationOptions,
  max_pages: positiveInt().optional().describe("Stop after this many pages (a safety cap; a warning is logged)."),
  incremental: incrementalOptions.optional(),
}).superRefine((stream, ctx) => {
  if (stream.body !== undefined && stream.method !== "POST") {
    ctx.addIssue({ code: "custom", path: ["body"], message: "`body` is sent only with `method: POST`; add it, or move the values to `params`" });
  }
  if (stream.incremental) return;
  const where: (string | number)[][] = [];
  if (usesCursor(stream.path)) where.push(["path"]);
  for (const [name, value] of Object.entries(stream.params)) if (typeof value === "string" && usesCursor(value)) where.push(["params", name]);
  for (const { path, text } of jsonStrings(stream.body ?? {})) if (usesCursor(text)) where.push(["body", ...path]);
  for (const path of where) {
    ctx.addIssue({
      code: "custom",
      path,
      message:
        "{cursor} needs an `incremental:` block on the stream (`cursor_field` and `initial_value`) to know where to start; " +
        "add one, or use a window placeholder such as {window_start}",
    });
  }
});

export type SourceOptions = z.output<typeof sourceOptions>;
export type StreamOptions = z.output<typeof streamOptions>;
export type AuthOptions = z.output<typeof authOptions>;
export type PaginationOptions = z.output<typeof paginationOptions>;
export type IncrementalOptions = z.output<typeof incrementalOptions>;
