/**
 * The `sheets` source end to end: typed cells in, exact records out, through googleapis' own
 * client. Emulated: the Sheets API (src/__fixtures__/sheets_server.ts, after the sheets:v4
 * discovery document) and the OAuth token endpoint (@xo-foundry/testkit); the token is a real
 * RS256-signed JWT bearer grant for a service account.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { HOSTILE_TEXT } from "@xo-foundry/testkit";
import { cells } from "./__fixtures__/sheets_server.js";
import { extract, serviceAccountConnection, sourceOptions, SPREADSHEET_ID, useWorld } from "./__fixtures__/harness.js";

const { currency, date, dateTime, formulaError, number, percent, text, time } = cells;

const world = useWorld();

const read = (stream: Record<string, unknown>, options: Record<string, unknown> = {}) =>
  extract({ options: sourceOptions(world, options), stream, connection: serviceAccountConnection(world) });

describe("one sheet with every type", () => {
  beforeEach(() => {
    world.sheets.put({
      spreadsheetId: SPREADSHEET_ID,
      title: "Finance",
      timeZone: "America/New_York",
      sheets: [
        {
          title: "Budget 2026",
          rowCount: 8,
          columnCount: 16,
          rows: [
            ["Item", "Amount (USD)", "Qty", "Ratio", "Share", "Active", "Booked on", "Created at", "", "Amount (USD)", "Größe", "Start", "Mixed", "Notes", "Err", "金額 (円)"],
            ["Wheel", currency(20.5), 4, number(1.25), percent(0.25), true, date("2016-03-01"), dateTime("2026-01-15T09:30:00"), "x", 10, "groß", time("09:30:00"), 1, "Group A", 3, 1200],
            ["Door", currency(15), 2, number(2.5), percent(0.5), false, date("2016-03-15"), dateTime("2026-07-01T23:15:30"), "", 20, "klein", time("17:45:15"), "n/a", "", formulaError("DIVIDE_BY_ZERO"), 800],
            [],
            ["Engine", currency(100)],
            ["Totals", currency(135.5), 7, number(3.75), percent(1), true, date("2016-03-20"), dateTime("2026-03-08T02:30:00"), "y", 30, text("00123"), time("00:00:01"), 2.5, "", 4, 2000],
          ],
        },
      ],
    });
  });

  it("names columns by the header rule and types them from values and number formats", async () => {
    const { records, log } = await read({ sheet: "Budget 2026" });
    expect(records).toEqual([
      {
        item: "Wheel",
        amount_usd: 20.5,
        qty: 4,
        ratio: 1.25,
        share: 0.25,
        active: true,
        booked_on: "2016-03-01",
        // 09:30 in New York, the spreadsheet's zone, in January (EST, UTC-5).
        created_at: "2026-01-15T14:30:00.000Z",
        column_9: "x",
        amount_usd_2: 10,
        größe: "groß",
        start: "09:30:00",
        mixed: "1",
        notes: "Group A",
        err: 3,
        金額_円: 1200,
      },
      {
        item: "Door",
        amount_usd: 15,
        qty: 2,
        ratio: 2.5,
        share: 0.5,
        active: false,
        booked_on: "2016-03-15",
        // July: EDT, UTC-4, so the instant is the next UTC day.
        created_at: "2026-07-02T03:15:30.000Z",
        column_9: null,
        amount_usd_2: 20,
        größe: "klein",
        start: "17:45:15",
        mixed: "n/a",
        notes: null,
        err: null,
        金額_円: 800,
      },
      // A ragged row: the API leaves out its trailing blank cells; they are null.
      {
        item: "Engine",
        amount_usd: 100,
        qty: null,
        ratio: null,
        share: null,
        active: null,
        booked_on: null,
        created_at: null,
        column_9: null,
        amount_usd_2: null,
        größe: null,
        start: null,
        mixed: null,
        notes: null,
        err: null,
        金額_円: null,
      },
      {
        item: "Totals",
        amount_usd: 135.5,
        qty: 7,
        ratio: 3.75,
        share: 1,
        active: true,
        booked_on: "2016-03-20",
        // 02:30 on the day New York skips 02:00-03:00 is read as 03:30 EDT, as Temporal's "compatible" does.
        created_at: "2026-03-08T07:30:00.000Z",
        column_9: "y",
        amount_usd_2: 30,
        größe: "00123",
        start: "00:00:01",
        mixed: "2.5",
        notes: null,
        err: 4,
        金額_円: 2000,
      },
    ]);
    expect(log.infos.join("\n")).toContain(
      "'Budget 2026': 4 rows, columns item (string), amount_usd (currency), qty (integer), ratio (number), share (percent), active (boolean), booked_on (date), created_at (datetime), column_9 (string), amount_usd_2 (integer), größe (string), start (time), mixed (string), notes (string), err (integer), 金額_円 (integer); 1 empty rows skipped",
    );
    expect(log.warnings).toEqual([
      'column mixed (M) of \'Budget 2026\' is loaded as string: it holds numbers and text (text such as "n/a" in row 3); set `columns: { mixed: <type> }` to keep one type',
      "1 cells of column err of 'Budget 2026' hold formula errors (#N/A, #DIV/0!, ...) and are loaded as null (first in row 3)",
    ]);
  });

  it("reads date-times in `time_zone` when it is set, instead of the spreadsheet's zone", async () => {
    const { records } = await read({ sheet: "Budget 2026" }, { time_zone: "UTC" });
    expect(records.map((r) => r.created_at)).toEqual(["2026-01-15T09:30:00.000Z", "2026-07-01T23:15:30.000Z", null, "2026-03-08T02:30:00.000Z"]);
  });

  it("applies per-column type overrides, counting values that do not fit as null", async () => {
    const { records, log } = await read({ sheet: "Budget 2026", columns: { mixed: "number", qty: "string", booked_on: "datetime" } }, { time_zone: "UTC" });
    expect(records.map((r) => r.mixed)).toEqual([1, null, null, 2.5]);
    expect(records.map((r) => r.qty)).toEqual(["4", "2", null, "7"]);
    expect(records.map((r) => r.booked_on)).toEqual(["2016-03-01T00:00:00.000Z", "2016-03-15T00:00:00.000Z", null, "2016-03-20T00:00:00.000Z"]);
    expect(log.warnings).toContain("1 values of column mixed of 'Budget 2026' are not number and are loaded as null (first in row 3)");
  });

  it("sends requests to the connection's host when root_url is unset, as an Airflow connection can say", async () => {
    const byOption = await read({ sheet: "Budget 2026" });
    const { root_url: _unset, ...options } = sourceOptions(world);
    const byHost = await extract({ options, stream: { sheet: "Budget 2026" }, connection: { ...serviceAccountConnection(world), host: world.sheets.url } });
    expect(byHost.records).toEqual(byOption.records);
  });

  it("reads the same records by gid and by range", async () => {
    const byTitle = await read({ sheet: "Budget 2026" });
    expect((await read({ gid: 0 })).records).toEqual(byTitle.records);
    expect((await read({ range: "'Budget 2026'!A1:P" })).records).toEqual(byTitle.records);
    expect((await read({ range: "A:P" })).records).toEqual(byTitle.records);
  });

  it("reads only the columns and rows of a range, and asks for exactly those cells", async () => {
    const { records } = await read({ range: "'Budget 2026'!B1:C3" });
    expect(records).toEqual([
      { amount_usd: 20.5, qty: 4 },
      { amount_usd: 15, qty: 2 },
    ]);
    expect(world.sheets.requests.filter((r) => r.method === "values.batchGet").map((r) => r.ranges)).toEqual([["'Budget 2026'!B2:C3"]]);
  });
});

describe("header rows, blank and duplicate headers, gaps", () => {
  it("takes the header from `header_row`, skipping the rows above it, and counts it from the top of a range", async () => {
    world.sheets.put({
      spreadsheetId: SPREADSHEET_ID,
      sheets: [
        {
          title: "Report",
          rowCount: 7,
          columnCount: 4,
          rows: [["Quarterly report"], ["generated 2026-01-01"], [], ["Region", "Sales", "Sales", ""], ["North", 10, 11, "extra"], ["South", 20]],
        },
      ],
    });
    const expected = [
      { region: "North", sales: 10, sales_2: 11, column_4: "extra" },
      { region: "South", sales: 20, sales_2: null, column_4: null },
    ];
    expect((await read({ sheet: "Report", header_row: 4 })).records).toEqual(expected);
    expect((await read({ range: "Report!A3:D", header_row: 2 })).records).toEqual(expected);
  });

  it("keeps merged-looking gaps (a value with empty cells under it) as null rather than filling them down", async () => {
    world.sheets.put({ spreadsheetId: SPREADSHEET_ID, sheets: [{ title: "S", rowCount: 4, columnCount: 2, rows: [["Group", "Item"], ["A", "x"], ["", "y"], ["", "z"]] }] });
    expect((await read({ sheet: "S" })).records.map((r) => r.group)).toEqual(["A", null, null]);
  });

  it("keeps a column that has data but no header, naming it after its place in the sheet", async () => {
    world.sheets.put({ spreadsheetId: SPREADSHEET_ID, sheets: [{ title: "S", rowCount: 3, columnCount: 5, rows: [["a", "b"], [1, 2, "", 4]] }] });
    expect((await read({ sheet: "S" })).records).toEqual([{ a: 1, b: 2, column_3: null, column_4: 4 }]);
  });

  it("passes hostile text through unchanged, values and unicode headers alike", async () => {
    const values = HOSTILE_TEXT.filter((s) => s !== "");
    world.sheets.put({ spreadsheetId: SPREADSHEET_ID, sheets: [{ title: "S", rowCount: values.length + 1, columnCount: 2, rows: [["Wert", "Ünïcödé 中"], ...values.map((s, i) => [s, i])] }] });
    const { records } = await read({ sheet: "S" });
    expect(records.map((r) => r.wert)).toEqual(values);
    expect(Object.keys(records[0]!)).toEqual(["wert", "ünïcödé_中"]);
  });
});

describe("sheets: all", () => {
  it("lands one NDJSON file per grid sheet, in tab order, each record carrying `_sheet`; skips chart sheets and blank tabs", async () => {
    world.sheets.put({
      spreadsheetId: SPREADSHEET_ID,
      sheets: [
        { title: "Budget 2026", rowCount: 3, columnCount: 2, rows: [["Item", "Amount"], ["a", 1], ["b", 2]] },
        { title: "Chart", sheetType: "OBJECT" },
        { title: "Notes", sheetId: 42, hidden: true, rowCount: 2, columnCount: 1, rows: [["Note"], ["remember"]] },
        { title: "Empty", rowCount: 5, columnCount: 3 },
        { title: "Header only", rowCount: 5, columnCount: 3, rows: [["x", "y"]] },
      ],
    });
    const { files, records, log } = await read({ sheets: "all", columns: { amount: "number" } });
    expect(records).toEqual([]);
    expect(files).toEqual([
      {
        name: "budget_2026-0.ndjson",
        rows: 2,
        metadata: { sheet: "Budget 2026", gid: 0 },
        records: [
          { _sheet: "Budget 2026", item: "a", amount: 1 },
          { _sheet: "Budget 2026", item: "b", amount: 2 },
        ],
      },
      { name: "notes-42.ndjson", rows: 1, metadata: { sheet: "Notes", gid: 42 }, records: [{ _sheet: "Notes", note: "remember" }] },
    ]);
    expect(log.warnings).toContain("'Empty' is skipped: row 1 of 'Empty', its header row, is empty (set `header_row` if its names are lower)");
    expect(log.warnings).toContain("'Notes' has no column `amount` named in `columns`");
  });
});

describe("batching", () => {
  const rows = Array.from({ length: 12 }, (_, i) => [`item ${i + 1}`, i + 1, date(`2026-01-${String(i + 1).padStart(2, "0")}`)]);
  beforeEach(() => {
    world.sheets.put({ spreadsheetId: SPREADSHEET_ID, sheets: [{ title: "Big", rowCount: 13, columnCount: 3, rows: [["Name", "N", "Day"], ...rows] }] });
  });

  it("reads a sheet larger than one batch in several batchGet calls down to the grid's last row, with the same result", async () => {
    const small = await read({ sheet: "Big" }, { batch_rows: 5 });
    const batchGets = world.sheets.requests.filter((r) => r.method === "values.batchGet");
    expect(batchGets.map((r) => r.ranges)).toEqual([["'Big'!A2:C6"], ["'Big'!A7:C11"], ["'Big'!A12:C13"]]);
    expect(batchGets.every((r) => r.query.get("valueRenderOption") === "UNFORMATTED_VALUE" && r.query.get("dateTimeRenderOption") === "SERIAL_NUMBER")).toBe(true);
    expect(small.batchSizes).toEqual([5, 5, 2]);
    world.sheets.requests.length = 0;
    const whole = await read({ sheet: "Big" });
    expect(world.sheets.requests.filter((r) => r.method === "values.batchGet")).toHaveLength(1);
    expect(small.records).toEqual(whole.records);
    expect(whole.records[11]).toEqual({ name: "item 12", n: 12, day: "2026-01-12" });
  });

  it("reads the formats of the header and `sample_rows` rows only, in one spreadsheets.get with a field mask", async () => {
    await read({ sheet: "Big" }, { sample_rows: 3 });
    const gets = world.sheets.requests.filter((r) => r.method === "spreadsheets.get");
    expect(gets.map((r) => [r.ranges, r.query.get("fields")])).toEqual([
      [[], "properties(title,timeZone),sheets(properties(sheetId,title,index,hidden,sheetType,gridProperties(rowCount,columnCount)))"],
      [["'Big'!A1:C4"], "sheets(data(rowData(values(formattedValue,effectiveFormat/numberFormat))))"],
    ]);
  });
});
