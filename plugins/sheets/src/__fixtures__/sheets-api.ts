/**
 * The Google Sheets API v4 as the emulator (sheets_server.ts) enforces it, transcribed rule by
 * rule next to the part of the description it comes from (ADR 0009). Read, not copied.
 *
 * Sources:
 * - the discovery document `sheets:v4`, revision 20260921, as published in
 *   github.com/googleapis/google-api-go-client, sheets/v4/sheets-api.json (commit
 *   01bb782ba9c9a0b062538d5a2a9131ce71dfe25c): methods, parameters, enums, scopes, schemas;
 * - the generated client this plugin calls, `@googleapis/sheets` 14.0.0 (build/v4.d.ts and
 *   v4.js), generated from the same document: URL templates and schema property names;
 * - Google's guides "A1 notation" (developers.google.com/workspace/sheets/api/guides/concepts),
 *   "Basic reading" (.../samples/reading), "Usage limits" (.../limits), and the error model of
 *   AIP-193 (google.aip.dev/193) for error bodies.
 *
 * Marks: STRICTER where the description is silent and the emulator refuses rather than guess
 * (a misspelt parameter fails a test instead of being ignored in production); ASSUMED for
 * behaviour no description covers (texts of error messages seen in Google's answers, the
 * exact trimming of grid data).
 */

export const DISCOVERY = { id: "sheets:v4", revision: "20260921" } as const;

// ------------------------------------------------------------------ parameters

/** discovery `parameters`: accepted by every method. */
export const STANDARD_PARAMETERS: readonly string[] = [
  "$.xgafv",
  "access_token",
  "alt",
  "callback",
  "fields",
  "key",
  "oauth_token",
  "prettyPrint",
  "quotaUser",
  "uploadType",
  "upload_protocol",
];

/** `resources.spreadsheets.values.methods.*.parameters.majorDimension.enum` (the `Dimension` enum). */
export const MAJOR_DIMENSIONS = ["DIMENSION_UNSPECIFIED", "ROWS", "COLUMNS"] as const;
/** `...valueRenderOption.enum` */
export const VALUE_RENDER_OPTIONS = ["FORMATTED_VALUE", "UNFORMATTED_VALUE", "FORMULA"] as const;
/** `...dateTimeRenderOption.enum` */
export const DATE_TIME_RENDER_OPTIONS = ["SERIAL_NUMBER", "FORMATTED_STRING"] as const;
/** `resources.spreadsheets.methods.get.parameters.commentsViewMode.enum` */
export const COMMENTS_VIEW_MODES = ["COMMENTS_VIEW_MODE_UNSPECIFIED", "COMMENTS_VIEW_MODE_DEFAULT_FOR_CURRENT_ACCESS", "COMMENTS_VIEW_MODE_OMITTED", "COMMENTS_VIEW_MODE_INCLUDED"] as const;

export type ParameterRule = { readonly type: "boolean" } | { readonly type: "string"; readonly repeated?: boolean; readonly enum?: readonly string[] };

export interface MethodRule {
  /** discovery `id` */
  readonly id: string;
  /** The proto method Google names in ErrorInfo metadata (ASSUMED, as seen in Google's answers). */
  readonly rpc: string;
  /** Query parameters besides the standard ones and the path's. */
  readonly parameters: Readonly<Record<string, ParameterRule>>;
  /** discovery `scopes`: a token needs one of them. */
  readonly scopes: readonly string[];
}

const READ_SCOPES = [
  "https://www.googleapis.com/auth/drive",
  "https://www.googleapis.com/auth/drive.file",
  "https://www.googleapis.com/auth/drive.readonly",
  "https://www.googleapis.com/auth/spreadsheets",
  "https://www.googleapis.com/auth/spreadsheets.readonly",
];

/** GET v4/spreadsheets/{spreadsheetId} */
export const SPREADSHEETS_GET: MethodRule = {
  id: "sheets.spreadsheets.get",
  rpc: "google.apps.sheets.v4.SpreadsheetsService.GetSpreadsheet",
  parameters: {
    includeGridData: { type: "boolean" },
    ranges: { type: "string", repeated: true },
    excludeTablesInBandedRanges: { type: "boolean" },
    commentsViewMode: { type: "string", enum: COMMENTS_VIEW_MODES },
  },
  scopes: READ_SCOPES,
};

