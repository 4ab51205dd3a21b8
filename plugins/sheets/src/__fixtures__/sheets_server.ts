/**
 * A loopback emulator of the Google Sheets API v4, on node:http at 127.0.0.1 and a free port.
 * Tests reach it through googleapis' own client (`@googleapis/sheets` with `rootUrl`); it is
 * the only emulated part besides the testkit's OAuth token endpoint, which issues the tokens
 * it checks.
 *
 * Follows: the discovery document `sheets:v4` revision 20260921 (github.com/googleapis/
 * google-api-go-client, sheets/v4/sheets-api.json, commit 01bb782ba9c9a0b062538d5a2a9131ce71dfe25c),
 * the client generated from it (`@googleapis/sheets` 14.0.0), Google's guides "A1 notation",
 * "Basic reading" and "Usage limits", and AIP-193 for errors. The rules are transcribed, each
 * with its source, in sheets-api.ts (ADR 0009); cell display in cell-format.ts.
 *
 * Covers:
 * - `GET /v4/spreadsheets/{id}` (spreadsheets.get): `ranges` (only the sheets they touch, grid
 *   data of those cells), `includeGridData` (ignored when `fields` is set), `fields` partial
 *   responses (`a,b(c,d),e/f`, `*`), checked against the schemas' property names;
 * - `GET /v4/spreadsheets/{id}/values:batchGet` and `GET .../values/{range}`: A1 ranges with
 *   or without a (quoted) sheet title, whole columns, rows and sheets; `majorDimension`
 *   ROWS/COLUMNS, `valueRenderOption`, `dateTimeRenderOption`; trailing empty cells and rows
 *   left out, empty rows inside as `[]`, no `values` when a range is empty; ranges written
 *   back as `Sheet1!A1:F1000`, clipped to the grid;
 * - every request needs a bearer token the OAuth server issued (header, or `access_token`)
 *   with one of the method's scopes: else 401 UNAUTHENTICATED or 403 PERMISSION_DENIED;
 * - unknown query parameters, bad enum and boolean values: 400 INVALID_ARGUMENT; ranges it
 *   cannot read: 400 "Unable to parse range: ..."; a range starting outside the grid: 400
 *   "exceeds grid limits"; an unknown spreadsheet: 404 NOT_FOUND; a spreadsheet not shared
 *   with the caller (`sharedWith`): 403 PERMISSION_DENIED.
 * STRICTER: batchGet without `ranges` and majorDimension DIMENSION_UNSPECIFIED are refused;
 * sheet titles in ranges match exactly; named ranges and R1C1 are unparsable.
 * ASSUMED: error texts as seen in Google's answers; grid data trims trailing empty cells and
 * rows; formula errors read as their display text (`#DIV/0!`) in every render option; ranges
 * ending past the grid are clipped; faults come after the token check.
 * Scripted per test: faults (429 RESOURCE_EXHAUSTED with optional Retry-After, 403
 * rateLimitExceeded, 500, 503, a reset connection) on the Nth request or the next one of a
 * method, and an `onRequest` hook that runs before each request is answered.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { OAuthServer } from "@xo-foundry/testkit";
import { formatValue } from "./cell-format.js";
import { toCell, type Cell, type CellInput } from "./cells.js";
import {
  DATE_TIME_RENDER_OPTIONS,
  ERROR_TYPES,
  MAJOR_DIMENSIONS,
  MESSAGES,
  SCHEMA_PROPERTIES,
  SPREADSHEETS_GET,
  STANDARD_PARAMETERS,
  VALUE_RENDER_OPTIONS,
  VALUES_BATCH_GET,
  VALUES_GET,
  errorInfo,
  googleError,
  readA1,
  writeA1,
  type GoogleErrorBody,
  type MethodRule,
  type SheetType,
} from "./sheets-api.js";

export * as cells from "./cells.js";

export interface SheetSpec {
  readonly title: string;
  /** Default: 0 for the first sheet, then 1001, 1002, ... */
  readonly sheetId?: number;
  readonly hidden?: boolean;
  readonly sheetType?: SheetType;
  /** Grid size; default the larger of 1000 rows / 26 columns and the cells given. */
  readonly rowCount?: number;
  readonly columnCount?: number;
  readonly rows?: readonly (readonly CellInput[])[];
}

