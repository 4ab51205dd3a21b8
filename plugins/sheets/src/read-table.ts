/**
 * Reads one table (a sheet or a range with a header row) in three steps:
 *
 * 1. spreadsheets.get over the header and the first `sample_rows` rows, with a field mask for
 *    the displayed header texts and the cells' number formats only;
 * 2. spreadsheets.values.batchGet, `batch_rows` rows at a time down to the end of the grid,
 *    each batch appended to a spool file while every column's kinds of value are counted;
 * 3. once all rows are in, column names and types are decided, and the spool is read back
 *    as records.
 *
 * Fully empty rows are skipped; a row shorter than the header (the API drops trailing blank
 * cells) gets null for the rest. Columns with data but no header are kept (`column_<n>`).
 */
import type { Logger } from "@xo-foundry/core";
import { columnLetters, formatRange, quoteSheetTitle } from "./a1.js";
import { columnNames } from "./column-names.js";
import { ColumnProfile, convertCell, detectType, displayKind, formatKind, type ColumnType, type FormatKind } from "./column-types.js";
import { SheetsError } from "./errors.js";
import type { DateTimeZone } from "./serial.js";
import type { SheetsClient } from "./sheets-client.js";
import { RowSpool, type SpooledRow } from "./spool.js";
import type { Table } from "./tables.js";

export interface ReadTableOptions {
  readonly client: SheetsClient;
  readonly table: Table;
  readonly batchRows: number;
  readonly sampleRows: number;
  /** Types from the stream's `columns:`, by column name. */
  readonly overrides: Readonly<Record<string, ColumnType>>;
  /** Whether an override naming no column of this table is an error (one table) or a warning (`sheets: all`). */
  readonly strictOverrides: boolean;
  /** The zone date-times are read in; asked for only when a column holds date-times. */
  readonly zone: () => DateTimeZone;
  readonly log: Logger;
}

export interface Column {
  readonly name: string;
  /** The header as the sheet shows it. */
  readonly header: string;
  readonly type: ColumnType;
}

export interface ReadTable {
  readonly columns: readonly Column[];
  /** Rows with at least one value. */
  readonly rows: number;
  /** The rows as records, `batchRows` at a time; `extra` fields come first in each record. */
  records(extra?: Readonly<Record<string, unknown>>): AsyncGenerator<Record<string, unknown>[]>;
  /** Removes the spool file. */
  dispose(): Promise<void>;
}

const UTC: DateTimeZone = { id: "UTC", offsetMs: 0 };

const SAMPLE_FIELDS = "sheets(data(rowData(values(formattedValue,effectiveFormat/numberFormat))))";

/** Reads the table; undefined when its header row is empty and `optional` (a blank tab under `sheets: all`). */
export async function readTable(options: ReadTableOptions & { readonly optional?: boolean }): Promise<ReadTable | undefined> {
  const { table, log } = options;
  const title = quoteSheetTitle(table.sheet.title);
  const width = table.endColumn - table.startColumn;
  if (table.headerRow >= table.endRow || width <= 0) return headerMissing(options);

  const sample = await readSample(options);
  if (sample.headers.every((h) => h.trim() === "")) return headerMissing(options);

  const spool = await RowSpool.open();
  try {
    const profiles: ColumnProfile[] = [];
    const profile = (i: number) => (profiles[i] ??= new ColumnProfile());
    sample.formats.forEach((kinds, i) => kinds.forEach((k) => profile(i).addFormat(k)));
    const { width: dataWidth, emptyRows } = await spoolRows(options, spool, profile);

    const count = Math.max(lastNonBlank(sample.headers) + 1, dataWidth);
    const headers = Array.from({ length: count }, (_, i) => sample.headers[i] ?? "");
    const columns = columnNames(headers, table.startColumn).map((name, i): TypedColumn => {
      const p = profile(i);
      const given = options.overrides[name];
      const detected = detectType(p);
      if (given === undefined && detected.mixed) {
        log.warn(`column ${name} (${columnLetters(table.startColumn + i)}) of ${title} is loaded as string: ${detected.mixed}; set \`columns: { ${name}: <type> }\` to keep one type`);
      }
      return { name, header: headers[i]!, type: given ?? detected.type, display: displayKind(p) };
    });
    checkOverrides(options, columns, title);
    const needsZone = columns.some((c) => c.type === "datetime" || (c.type === "string" && c.display === "datetime"));
    const zone = needsZone ? options.zone() : UTC;
    log.info(`${title}: ${spool.rows} rows, columns ${columns.map((c) => `${c.name} (${c.type})`).join(", ")}${emptyRows ? `; ${emptyRows} empty rows skipped` : ""}`);

    return {
      columns: columns.map(({ name, header, type }) => ({ name, header, type })),
      rows: spool.rows,
      records: (extra) => records(spool, columns, { ...options, zone }, title, extra ?? {}),
      dispose: () => spool.dispose(),
    };
  } catch (e) {
    await spool.dispose();
    throw e;
  }
}

/** A column with how its numbers are shown when it is text. */
type TypedColumn = Column & { readonly display: FormatKind | undefined };