/** GET v4/spreadsheets/{spreadsheetId}/values:batchGet */
export const VALUES_BATCH_GET: MethodRule = {
  id: "sheets.spreadsheets.values.batchGet",
  rpc: "google.apps.sheets.v4.SpreadsheetsService.BatchGetValues",
  parameters: {
    ranges: { type: "string", repeated: true },
    majorDimension: { type: "string", enum: MAJOR_DIMENSIONS },
    valueRenderOption: { type: "string", enum: VALUE_RENDER_OPTIONS },
    dateTimeRenderOption: { type: "string", enum: DATE_TIME_RENDER_OPTIONS },
  },
  scopes: READ_SCOPES,
};

/** GET v4/spreadsheets/{spreadsheetId}/values/{range} */
export const VALUES_GET: MethodRule = {
  id: "sheets.spreadsheets.values.get",
  rpc: "google.apps.sheets.v4.SpreadsheetsService.GetValues",
  parameters: {
    majorDimension: { type: "string", enum: MAJOR_DIMENSIONS },
    valueRenderOption: { type: "string", enum: VALUE_RENDER_OPTIONS },
    dateTimeRenderOption: { type: "string", enum: DATE_TIME_RENDER_OPTIONS },
  },
  scopes: READ_SCOPES,
};

// ------------------------------------------------------------------ schemas (for `fields` masks)

/**
 * `schemas.*.properties` of the schemas the emulator writes, each property with the schema it
 * holds (`""` for scalars). A field mask naming a property that is not here fails, as
 * Google's does. Properties of schemas not listed (Color, DataSource, ...) are not checked:
 * the emulator never writes them.
 */
export const SCHEMA_PROPERTIES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  Spreadsheet: { dataSources: "DataSource", dataSourceSchedules: "DataSourceRefreshSchedule", developerMetadata: "DeveloperMetadata", namedRanges: "NamedRange", properties: "SpreadsheetProperties", sheets: "Sheet", spreadsheetId: "", spreadsheetUrl: "" },
  SpreadsheetProperties: {
    autoRecalc: "",
    defaultFormat: "CellFormat",
    importFunctionsExternalUrlAccessAllowed: "",
    iterativeCalculationSettings: "IterativeCalculationSettings",
    locale: "",
    spreadsheetTheme: "SpreadsheetTheme",
    timeZone: "",
    title: "",
  },
  Sheet: {
    bandedRanges: "BandedRange",
    basicFilter: "BasicFilter",
    charts: "EmbeddedChart",
    columnGroups: "DimensionGroup",
    conditionalFormats: "ConditionalFormatRule",
    data: "GridData",
    developerMetadata: "DeveloperMetadata",
    filterViews: "FilterView",
    merges: "GridRange",
    properties: "SheetProperties",
    protectedRanges: "ProtectedRange",
    rowGroups: "DimensionGroup",
    slicers: "Slicer",
    tables: "Table",
  },
  SheetProperties: { dataSourceSheetProperties: "DataSourceSheetProperties", gridProperties: "GridProperties", hidden: "", index: "", rightToLeft: "", sheetId: "", sheetType: "", tabColor: "Color", tabColorStyle: "ColorStyle", title: "" },
  GridProperties: { columnCount: "", columnGroupControlAfter: "", frozenColumnCount: "", frozenRowCount: "", hideGridlines: "", rowCount: "", rowGroupControlAfter: "" },
  GridData: { columnMetadata: "DimensionProperties", rowData: "RowData", rowMetadata: "DimensionProperties", startColumn: "", startRow: "" },
  RowData: { values: "CellData" },
  CellData: {
    chipRuns: "ChipRun",
    dataSourceFormula: "DataSourceFormula",
    dataSourceTable: "DataSourceTable",
    dataValidation: "DataValidationRule",
    effectiveFormat: "CellFormat",
    effectiveValue: "ExtendedValue",
    formattedValue: "",
    hyperlink: "",
    note: "",
    pivotTable: "PivotTable",
    textFormatRuns: "TextFormatRun",
    userEnteredFormat: "CellFormat",
    userEnteredValue: "ExtendedValue",
  },
  CellFormat: {
    backgroundColor: "Color",
    backgroundColorStyle: "ColorStyle",
    borders: "Borders",
    horizontalAlignment: "",
    hyperlinkDisplayType: "",
    numberFormat: "NumberFormat",
    padding: "Padding",
    textDirection: "",
    textFormat: "TextFormat",
    textRotation: "TextRotation",
    verticalAlignment: "",
    wrapStrategy: "",
  },
  NumberFormat: { pattern: "", type: "" },
  ExtendedValue: { boolValue: "", errorValue: "ErrorValue", formulaValue: "", numberValue: "", stringValue: "" },
  ErrorValue: { message: "", type: "" },
  BatchGetValuesResponse: { spreadsheetId: "", valueRanges: "ValueRange" },
  ValueRange: { majorDimension: "", range: "", values: "" },
  DimensionProperties: { dataSourceColumnReference: "DataSourceColumnReference", developerMetadata: "DeveloperMetadata", hiddenByFilter: "", hiddenByUser: "", pixelSize: "" },
};