export interface SpreadsheetSpec {
  readonly spreadsheetId: string;
  readonly title?: string;
  /** Default `America/New_York`, what a new spreadsheet of a US account gets. */
  readonly timeZone?: string;
  readonly locale?: string;
  readonly sheets: readonly SheetSpec[];
  /** Service-account emails, delegated users or OAuth client ids that may read it; default: everyone with a token. */
  readonly sharedWith?: readonly string[];
}

export type FaultStatus = 429 | 403 | 500 | 503;

export interface Fault {
  /** 429 RESOURCE_EXHAUSTED, 403 rateLimitExceeded, 500 INTERNAL, 503 UNAVAILABLE; `reset` drops the connection. */
  readonly status: FaultStatus | "reset";
  /** The 1-based number of the request (counting every request) to fail; default: the next matching one. */
  readonly nth?: number;
  readonly method?: "spreadsheets.get" | "values.batchGet" | "values.get";
  readonly retryAfter?: string;
  /** For 403: `rateLimitExceeded` (default) or `userRateLimitExceeded`. */
  readonly reason?: "rateLimitExceeded" | "userRateLimitExceeded";
}

export interface RecordedRequest {
  /** 1-based, in arrival order. */
  readonly n: number;
  readonly method: "spreadsheets.get" | "values.batchGet" | "values.get" | "unknown";
  readonly spreadsheetId: string | undefined;
  readonly query: URLSearchParams;
  readonly ranges: readonly string[];
  /** Who the token belongs to (service account email, delegated user, or OAuth client id). */
  identity?: string;
  status?: number;
}

export interface SheetsEmulator {
  /** `http://127.0.0.1:<port>/`, for `root_url`. */
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Adds or replaces a spreadsheet. */
  put(spec: SpreadsheetSpec): void;
  fault(fault: Fault): void;
  /** Runs before each request is answered (after it is recorded). */
  onRequest: ((request: RecordedRequest) => void) | undefined;
  /** Forgets spreadsheets, faults, requests and the hook. */
  reset(): void;
  close(): Promise<void>;
}

interface Sheet {
  readonly id: number;
  readonly title: string;
  readonly index: number;
  readonly hidden: boolean;
  readonly type: SheetType;
  readonly rowCount: number;
  readonly columnCount: number;
  readonly cells: readonly (readonly (Cell | undefined)[])[];
}

interface Spreadsheet {
  readonly id: string;
  readonly title: string;
  readonly timeZone: string;
  readonly locale: string;
  readonly sheets: readonly Sheet[];
  readonly sharedWith: readonly string[] | undefined;
}

