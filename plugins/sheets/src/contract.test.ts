/**
 * The `sheets` source against the testkit's source contract. The records the suite serves
 * become a sheet the way a person would type them: numbers and booleans as they are, ISO dates
 * and timestamps as date and date-time cells (a spreadsheet in UTC), other text as text, null
 * as a blank cell; the first record's keys are the header. Emulated: the Sheets API
 * (src/__fixtures__/sheets_server.ts) and the OAuth token endpoint (@xo-foundry/testkit); a
 * scripted server that never answers stands in for a hung Google.
 */
import { afterAll, beforeAll } from "vitest";
import type { JsonObject } from "@xo-foundry/core";
import { describeSource, useScriptedServer, type SourceScenario } from "@xo-foundry/testkit";
import { sheets } from "./index.js";
import { cells } from "./__fixtures__/sheets_server.js";
import type { CellInput } from "./__fixtures__/cells.js";
import { freshTokens, serviceAccountConnection, sourceOptions, SPREADSHEET_ID, startWorld, type World } from "./__fixtures__/harness.js";

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world.stop());
const hung = useScriptedServer();

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const TIMESTAMP = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{3})?)Z$/;

function cell(value: JsonObject[string] | undefined): CellInput {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") {
    if (DATE.test(value)) return cells.date(value);
    const timestamp = TIMESTAMP.exec(value);
    if (timestamp) return cells.dateTime(timestamp[1]!, "yyyy-mm-dd hh:mm:ss.000");
    return value;
  }
  if (typeof value === "number" || typeof value === "boolean") return value;
  throw new Error(`a sheet cannot hold ${JSON.stringify(value)}`);
}

function scenario(options: Record<string, unknown> = {}): SourceScenario {
  return { options: sourceOptions(world, options), stream: { sheet: "Contract" }, connection: serviceAccountConnection(world) };
}

describeSource(
  {
    plugin: sheets(),
    // The source blocks and streams the README shows.
    examples: [
      { options: { spreadsheet_id: SPREADSHEET_ID }, stream: { sheet: "Budget 2026", header_row: 1, columns: { amount: "number", booked_on: "date" } } },
      { options: { spreadsheet_id: SPREADSHEET_ID }, stream: { sheets: "all" } },
      { options: { spreadsheet_id: SPREADSHEET_ID, time_zone: "Europe/Berlin", batch_rows: 10_000 }, stream: { range: "'Budget 2026'!A3:F" } },
      { options: { spreadsheet_id: SPREADSHEET_ID, subject: "finance@example.com" }, stream: { gid: 123 } },
    ],
    serve(records) {
      world.sheets.reset();
      freshTokens();
      const header = [...new Set(records.flatMap((r) => Object.keys(r)))];
      world.sheets.put({
        spreadsheetId: SPREADSHEET_ID,
        timeZone: "Etc/GMT",
        sheets: [{ title: "Contract", rowCount: records.length + 1, columnCount: header.length, rows: [header, ...records.map((r) => header.map((k) => cell(r[k])))] }],
      });
      return scenario();
    },
    stall() {
      hung.reset();
      hung.route({ path: /.*/, respond: { stall: true } });
      return { ...scenario(), options: sourceOptions(world, { root_url: hung.url }) };
    },
    refuse() {
      world.sheets.reset();
      // The spreadsheet is not there (or not shared): Google answers 404.
      return scenario();
    },
  },
  {
    knownViolations: {
      "keeps hostile strings unchanged":
        "a sheet is a table: every record has every header's column (blank cells are null, not missing keys) and headers become snake_case names (README, Column names), so records whose keys differ cannot come back as served; hostile values and unicode headers are checked in source.test.ts",
    },
  },
);
