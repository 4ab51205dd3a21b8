/**
 * What a stream reads, in the spreadsheet's terms: the sheets it has (one spreadsheets.get
 * with a field mask for their properties and the spreadsheet's time zone), and for the stream's
 * `sheet`, `gid`, `range` or `sheets: all` the block of cells to read, clipped to each sheet's
 * grid (gridProperties), whose first row is the header.
 */
import type { sheets_v4 } from "@googleapis/sheets";
import { quoteSheetTitle } from "./a1.js";
import { SheetsError } from "./errors.js";
import type { Selector } from "./options.js";
import type { SheetsClient } from "./sheets-client.js";

export interface SheetInfo {
  readonly id: number;
  readonly title: string;
  readonly index: number;
  readonly hidden: boolean;
  /** `GRID`, `OBJECT` or `DATA_SOURCE`. */
  readonly type: string;
  readonly rowCount: number;
  readonly columnCount: number;
}

export interface SpreadsheetInfo {
  readonly title: string;
  readonly timeZone: string | undefined;
  readonly sheets: readonly SheetInfo[];
}

/** A block of one sheet: zero-based, half-open, within its grid; `headerRow` is its first row read. */
export interface Table {
  readonly sheet: SheetInfo;
  readonly headerRow: number;
  readonly endRow: number;
  readonly startColumn: number;
  readonly endColumn: number;
}

const SHEET_FIELDS =
  "properties(title,timeZone),sheets(properties(sheetId,title,index,hidden,sheetType,gridProperties(rowCount,columnCount)))";

export async function readSpreadsheet(client: SheetsClient): Promise<SpreadsheetInfo> {
  const data = await client.spreadsheet({ fields: SHEET_FIELDS, what: "the list of sheets" });
  return {
    title: data.properties?.title ?? "",
    timeZone: data.properties?.timeZone ?? undefined,
    sheets: (data.sheets ?? []).map(sheetInfo).sort((a, b) => a.index - b.index),
  };
}

function sheetInfo(sheet: sheets_v4.Schema$Sheet): SheetInfo {
  const p = sheet.properties ?? {};
  return {
    id: p.sheetId ?? 0,
    title: p.title ?? "",
    index: p.index ?? 0,
    hidden: p.hidden ?? false,
    type: p.sheetType ?? "GRID",
    rowCount: p.gridProperties?.rowCount ?? 0,
    columnCount: p.gridProperties?.columnCount ?? 0,
  };
}

/**
 * The tables a stream reads. `headerRow` is 1-based from the top of the sheet or range. For
 * `sheets: all`, every grid sheet in tab order (hidden ones too: hiding a tab does not make
 * its data any less data).
 */
export function tablesFor(selector: Selector, headerRow: number, spreadsheet: SpreadsheetInfo): Table[] {
  switch (selector.kind) {
    case "all":
      return spreadsheet.sheets.filter((s) => s.type === "GRID").map((sheet) => wholeSheet(sheet, headerRow));
    case "sheet":
      return [wholeSheet(gridSheet(findByTitle(selector.title, spreadsheet)), headerRow)];
    case "gid": {
      const sheet = spreadsheet.sheets.find((s) => s.id === selector.gid);
      if (!sheet) throw notFound(`no sheet with gid ${selector.gid}`, spreadsheet);
      return [wholeSheet(gridSheet(sheet), headerRow)];
    }
    case "range": {
      const { sheet: title, bounds } = selector.range;
      // A range without a title reads the first visible sheet, as the API does.
      const sheet = gridSheet(title === undefined ? firstVisible(spreadsheet) : findByTitle(title, spreadsheet));
      const table: Table = {
        sheet,
        headerRow: bounds.startRow + headerRow - 1,
        endRow: Math.min(bounds.endRow ?? sheet.rowCount, sheet.rowCount),
        startColumn: bounds.startColumn,
        endColumn: Math.min(bounds.endColumn ?? sheet.columnCount, sheet.columnCount),
      };
      if (table.startColumn >= sheet.columnCount || bounds.startRow >= sheet.rowCount) {
        throw new SheetsError(
          "SHEETS_RANGE_INVALID",
          `range ${selector.text} lies outside sheet ${quoteSheetTitle(sheet.title)}, which has ${sheet.rowCount} rows and ${sheet.columnCount} columns`,
          "check `range`: its first cell must be inside the sheet",
        );
      }
      return [table];
    }
  }
}

function wholeSheet(sheet: SheetInfo, headerRow: number): Table {
  return { sheet, headerRow: headerRow - 1, endRow: sheet.rowCount, startColumn: 0, endColumn: sheet.columnCount };
}

function findByTitle(title: string, spreadsheet: SpreadsheetInfo): SheetInfo {
  const exact = spreadsheet.sheets.find((s) => s.title === title);
  if (exact) return exact;
  const folded = spreadsheet.sheets.find((s) => s.title.trim().toLowerCase() === title.trim().toLowerCase());
  throw notFound(`no sheet titled ${JSON.stringify(title)}${folded ? ` (did you mean ${JSON.stringify(folded.title)}?)` : ""}`, spreadsheet);
}

function firstVisible(spreadsheet: SpreadsheetInfo): SheetInfo {
  const sheet = spreadsheet.sheets.find((s) => !s.hidden) ?? spreadsheet.sheets[0];
  if (!sheet) throw notFound("no sheets at all", spreadsheet);
  return sheet;
}

function gridSheet(sheet: SheetInfo): SheetInfo {
  if (sheet.type !== "GRID") {
    throw new SheetsError(
      "SHEETS_NOT_A_GRID",
      `sheet ${JSON.stringify(sheet.title)} (gid ${sheet.id}) is a ${sheet.type} sheet, not a grid of cells`,
      "point the stream at a grid sheet; a chart sheet has no rows, and a connected data source sheet is read through its source",
    );
  }
  return sheet;
}

function notFound(what: string, spreadsheet: SpreadsheetInfo): SheetsError {
  const list = spreadsheet.sheets.map((s) => `${JSON.stringify(s.title)} (gid ${s.id})`).join(", ") || "none";
  return new SheetsError(
    "SHEETS_SHEET_NOT_FOUND",
    `spreadsheet ${JSON.stringify(spreadsheet.title)} has ${what}; its sheets: ${list}`,
    "set `sheet` to one of these titles exactly, or `gid` to one of these ids",
  );
}