/** A failed request: Google's status and body. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly body: GoogleErrorBody,
    readonly headers: Record<string, string> = {},
  ) {
    super(body.error.message);
  }
}

const invalidArgument = (message: string) => new Refusal(400, googleError(400, "INVALID_ARGUMENT", message));

export async function startSheetsEmulator(oauth: OAuthServer): Promise<SheetsEmulator> {
  const spreadsheets = new Map<string, Spreadsheet>();
  const faults: Fault[] = [];
  const requests: RecordedRequest[] = [];

  const emulator: SheetsEmulator = {
    url: "",
    requests,
    onRequest: undefined,
    put(spec) {
      spreadsheets.set(spec.spreadsheetId, build(spec));
    },
    fault(fault) {
      faults.push(fault);
    },
    reset() {
      spreadsheets.clear();
      faults.length = 0;
      requests.length = 0;
      emulator.onRequest = undefined;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? "/", "http://emulator");
    const route = routeOf(url.pathname);
    const request: RecordedRequest = {
      n: requests.length + 1,
      method: route?.name ?? "unknown",
      spreadsheetId: route?.spreadsheetId,
      query: url.searchParams,
      ranges: route?.name === "values.get" ? [route.range] : url.searchParams.getAll("ranges"),
    };
    requests.push(request);
    emulator.onRequest?.(request);
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      request.status = status;
      res.writeHead(status, { "Content-Type": "application/json; charset=UTF-8", ...headers });
      res.end(JSON.stringify(body));
    };
    try {
      if (!route || req.method !== "GET") throw new Refusal(404, googleError(404, "NOT_FOUND", "Method not found."));
      authenticate(req, url, route.rule, request);
      const fault = takeFault(request, route.rule);
      if (fault === "reset") {
        request.status = 0;
        req.socket.destroy();
        return;
      }
      if (fault) throw fault;
      checkParameters(url.searchParams, route.rule, route.name === "values.get");
      const spreadsheet = spreadsheets.get(route.spreadsheetId);
      if (!spreadsheet) throw new Refusal(404, googleError(404, "NOT_FOUND", MESSAGES.notFound));
      if (spreadsheet.sharedWith && !spreadsheet.sharedWith.includes(request.identity ?? "")) {
        throw new Refusal(403, googleError(403, "PERMISSION_DENIED", MESSAGES.noPermission));
      }
      const q = url.searchParams;
      const body =
        route.name === "spreadsheets.get"
          ? getSpreadsheet(spreadsheet, q)
          : route.name === "values.batchGet"
            ? batchGetValues(spreadsheet, q)
            : getValues(spreadsheet, route.range, q);
      const fields = q.get("fields");
      send(200, fields ? applyMask(body, parseMask(fields, route.name === "spreadsheets.get" ? "Spreadsheet" : route.name === "values.batchGet" ? "BatchGetValuesResponse" : "ValueRange")) : body);
    } catch (e) {
      if (e instanceof Refusal) send(e.status, e.body, e.headers);
      // A bug here must fail the test that met it, not crash the test process.
      else send(500, googleError(500, "INTERNAL", `emulator error: ${e instanceof Error ? e.stack : String(e)}`));
    }
  }

  function authenticate(req: IncomingMessage, url: URL, rule: MethodRule, request: RecordedRequest): void {
    const queryToken = url.searchParams.get("access_token") ?? url.searchParams.get("oauth_token");
    const header = req.headers.authorization ?? (queryToken ? `Bearer ${queryToken}` : undefined);
    const check = oauth.verify(header);
    if (!check.ok) {
      const missing = check.reason === "missing";
      throw new Refusal(
        401,
        googleError(401, "UNAUTHENTICATED", missing ? MESSAGES.credentialsMissing : MESSAGES.credentialsInvalid, {
          details: [errorInfo(missing ? "CREDENTIALS_MISSING" : check.reason === "expired" ? "ACCESS_TOKEN_EXPIRED" : "ACCESS_TOKEN_TYPE_UNSUPPORTED", rule)],
        }),
        { "WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"' },
      );
    }
    request.identity = check.subject ?? check.email ?? check.clientId;
    if (!check.scopes.some((s) => rule.scopes.includes(s))) {
      throw new Refusal(403, googleError(403, "PERMISSION_DENIED", MESSAGES.insufficientScopes, { details: [errorInfo("ACCESS_TOKEN_SCOPE_INSUFFICIENT", rule)] }), {
        "WWW-Authenticate": `Bearer realm="https://accounts.google.com/", error="insufficient_scope", scope="${rule.scopes.join(" ")}"`,
      });
    }
  }

  function takeFault(request: RecordedRequest, rule: MethodRule): Refusal | "reset" | undefined {
    const i = faults.findIndex((f) => (f.nth === undefined || f.nth === request.n) && (f.method === undefined || f.method === request.method));
    if (i < 0) return undefined;
    const [fault] = faults.splice(i, 1);
    const headers: Record<string, string> = fault!.retryAfter !== undefined ? { "Retry-After": fault!.retryAfter } : {};
    switch (fault!.status) {
      case "reset":
        return "reset";
      case 429:
        return new Refusal(429, googleError(429, "RESOURCE_EXHAUSTED", MESSAGES.quota, { details: [errorInfo("RATE_LIMIT_EXCEEDED", rule, { quota_metric: "sheets.googleapis.com/read_requests" })] }), headers);
      case 403: {
        const reason = fault!.reason ?? "rateLimitExceeded";
        return new Refusal(403, googleError(403, "PERMISSION_DENIED", MESSAGES.rateLimit, { errors: [{ message: MESSAGES.rateLimit, domain: "usageLimits", reason }] }), headers);
      }
      case 500:
        return new Refusal(500, googleError(500, "INTERNAL", MESSAGES.internal), headers);
      case 503:
        return new Refusal(503, googleError(503, "UNAVAILABLE", MESSAGES.unavailable), headers);
    }
  }

  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  (emulator as { url: string }).url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return emulator;
}

// ------------------------------------------------------------------ routing and parameters

type Route =
  | { readonly name: "spreadsheets.get"; readonly rule: MethodRule; readonly spreadsheetId: string }
  | { readonly name: "values.batchGet"; readonly rule: MethodRule; readonly spreadsheetId: string }
  | { readonly name: "values.get"; readonly rule: MethodRule; readonly spreadsheetId: string; readonly range: string };

/** The URL templates of v4.js: `v4/spreadsheets/{spreadsheetId}`, `.../values:batchGet`, `.../values/{range}`. */
function routeOf(pathname: string): Route | undefined {
  const parts = pathname.split("/").map((p) => decodeURIComponent(p));
  if (parts[1] !== "v4" || parts[2] !== "spreadsheets" || !parts[3]) return undefined;
  const spreadsheetId = parts[3];
  if (parts.length === 4) return { name: "spreadsheets.get", rule: SPREADSHEETS_GET, spreadsheetId };
  if (parts.length === 5 && parts[4] === "values:batchGet") return { name: "values.batchGet", rule: VALUES_BATCH_GET, spreadsheetId };
  if (parts.length === 6 && parts[4] === "values" && parts[5]) return { name: "values.get", rule: VALUES_GET, spreadsheetId, range: parts[5] };
  return undefined;
}