/** `schemas.NumberFormat.properties.type.enum`, without NUMBER_FORMAT_TYPE_UNSPECIFIED (which a cell never has). */
export const NUMBER_FORMAT_TYPES = ["TEXT", "NUMBER", "PERCENT", "CURRENCY", "DATE", "TIME", "DATE_TIME", "SCIENTIFIC"] as const;
export type NumberFormatType = (typeof NUMBER_FORMAT_TYPES)[number];

/** `schemas.ErrorValue.properties.type.enum` and the text Sheets shows for each (ASSUMED: the texts are the UI's). */
export const ERROR_TYPES = {
  ERROR: "#ERROR!",
  NULL_VALUE: "#NULL!",
  DIVIDE_BY_ZERO: "#DIV/0!",
  VALUE: "#VALUE!",
  REF: "#REF!",
  NAME: "#NAME?",
  NUM: "#NUM!",
  N_A: "#N/A",
  LOADING: "Loading...",
} as const;
export type ErrorType = keyof typeof ERROR_TYPES;

/** `SheetProperties.sheetType.enum` without SHEET_TYPE_UNSPECIFIED. */
export const SHEET_TYPES = ["GRID", "OBJECT", "DATA_SOURCE"] as const;
export type SheetType = (typeof SHEET_TYPES)[number];

// ------------------------------------------------------------------ errors

/** AIP-193's JSON error body; `errors` is the older shape some Google APIs still send. */
export interface GoogleErrorBody {
  readonly error: {
    readonly code: number;
    readonly message: string;
    readonly status: string;
    readonly errors?: readonly { readonly message: string; readonly domain: string; readonly reason: string }[];
    readonly details?: readonly Record<string, unknown>[];
  };
}

export function googleError(code: number, status: string, message: string, more: { errors?: GoogleErrorBody["error"]["errors"]; details?: Record<string, unknown>[] } = {}): GoogleErrorBody {
  return { error: { code, message, status, ...more } };
}

