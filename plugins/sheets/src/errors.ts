/**
 * Failures a user can cause or fix, with stable codes. The plugin declares this catalog as its
 * `errors`, so the core reports these codes as they are and `xo-foundry plugins` explains them.
 */
import { PluginError } from "@xo-foundry/core";

/** Every code with what it means and how to fix it. The codes are the keys, so a code cannot exist without its description. */
export const SHEETS_ERRORS = {
  SHEETS_NOT_FOUND:
    "Google answered 404 for the spreadsheet: the id is wrong, or the spreadsheet is not shared with the connection's Google identity. Check `spreadsheet_id` (the part of the URL between /d/ and /edit) and share the spreadsheet, as Viewer, with the service account's client_email (or open it as the user who authorized the OAuth client).",
  SHEETS_PERMISSION_DENIED:
    "Google answered 403 PERMISSION_DENIED: the connection's identity may not read this spreadsheet, its token lacks a Sheets scope, or the Google Sheets API is disabled in its Cloud project. Share the spreadsheet with the service account's client_email, authorize with the spreadsheets.readonly scope, or enable the API, as the message says.",
  SHEETS_UNAUTHENTICATED:
    "Google refused the access token twice (HTTP 401), the second time a freshly issued one. Check the credentials of the connection (service-account key or OAuth client and refresh token) and `token_url`.",
  SHEETS_RANGE_INVALID:
    "A range is not valid A1 notation, or Google could not parse it (a sheet title that does not exist, a range outside the grid). Write `range` as `Sheet!A1:F` (quote titles with spaces: `'Budget 2026'!A:F`), or use `sheet:` or `gid:`.",
  SHEETS_SHEET_NOT_FOUND:
    "The spreadsheet has no sheet with that title or gid. Titles are matched exactly, case included; the message lists the sheets there are. A gid is the number after `#gid=` in the sheet's URL.",
  SHEETS_NOT_A_GRID:
    "The sheet is not a grid of cells (a chart sheet or a connected data source sheet), so it has no rows to read. Point the stream at a grid sheet.",
  SHEETS_HEADER_MISSING:
    "The header row is empty, so there are no column names. Set `header_row` to the row that holds the names (1 is the first row of the sheet or range).",
  SHEETS_COLUMN_UNKNOWN:
    "`columns` names a column the sheet does not have. Columns are named after their headers by the rule in the README (lower case, `_` for spaces and punctuation); the message lists the names there are.",
  SHEETS_TIME_ZONE_INVALID:
    "The time zone for date-times (the spreadsheet's own, or `time_zone`) is not one this machine knows. Set `time_zone` to an IANA zone such as `Europe/Berlin` or `UTC`.",
  SHEETS_REQUEST_REJECTED:
    "Google refused a request with a 4xx status other than those above; the message quotes Google's reason. Fix the option it points at.",
  SHEETS_UNAVAILABLE:
    "Google kept failing (rate limits, 5xx, timeouts or network errors) through every retry. Run fewer Sheets tasks at once (an Airflow pool), raise `max_retries` or `backoff_ms`, or ask Google for a higher read quota.",
} as const satisfies Readonly<Record<`SHEETS_${string}`, string>>;

export type SheetsErrorCode = keyof typeof SHEETS_ERRORS;

/** A failure with a code from the catalog. Message and hint pass through the redactor. */
export class SheetsError extends PluginError<SheetsErrorCode> {
  override readonly name = "SheetsError";
  constructor(
    code: SheetsErrorCode,
    message: string,
    hint: string,
    /** The HTTP status when Google answered. */
    readonly status?: number,
  ) {
    super(code, message, hint);
  }
}