function checkParameters(query: URLSearchParams, rule: MethodRule, rangeInPath: boolean): void {
  for (const name of new Set(query.keys())) {
    if (STANDARD_PARAMETERS.includes(name)) continue;
    const param = rule.parameters[name];
    if (!param) throw invalidArgument(MESSAGES.unknownParameter(name));
    const values = query.getAll(name);
    if (param.type === "boolean") {
      for (const v of values) if (v !== "true" && v !== "false") throw invalidArgument(MESSAGES.invalidBoolean(name, v));
    } else {
      if (!param.repeated && values.length > 1) throw invalidArgument(`Invalid JSON payload received. Repeated values for field '${name}' that is not repeated.`);
      for (const v of values) if (param.enum && !param.enum.includes(v)) throw invalidArgument(MESSAGES.invalidEnum(name, v));
    }
  }
  // STRICTER: the description demands "one or more ranges" in prose only.
  if (rule === VALUES_BATCH_GET && !rangeInPath && query.getAll("ranges").length === 0) throw invalidArgument("batchGet needs at least one `ranges` parameter");
  // STRICTER: "The default value, do not use."
  if (query.get("majorDimension") === "DIMENSION_UNSPECIFIED") throw invalidArgument(MESSAGES.invalidEnum("majorDimension", "DIMENSION_UNSPECIFIED"));
}

// ------------------------------------------------------------------ the model

function build(spec: SpreadsheetSpec): Spreadsheet {
  let nextId = 1001;
  return {
    id: spec.spreadsheetId,
    title: spec.title ?? "Untitled spreadsheet",
    timeZone: spec.timeZone ?? "America/New_York",
    locale: spec.locale ?? "en_US",
    sharedWith: spec.sharedWith,
    sheets: spec.sheets.map((s, index) => {
      const cells = (s.rows ?? []).map((row) => row.map(toCell));
      const width = Math.max(0, ...cells.map((r) => r.length));
      return {
        id: s.sheetId ?? (index === 0 ? 0 : nextId++),
        title: s.title,
        index,
        hidden: s.hidden ?? false,
        type: s.sheetType ?? "GRID",
        rowCount: s.rowCount ?? Math.max(1000, cells.length),
        columnCount: s.columnCount ?? Math.max(26, width),
        cells,
      };
    }),
  };
}