/** Step 2: every row below the header, `batch_rows` at a time, into the spool; returns the widest row and the empty rows skipped. */
async function spoolRows(options: ReadTableOptions, spool: RowSpool, profile: (column: number) => ColumnProfile): Promise<{ width: number; emptyRows: number }> {
  const { table } = options;
  const title = quoteSheetTitle(table.sheet.title);
  let width = 0;
  let emptyRows = 0;
  for (let start = table.headerRow + 1; start < table.endRow; start += options.batchRows) {
    const end = Math.min(start + options.batchRows, table.endRow);
    const range = formatRange(table.sheet.title, { startRow: start, endRow: end, startColumn: table.startColumn, endColumn: table.endColumn });
    const block = await options.client.values({ range, what: `rows ${start + 1} to ${end} of ${title}` });
    const rows: SpooledRow[] = [];
    (block.values ?? []).forEach((cells, i) => {
      if (!cells.some((c) => c !== "" && c !== null && c !== undefined)) {
        emptyRows++;
        return;
      }
      const row = start + i + 1;
      cells.forEach((value, col) => profile(col).add(value, row));
      width = Math.max(width, cells.length);
      rows.push({ row, cells });
    });
    await spool.append(rows);
  }
  return { width, emptyRows };
}

interface Sample {
  /** The header row as displayed, `""` for blank cells; as long as the API returned it. */
  readonly headers: readonly string[];
  /** Per column, the number formats of the sample's non-blank cells. */
  readonly formats: readonly (readonly (FormatKind | undefined)[])[];
}

async function readSample(options: ReadTableOptions): Promise<Sample> {
  const { table } = options;
  const end = Math.min(table.headerRow + 1 + options.sampleRows, table.endRow);
  const range = formatRange(table.sheet.title, { startRow: table.headerRow, endRow: end, startColumn: table.startColumn, endColumn: table.endColumn });
  const data = await options.client.spreadsheet({
    fields: SAMPLE_FIELDS,
    ranges: [range],
    what: `the header and number formats of ${quoteSheetTitle(table.sheet.title)}`,
  });
  const rowData = data.sheets?.find((s) => s.data?.length)?.data?.[0]?.rowData ?? [];
  const headers = (rowData[0]?.values ?? []).map((cell) => cell.formattedValue ?? "");
  const formats: (FormatKind | undefined)[][] = [];
  for (const row of rowData.slice(1)) {
    (row.values ?? []).forEach((cell, i) => {
      if (cell.formattedValue === undefined || cell.formattedValue === null || cell.formattedValue === "") return;
      (formats[i] ??= []).push(formatKind(cell.effectiveFormat?.numberFormat));
    });
  }
  return { headers, formats };
}

function headerMissing(options: ReadTableOptions & { readonly optional?: boolean }): undefined {
  const { table } = options;
  const title = quoteSheetTitle(table.sheet.title);
  const where = `row ${table.headerRow + 1} of ${title}`;
  if (options.optional) {
    options.log.warn(`${title} is skipped: ${where}, its header row, is empty (set \`header_row\` if its names are lower)`);
    return undefined;
  }
  throw new SheetsError(
    "SHEETS_HEADER_MISSING",
    table.headerRow >= table.endRow ? `${title} has no row ${table.headerRow + 1} to read column names from (the block read ends at row ${table.endRow})` : `${where}, the header row, is empty`,
    "set `header_row` to the row that holds the column names, counted from 1 at the top of the sheet (or of `range`)",
  );
}

function lastNonBlank(headers: readonly string[]): number {
  for (let i = headers.length - 1; i >= 0; i--) if (headers[i]!.trim() !== "") return i;
  return -1;
}

function checkOverrides(options: ReadTableOptions, columns: readonly Column[], title: string): void {
  const names = new Set(columns.map((c) => c.name));
  const unknown = Object.keys(options.overrides).filter((name) => !names.has(name));
  if (unknown.length === 0) return;
  const listed = `\`${unknown.join("`, `")}\``;
  if (!options.strictOverrides) {
    options.log.warn(`${title} has no column ${listed} named in \`columns\``);
    return;
  }
  throw new SheetsError(
    "SHEETS_COLUMN_UNKNOWN",
    `\`columns\` names ${listed}, which ${title} does not have; its columns: ${columns.map((c) => `${c.name} (header ${JSON.stringify(c.header)})`).join(", ")}`,
    "use the column names listed (headers are lower-cased, with `_` for spaces and punctuation)",
  );
}

async function* records(
  spool: RowSpool,
  columns: readonly TypedColumn[],
  options: { readonly zone: DateTimeZone; readonly batchRows: number; readonly log: Logger },
  title: string,
  extra: Readonly<Record<string, unknown>>,
): AsyncGenerator<Record<string, unknown>[]> {
  const problems = columns.map(() => ({ errors: 0, unfit: 0, firstRow: 0 }));
  let batch: Record<string, unknown>[] = [];
  for await (const { row, cells } of spool.read()) {
    const record: Record<string, unknown> = { ...extra };
    columns.forEach((column, i) => {
      const converted = convertCell(cells[i], column.type, options.zone, column.display);
      if ("value" in converted) {
        record[column.name] = converted.value;
        return;
      }
      record[column.name] = null;
      const p = problems[i]!;
      if (converted.problem === "formula-error") p.errors++;
      else p.unfit++;
      p.firstRow ||= row;
    });
    batch.push(record);
    if (batch.length >= options.batchRows) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
  columns.forEach((column, i) => {
    const p = problems[i]!;
    if (p.errors) options.log.warn(`${p.errors} cells of column ${column.name} of ${title} hold formula errors (#N/A, #DIV/0!, ...) and are loaded as null (first in row ${p.firstRow})`);
    if (p.unfit) options.log.warn(`${p.unfit} values of column ${column.name} of ${title} are not ${column.type} and are loaded as null (first in row ${p.firstRow})`);
  });
}
