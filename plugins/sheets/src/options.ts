/**
 * The options a user writes in YAML. The core spreads each schema's `shape` into a strict
 * object, so the stream schema is flat: `sheet`, `gid`, `range` and `sheets` are all optional
 * in its shape, and a refinement (which the core applies after the shape) demands exactly one.
 * `parseStream` reads the same block into the selector it names.
 */
import { z } from "zod";
import { parseA1, type A1Range } from "./a1.js";
import { COLUMN_TYPES, type ColumnType } from "./column-types.js";
import { dateTimeZone } from "./serial.js";

export const DEFAULT_ROOT_URL = "https://sheets.googleapis.com/";

export const sourceOptions = z.object({
  spreadsheet_id: z
    .string()
    .regex(/^[A-Za-z0-9_-]{10,}$/, "a spreadsheet id is the part of its URL between /d/ and /edit, e.g. 1AbC...xyz")
    .describe("The spreadsheet: the part of its URL between `/d/` and `/edit`."),
  root_url: z
    .url({ protocol: /^https?$/ })
    .optional()
    .describe(`Where Sheets API requests go; set it (or the connection's host) only for a proxy or a test server. Default: the connection's host when it has one, else ${DEFAULT_ROOT_URL}.`),
  token_url: z
    .url({ protocol: /^https?$/ })
    .optional()
    .describe("The OAuth 2 token endpoint; default: the key file's `token_uri`, else https://oauth2.googleapis.com/token."),
  subject: z
    .email()
    .optional()
    .describe("For a service account with domain-wide delegation: the user to act as, e.g. `finance@example.com`."),
  time_zone: z
    .string()
    .min(1)
    .refine(isTimeZone, "not a time zone this machine knows: use an IANA name such as `Europe/Berlin`, or `UTC`")
    .optional()
    .describe("Time zone in which the sheet's date-times are read (an IANA name such as `Europe/Berlin`, or `UTC`); default: the spreadsheet's own (File > Settings)."),
  batch_rows: z
    .number()
    .int()
    .min(1)
    .max(100_000)
    .default(5_000)
    .describe("Rows read per `values.batchGet` request; each batch is written to a temporary file before the next one is read."),
  sample_rows: z
    .number()
    .int()
    .min(1)
    .max(10_000)
    .default(1_000)
    .describe("Rows under the header whose number formats are read to tell dates, times, percentages and money from plain numbers."),
  timeout_ms: z.number().int().positive().max(600_000).default(120_000).describe("Longest wait for one API response, in milliseconds."),
  max_retries: z.number().int().min(0).max(20).default(6).describe("Retries after rate limits (429, 403 rateLimitExceeded), 5xx, timeouts and network errors."),
  backoff_ms: z
    .number()
    .int()
    .min(0)
    .max(60_000)
    .default(2_000)
    .describe("First retry delay in milliseconds; doubles on each retry (with jitter), capped at 64 s. A `Retry-After` from Google wins."),
});

/** `sheets: all`: every grid sheet, one file per sheet. */
const ALL = "all";

/** The keys that say what a stream reads; a stream names exactly one. */
const SELECTORS = ["sheet", "gid", "range", "sheets"] as const;

export const streamOptions = z
  .object({
    sheet: z.string().min(1).optional().describe("Read this sheet (its tab title, matched exactly)."),
    gid: z.number().int().min(0).optional().describe("Read the sheet with this id: the number after `#gid=` in its URL; survives renaming the tab."),
    range: z
      .string()
      .min(1)
      .optional()
      .describe("Read these cells, in A1 notation: `Budget!A1:F`, `'Budget 2026'!B3:H`, `A:F` (first visible sheet)."),
    sheets: z.literal(ALL).optional().describe("`all`: read every grid sheet, each into its own file; records carry the sheet title in `_sheet`."),
    header_row: z
      .number()
      .int()
      .min(1)
      .default(1)
      .describe("Which row holds the column names, counted from 1 at the top of the sheet (or of `range`). Rows above it are skipped."),
    columns: z
      .record(z.string().min(1), z.enum(COLUMN_TYPES))
      .optional()
      .describe("Types for columns, by column name (see Column names), overriding detection (see Types)."),
  })
  // The core checks this after the flat shape, so validate-config reports it at the stream.
  .superRefine((stream, ctx) => {
    const given = SELECTORS.filter((key) => stream[key] !== undefined);
    if (given.length !== 1) {
      ctx.addIssue({
        code: "custom",
        path: given.length > 1 ? [given[1]!] : [],
        message:
          given.length === 0
            ? "say what to read: `sheet: <title>`, `gid: <id>`, `range: <A1 range>` or `sheets: all`"
            : `\`${given.join("`, `")}\` each say what to read; keep one`,
      });
    }
    if (stream.range !== undefined) {
      try {
        parseA1(stream.range);
      } catch (e) {
        ctx.addIssue({ code: "custom", path: ["range"], message: `not an A1 range: ${(e as Error).message}` });
      }
    }
  });

export type SourceOptions = z.output<typeof sourceOptions>;
export type StreamOptions = z.output<typeof streamOptions>;

/** What a stream reads. */
export type Selector =
  | { readonly kind: "sheet"; readonly title: string }
  | { readonly kind: "gid"; readonly gid: number }
  | { readonly kind: "range"; readonly text: string; readonly range: A1Range }
  | { readonly kind: "all" };

export interface StreamConfig {
  readonly selector: Selector;
  /** 1-based, counted from the first row read. */
  readonly headerRow: number;
  readonly columns: Readonly<Record<string, ColumnType>>;
}

/** The stream block as the selector it names; errors name each key. */
export function parseStream(raw: unknown): StreamConfig {
  // Drop undefined keys a caller may have added, as the YAML never has them.
  const clean = Object.fromEntries(Object.entries((raw ?? {}) as Record<string, unknown>).filter(([, v]) => v !== undefined));
  const result = streamOptions.safeParse(clean);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join(".") || "stream"}: ${i.message}`);
    throw new Error(`invalid sheets stream options: ${problems.join("; ")}`);
  }
  const s = result.data;
  const selector: Selector =
    s.sheet !== undefined
      ? { kind: "sheet", title: s.sheet }
      : s.gid !== undefined
        ? { kind: "gid", gid: s.gid }
        : s.range !== undefined
          ? { kind: "range", text: s.range, range: parseA1(s.range) }
          : { kind: "all" };
  return { selector, headerRow: s.header_row, columns: s.columns ?? {} };
}

function isTimeZone(id: string): boolean {
  try {
    dateTimeZone(id);
    return true;
  } catch {
    return false;
  }
}