interface Block {
  readonly sheet: Sheet;
  readonly row1: number;
  readonly row2: number;
  readonly col1: number;
  readonly col2: number;
}

/** The cells a range names, clipped to the sheet's grid. */
function resolve(spreadsheet: Spreadsheet, range: string): Block {
  const ref = readA1(range);
  if (!ref) throw invalidArgument(MESSAGES.unableToParse(range));
  const sheet = ref.sheet === undefined ? spreadsheet.sheets.find((s) => !s.hidden) : spreadsheet.sheets.find((s) => s.title === ref.sheet);
  if (!sheet || sheet.type !== "GRID") throw invalidArgument(MESSAGES.unableToParse(range));
  const c = ref.cells ?? {};
  const row1 = c.row1 ?? 0;
  const col1 = c.col1 ?? 0;
  if (row1 >= sheet.rowCount || col1 >= sheet.columnCount) throw invalidArgument(MESSAGES.exceedsGrid(range, sheet.rowCount, sheet.columnCount));
  return { sheet, row1, col1, row2: Math.min(c.row2 ?? sheet.rowCount, sheet.rowCount), col2: Math.min(c.col2 ?? sheet.columnCount, sheet.columnCount) };
}

const cellAt = (sheet: Sheet, row: number, col: number): Cell | undefined => sheet.cells[row]?.[col];
const isBlank = (cell: Cell | undefined) => cell === undefined || cell.value === undefined || cell.value === "";

// ------------------------------------------------------------------ spreadsheets.get

function getSpreadsheet(spreadsheet: Spreadsheet, query: URLSearchParams): object {
  const ranges = query.getAll("ranges");
  const blocks = ranges.map((r) => resolve(spreadsheet, r));
  // "If a field mask is set, the includeGridData parameter is ignored": the mask decides then.
  const withData = query.has("fields") ? maskSelects(query.get("fields")!, "sheets", "data") : query.get("includeGridData") === "true";
  const sheets = ranges.length > 0 ? spreadsheet.sheets.filter((s) => blocks.some((b) => b.sheet === s)) : spreadsheet.sheets;
  return {
    spreadsheetId: spreadsheet.id,
    properties: { title: spreadsheet.title, locale: spreadsheet.locale, autoRecalc: "ON_CHANGE", timeZone: spreadsheet.timeZone },
    sheets: sheets.map((sheet) => ({
      properties: sheetProperties(sheet),
      ...(withData
        ? { data: (ranges.length > 0 ? blocks.filter((b) => b.sheet === sheet) : [{ sheet, row1: 0, col1: 0, row2: sheet.rowCount, col2: sheet.columnCount }]).map(gridData) }
        : {}),
    })),
    spreadsheetUrl: `https://docs.google.com/spreadsheets/d/${spreadsheet.id}/edit`,
  };
}

/** Proto3 JSON leaves out fields at their default (0, false), and so does this. */
function sheetProperties(sheet: Sheet): object {
  return {
    ...(sheet.id !== 0 ? { sheetId: sheet.id } : {}),
    title: sheet.title,
    ...(sheet.index !== 0 ? { index: sheet.index } : {}),
    sheetType: sheet.type,
    ...(sheet.type === "GRID" ? { gridProperties: { rowCount: sheet.rowCount, columnCount: sheet.columnCount } } : {}),
    ...(sheet.hidden ? { hidden: true } : {}),
  };
}

