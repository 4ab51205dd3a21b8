/**
 * A1 notation, as the Sheets API guide "A1 notation" describes it: `Sheet!A1:F10`, whole
 * columns (`Sheet!A:F`), whole rows (`Sheet!2:9`), open ends (`Sheet!A5:F`), a single cell,
 * and titles in single quotes with `''` for a quote (`'It''s 2026'!A:F`). A range without a
 * title means the first visible sheet. Named ranges and R1C1 are not read here: a stream names
 * a sheet (`sheet:`/`gid:`) or cells.
 *
 * Bounds are zero-based and half-open, like the API's GridRange: `A1:F10` is rows [0, 10) and
 * columns [0, 6). An unbounded side is `undefined`.
 */

/** Columns a sheet can have at most (18,278 = `ZZZ`); letters beyond are not a column. */
const MAX_COLUMNS = 18_278;
/** Cells a spreadsheet can hold at most is 10 million, so no row number is larger. */
const MAX_ROWS = 10_000_000;

export interface GridBounds {
  readonly startRow: number;
  readonly endRow: number | undefined;
  readonly startColumn: number;
  readonly endColumn: number | undefined;
}

export interface A1Range {
  /** The sheet title, or undefined for "the first visible sheet". */
  readonly sheet: string | undefined;
  readonly bounds: GridBounds;
}

/** `0` -> `A`, `25` -> `Z`, `26` -> `AA`. */
export function columnLetters(index: number): string {
  let letters = "";
  for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26)) letters = String.fromCharCode(65 + ((n - 1) % 26)) + letters;
  return letters;
}

/** `A` -> `0`, `AA` -> `26`; letters in either case. */
export function columnIndex(letters: string): number {
  let n = 0;
  for (const ch of letters.toUpperCase()) n = n * 26 + (ch.charCodeAt(0) - 64);
  return n - 1;
}

/** A title as A1 notation writes it: always quoted, so spaces, `!` and look-alikes of cell references stay a title. */
export function quoteSheetTitle(title: string): string {
  return `'${title.replace(/'/g, "''")}'`;
}

/** `'Budget 2026'!A2:F5001`; every side must be bounded. */
export function formatRange(sheet: string, bounds: { startRow: number; endRow: number; startColumn: number; endColumn: number }): string {
  const from = `${columnLetters(bounds.startColumn)}${bounds.startRow + 1}`;
  const to = `${columnLetters(bounds.endColumn - 1)}${bounds.endRow}`;
  return `${quoteSheetTitle(sheet)}!${from}:${to}`;
}

/** One side of a range: `B7`, `B` or `7`. */
const CELL = /^(?:([A-Za-z]{1,3})(\d*)|(\d+))$/;

interface Cell {
  readonly column: number | undefined;
  readonly row: number | undefined;
}

/** Reads `range`; throws a RangeError that says what is wrong with it. */
export function parseA1(range: string): A1Range {
  const { sheet, cells } = splitSheet(range.trim());
  if (cells === "") throw new RangeError("it names no cells: write the cells after the title, e.g. `Sheet1!A1:F`, or use `sheet:` for a whole sheet");
  const parts = cells.split(":");
  if (parts.length > 2) throw new RangeError(`\`${cells}\` has more than one \`:\``);
  const first = readCell(parts[0]!);
  const second = parts.length === 2 ? readCell(parts[1]!) : first;
  if (parts.length === 1 && (first.column === undefined || first.row === undefined)) {
    throw new RangeError(`\`${cells}\` is not a cell: a single reference needs a column and a row, e.g. \`B7\``);
  }
  // A1 allows `A1:B`, `A:B` and `1:2`; a start without a row or column needs the same on the end.
  if ((first.column === undefined) !== (second.column === undefined)) {
    throw new RangeError(`\`${cells}\` mixes a row range with columns: write \`A1:F9\`, \`A:F\` or \`1:9\``);
  }
  if (first.row === undefined && second.row !== undefined) {
    throw new RangeError(`\`${cells}\` starts without a row but ends at one: write \`${parts[0]}1:${parts[1]}\``);
  }
  const bounds: GridBounds = {
    startRow: first.row ?? 0,
    endRow: second.row === undefined ? undefined : second.row + 1,
    startColumn: first.column ?? 0,
    endColumn: second.column === undefined ? undefined : second.column + 1,
  };
  if (bounds.endRow !== undefined && bounds.endRow <= bounds.startRow) throw new RangeError(`\`${cells}\` ends above its first row`);
  if (bounds.endColumn !== undefined && bounds.endColumn <= bounds.startColumn) throw new RangeError(`\`${cells}\` ends left of its first column`);
  return { sheet, bounds };
}

function splitSheet(range: string): { sheet: string | undefined; cells: string } {
  if (range.startsWith("'")) {
    // A quoted title ends at the first quote that is not doubled.
    let i = 1;
    let title = "";
    for (; i < range.length; i++) {
      if (range[i] !== "'") title += range[i];
      else if (range[i + 1] === "'") title += range[i++];
      else break;
    }
    if (i >= range.length) throw new RangeError("the quoted sheet title has no closing `'`");
    if (range[i + 1] !== "!") throw new RangeError("a quoted sheet title must be followed by `!` and the cells, e.g. `'Budget 2026'!A:F`");
    if (title === "") throw new RangeError("the sheet title is empty");
    return { sheet: title, cells: range.slice(i + 2) };
  }
  const bang = range.lastIndexOf("!");
  if (bang < 0) return { sheet: undefined, cells: range };
  if (bang === 0) throw new RangeError("the sheet title before `!` is empty");
  return { sheet: range.slice(0, bang), cells: range.slice(bang + 1) };
}

function readCell(text: string): Cell {
  const match = CELL.exec(text);
  if (!match) throw new RangeError(`\`${text}\` is not a cell reference such as \`B7\`, \`B\` or \`7\``);
  const [, letters, digits, rowOnly] = match;
  const rowText = rowOnly ?? digits;
  const column = letters ? columnIndex(letters) : undefined;
  const row = rowText ? Number(rowText) - 1 : undefined;
  if (column !== undefined && column >= MAX_COLUMNS) throw new RangeError(`column \`${letters}\` is beyond the last column a sheet can have`);
  if (row !== undefined && (row < 0 || row >= MAX_ROWS)) throw new RangeError(`row ${rowText} does not exist: rows count from 1`);
  return { column, row };
}