/** google.rpc.ErrorInfo, as `details` carries it. */
export function errorInfo(reason: string, method: MethodRule, metadata: Record<string, string> = {}): Record<string, unknown> {
  return { "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason, domain: "googleapis.com", metadata: { service: "sheets.googleapis.com", method: method.rpc, ...metadata } };
}

/** ASSUMED texts, as Google's answers carry them. */
export const MESSAGES = {
  credentialsMissing:
    "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
  credentialsInvalid:
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
  insufficientScopes: "Request had insufficient authentication scopes.",
  notFound: "Requested entity was not found.",
  noPermission: "The caller does not have permission",
  unableToParse: (range: string) => `Unable to parse range: ${range}`,
  exceedsGrid: (range: string, rows: number, columns: number) => `Range (${range}) exceeds grid limits. Max rows: ${rows}, max columns: ${columns}`,
  unknownParameter: (name: string) => `Invalid JSON payload received. Unknown name "${name}": Cannot bind query parameter. Field '${name}' could not be found in request message.`,
  invalidEnum: (name: string, value: string) => `Invalid value at '${name}', "${value}"`,
  invalidBoolean: (name: string, value: string) => `Invalid value at '${name}' (TYPE_BOOL), "${value}"`,
  invalidFieldMask: (path: string) => `Invalid field selection ${path}`,
  quota: "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute per user' of service 'sheets.googleapis.com' for consumer 'project_number:000000000000'.",
  rateLimit: "User Rate Limit Exceeded",
  internal: "Internal error encountered.",
  unavailable: "The service is currently unavailable.",
} as const;

// ------------------------------------------------------------------ A1 notation

/**
 * The guide "A1 notation": `Sheet1!A1:B2`, `Sheet1!A:A`, `Sheet1!1:2`, `Sheet1!A5:A`,
 * `A1:B2` (the first visible sheet), `Sheet1` (all cells of a sheet), `'My Custom Sheet'!A:A`,
 * `'My Custom Sheet'` (a title with spaces or special characters in single quotes; a quote in
 * it doubled). Titles with spaces also work unquoted (Google's own quickstart reads
 * `Class Data!A2:E`). Named ranges and R1C1 notation are not emulated: they are refused as
 * unparsable (STRICTER).
 */
export interface A1Reference {
  /** Undefined: the first visible sheet. */
  readonly sheet: string | undefined;
  /** Zero-based, end exclusive; undefined where unbounded. Undefined as a whole for "all cells of the sheet". */
  readonly cells: { readonly row1?: number; readonly row2?: number; readonly col1?: number; readonly col2?: number } | undefined;
}

const CELLS = /^([A-Z]{0,3})(\d{0,8})(?::([A-Z]{0,3})(\d{0,8}))?$/i;

function letters(text: string): number | undefined {
  if (text === "") return undefined;
  let n = 0;
  for (const ch of text.toUpperCase()) n = n * 26 + ch.charCodeAt(0) - 64;
  return n - 1;
}

function cellsOf(text: string): A1Reference["cells"] | "invalid" {
  const m = CELLS.exec(text);
  if (!m) return "invalid";
  const [, c1 = "", r1 = "", c2, r2] = m;
  if (c1 === "" && r1 === "") return "invalid";
  if (m[3] === undefined && m[4] === undefined) {
    // A single cell needs both a column and a row.
    if (c1 === "" || r1 === "") return "invalid";
    return { row1: Number(r1) - 1, row2: Number(r1), col1: letters(c1), col2: letters(c1)! + 1 };
  }
  if (c2 === "" && r2 === "") return "invalid";
  if ((c1 === "") !== (c2 === "")) return "invalid";
  if (r1 === "" && r2 !== "") return "invalid";
  if (r1 === "0" || r2 === "0") return "invalid";
  const cells = {
    ...(r1 !== "" ? { row1: Number(r1) - 1 } : {}),
    ...(r2 !== "" && r2 !== undefined ? { row2: Number(r2) } : {}),
    ...(c1 !== "" ? { col1: letters(c1)! } : {}),
    ...(c2 !== "" && c2 !== undefined ? { col2: letters(c2)! + 1 } : {}),
  };
  // Google swaps reversed ends (`B2:A1` is `A1:B2`); a start past an end of the other kind is not a range.
  if (cells.row1 !== undefined && cells.row2 !== undefined && cells.row2 <= cells.row1) return { ...cells, row1: cells.row2 - 1, row2: cells.row1 + 1 };
  if (cells.col1 !== undefined && cells.col2 !== undefined && cells.col2 <= cells.col1) return { ...cells, col1: cells.col2 - 1, col2: cells.col1 + 1 };
  return cells;
}

/** Reads a range the way the guide describes; undefined when it is not A1 notation at all. */
export function readA1(text: string): A1Reference | undefined {
  let sheet: string | undefined;
  let rest = text;
  const quoted = /^'((?:[^']|'')+)'(?:!(.*))?$/s.exec(text);
  if (quoted) {
    sheet = quoted[1]!.replace(/''/g, "'");
    if (quoted[2] === undefined) return { sheet, cells: undefined };
    rest = quoted[2];
  } else {
    const bang = text.lastIndexOf("!");
    if (bang >= 0) {
      sheet = text.slice(0, bang);
      rest = text.slice(bang + 1);
      if (sheet === "") return undefined;
    }
  }
  const cells = cellsOf(rest);
  if (cells !== "invalid") return { sheet, cells };
  // No cells: the whole text may be a sheet title.
  if (sheet === undefined && !quoted) return { sheet: text, cells: undefined };
  return undefined;
}

/** `Sheet1!A1:D5`, `'Class Data'!A2:E1000`: how Google writes a range back (ASSUMED: titles quoted when not a plain word). */
export function writeA1(sheet: string, row1: number, row2: number, col1: number, col2: number): string {
  const title = /^[A-Za-z_][A-Za-z0-9_]*$/.test(sheet) && !/^[A-Za-z]{1,3}\d+$/.test(sheet) ? sheet : `'${sheet.replace(/'/g, "''")}'`;
  const col = (n: number) => {
    let s = "";
    for (let k = n + 1; k > 0; k = Math.floor((k - 1) / 26)) s = String.fromCharCode(65 + ((k - 1) % 26)) + s;
    return s;
  };
  const first = `${col(col1)}${row1 + 1}`;
  const last = `${col(col2 - 1)}${row2}`;
  return `${title}!${first === last ? first : `${first}:${last}`}`;
}