function gridData(block: Block): object {
  const rowData: object[] = [];
  for (let r = block.row1; r < block.row2; r++) {
    const values: object[] = [];
    for (let c = block.col1; c < block.col2; c++) values.push(cellData(cellAt(block.sheet, r, c)));
    while (values.length > 0 && Object.keys(values[values.length - 1]!).length === 0) values.pop();
    rowData.push(values.length > 0 ? { values } : {});
  }
  while (rowData.length > 0 && Object.keys(rowData[rowData.length - 1]!).length === 0) rowData.pop();
  return {
    ...(block.row1 !== 0 ? { startRow: block.row1 } : {}),
    ...(block.col1 !== 0 ? { startColumn: block.col1 } : {}),
    rowData,
    rowMetadata: Array.from({ length: block.row2 - block.row1 }, () => ({ pixelSize: 21 })),
    columnMetadata: Array.from({ length: block.col2 - block.col1 }, () => ({ pixelSize: 100 })),
  };
}

function cellData(cell: Cell | undefined): object {
  if (!cell) return {};
  const format = cell.format ? { numberFormat: { type: cell.format.type, ...(cell.format.pattern !== undefined ? { pattern: cell.format.pattern } : {}) } } : undefined;
  if (isBlank(cell)) return format ? { userEnteredFormat: format, effectiveFormat: format } : {};
  const v = cell.value!;
  const effectiveValue =
    typeof v === "object"
      ? { errorValue: { type: v.error, message: "Emulated formula error." } }
      : typeof v === "number"
        ? { numberValue: v }
        : typeof v === "boolean"
          ? { boolValue: v }
          : { stringValue: v };
  return {
    userEnteredValue: cell.formula !== undefined ? { formulaValue: cell.formula } : effectiveValue,
    effectiveValue,
    formattedValue: shown(cell),
    ...(format ? { userEnteredFormat: format, effectiveFormat: format } : {}),
  };
}

function shown(cell: Cell): string {
  const v = cell.value!;
  return typeof v === "object" ? ERROR_TYPES[v.error] : formatValue(v, cell.format);
}

// ------------------------------------------------------------------ values

type Render = { readonly value: (typeof VALUE_RENDER_OPTIONS)[number]; readonly dateTime: (typeof DATE_TIME_RENDER_OPTIONS)[number] };

function renderOf(query: URLSearchParams): Render & { readonly major: (typeof MAJOR_DIMENSIONS)[number] } {
  return {
    value: (query.get("valueRenderOption") as Render["value"] | null) ?? "FORMATTED_VALUE",
    dateTime: (query.get("dateTimeRenderOption") as Render["dateTime"] | null) ?? "SERIAL_NUMBER",
    major: (query.get("majorDimension") as "ROWS" | "COLUMNS" | null) ?? "ROWS",
  };
}

function batchGetValues(spreadsheet: Spreadsheet, query: URLSearchParams): object {
  const render = renderOf(query);
  const blocks = query.getAll("ranges").map((r) => resolve(spreadsheet, r));
  return { spreadsheetId: spreadsheet.id, valueRanges: blocks.map((b) => valueRange(b, render)) };
}

function getValues(spreadsheet: Spreadsheet, range: string, query: URLSearchParams): object {
  return valueRange(resolve(spreadsheet, range), renderOf(query));
}

function valueRange(block: Block, render: Render & { readonly major: "ROWS" | "COLUMNS" | "DIMENSION_UNSPECIFIED" }): object {
  const grid: unknown[][] = [];
  const rows = render.major === "COLUMNS" ? block.col2 - block.col1 : block.row2 - block.row1;
  const cols = render.major === "COLUMNS" ? block.row2 - block.row1 : block.col2 - block.col1;
  for (let i = 0; i < rows; i++) {
    const line: unknown[] = [];
    for (let j = 0; j < cols; j++) {
      const [r, c] = render.major === "COLUMNS" ? [block.row1 + j, block.col1 + i] : [block.row1 + i, block.col1 + j];
      line.push(rendered(cellAt(block.sheet, r, c), render));
    }
    // "For output, empty trailing rows and columns will not be included."
    while (line.length > 0 && line[line.length - 1] === "") line.pop();
    grid.push(line);
  }
  while (grid.length > 0 && grid[grid.length - 1]!.length === 0) grid.pop();
  return {
    range: writeA1(block.sheet.title, block.row1, block.row2, block.col1, block.col2),
    majorDimension: render.major,
    ...(grid.length > 0 ? { values: grid } : {}),
  };
}

const DATE_TIME_TYPES = new Set(["DATE", "TIME", "DATE_TIME"]);

/** One cell under the render options; `""` for a blank one (trimmed at the ends). */
function rendered(cell: Cell | undefined, render: Render): unknown {
  if (!cell || isBlank(cell)) return "";
  const v = cell.value!;
  if (typeof v === "object") return ERROR_TYPES[v.error];
  if (render.value === "FORMATTED_VALUE") return shown(cell);
  if (render.value === "FORMULA" && cell.formula !== undefined) return cell.formula;
  if (typeof v === "number" && render.dateTime === "FORMATTED_STRING" && cell.format && DATE_TIME_TYPES.has(cell.format.type)) return shown(cell);
  return v;
}

// ------------------------------------------------------------------ partial responses (`fields`)

/** `true`: the whole value; an object: only those properties. */
type Mask = true | { [property: string]: Mask };

/**
 * The partial-response syntax: `a,b/c,d(e,f)`, `*` for every property. Each name is checked
 * against the schema it is in, as Google does.
 */
function parseMask(text: string, schema: string): Mask {
  let i = 0;
  const list = (schemaName: string | undefined): { [k: string]: Mask } => {
    const out: { [k: string]: Mask } = {};
    for (;;) {
      const path: string[] = [];
      let name = "";
      for (; i < text.length && !",()".includes(text[i]!); i++) {
        if (text[i] === "/") {
          path.push(name);
          name = "";
        } else name += text[i];
      }
      path.push(name.trim());
      if (path.some((p) => p === "")) throw invalidArgument(MESSAGES.invalidFieldMask(text));
      let sub: Mask = true;
      if (text[i] === "(") {
        i++;
        const inner = schemaOf(schemaName, path);
        sub = list(inner);
        if (text[i] !== ")") throw invalidArgument(MESSAGES.invalidFieldMask(text));
        i++;
      } else {
        schemaOf(schemaName, path);
      }
      merge(out, path, sub);
      if (text[i] === ",") {
        i++;
        continue;
      }
      return out;
    }
  };
  const schemaOf = (start: string | undefined, path: readonly string[]): string | undefined => {
    let current = start;
    for (const name of path) {
      if (name === "*") return undefined;
      if (current === undefined) continue;
      const props = SCHEMA_PROPERTIES[current];
      if (!props) return undefined;
      const next = props[name];
      if (next === undefined) throw invalidArgument(MESSAGES.invalidFieldMask(path.join("/")));
      current = next === "" ? undefined : next;
    }
    return current;
  };
  const mask = list(schema);
  if (i !== text.length) throw invalidArgument(MESSAGES.invalidFieldMask(text));
  return mask;
}

function merge(into: { [k: string]: Mask }, path: readonly string[], leaf: Mask): void {
  const [head, ...rest] = path;
  if (head === undefined) return;
  const existing = into[head];
  if (existing === true) return;
  if (rest.length === 0) {
    into[head] = leaf === true ? true : { ...(existing ?? {}), ...leaf };
    return;
  }
  const child: { [k: string]: Mask } = existing ?? {};
  into[head] = child;
  merge(child, rest, leaf);
}

function applyMask(value: unknown, mask: Mask): unknown {
  if (mask === true || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((item) => applyMask(item, mask));
  if ("*" in mask) return value;
  const out: Record<string, unknown> = {};
  for (const [key, sub] of Object.entries(mask)) {
    const v = (value as Record<string, unknown>)[key];
    if (v !== undefined) out[key] = applyMask(v, sub);
  }
  return out;
}

/** Whether the mask selects `child` under `parent` (e.g. `sheets` -> `data`). */
function maskSelects(text: string, parent: string, child: string): boolean {
  const mask = parseMask(text, "Spreadsheet");
  if (mask === true) return true;
  const p = mask[parent] ?? mask["*"];
  return p === true || (p !== undefined && (p[child] !== undefined || p["*"] !== undefined));
}
