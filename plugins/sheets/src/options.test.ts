import { describe, expect, it } from "vitest";
import { PLUGIN_API_VERSION, PLUGIN_KIND } from "@xo-foundry/core";
import { sheets } from "./index.js";
import { parseStream, sourceOptions, streamOptions } from "./options.js";

const issues = (result: { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } }) =>
  (result.error?.issues ?? []).map((i) => `${i.path.join(".")}: ${i.message}`);

describe("source options", () => {
  it("defaults to 5,000-row batches (and to Google's endpoint, decided with the connection)", () => {
    expect(sourceOptions.parse({ spreadsheet_id: "1AbCdEfGhIjK" })).toEqual({
      spreadsheet_id: "1AbCdEfGhIjK",
      batch_rows: 5000,
      sample_rows: 1000,
      timeout_ms: 120_000,
      max_retries: 6,
      backoff_ms: 2000,
    });
  });

  it("refuses a URL pasted as the id, a root_url that is not http(s), and unknown zones", () => {
    expect(issues(sourceOptions.safeParse({ spreadsheet_id: "https://docs.google.com/spreadsheets/d/1AbC/edit" }))).toEqual([
      "spreadsheet_id: a spreadsheet id is the part of its URL between /d/ and /edit, e.g. 1AbC...xyz",
    ]);
    expect(issues(sourceOptions.safeParse({ spreadsheet_id: "1AbCdEfGhIjK", root_url: "ftp://proxy/" }))).toHaveLength(1);
    expect(issues(sourceOptions.safeParse({ spreadsheet_id: "1AbCdEfGhIjK", root_url: "not a url" }))).toHaveLength(1);
    expect(issues(sourceOptions.safeParse({ spreadsheet_id: "1AbCdEfGhIjK", time_zone: "Mars/Base" }))[0]).toMatch(/^time_zone: not a time zone/);
    expect(sourceOptions.safeParse({ spreadsheet_id: "1AbCdEfGhIjK", root_url: "http://127.0.0.1:8080/proxy/", time_zone: "GMT-07:00" }).success).toBe(true);
  });
});

describe("stream options", () => {
  it("needs exactly one of sheet, gid, range and sheets", () => {
    expect(issues(streamOptions.safeParse({}))).toEqual([": say what to read: `sheet: <title>`, `gid: <id>`, `range: <A1 range>` or `sheets: all`"]);
    expect(issues(streamOptions.safeParse({ sheet: "A", gid: 3 }))).toEqual(["gid: `sheet`, `gid` each say what to read; keep one"]);
  });

  it("checks ranges and column types when the config is validated", () => {
    expect(issues(streamOptions.safeParse({ range: "Budget!A:B5" }))).toEqual(["range: not an A1 range: `A:B5` starts without a row but ends at one: write `A1:B5`"]);
    expect(issues(streamOptions.safeParse({ sheet: "A", columns: { amount: "money" } }))[0]).toMatch(/^columns\.amount: /);
    expect(issues(streamOptions.safeParse({ sheet: "A", header_row: 0 }))[0]).toMatch(/^header_row: /);
  });

  it("reads the selector a stream names", () => {
    expect(parseStream({ sheet: "Budget 2026" })).toEqual({ selector: { kind: "sheet", title: "Budget 2026" }, headerRow: 1, columns: {} });
    expect(parseStream({ gid: 0, header_row: 3 }).selector).toEqual({ kind: "gid", gid: 0 });
    expect(parseStream({ sheets: "all", columns: { amount: "number" } })).toEqual({ selector: { kind: "all" }, headerRow: 1, columns: { amount: "number" } });
    expect(parseStream({ range: "'Budget 2026'!A3:F" }).selector).toMatchObject({ kind: "range", range: { sheet: "Budget 2026" } });
    expect(() => parseStream({ sheet: "A", range: "A1:B2" })).toThrow(/invalid sheets stream options: range: `sheet`, `range` each say what to read/);
  });
});

describe("the plugin", () => {
  it("is a branded object with the sheets source and its error catalog", () => {
    const plugin = sheets();
    expect(plugin).toMatchObject({ kind: PLUGIN_KIND, apiVersion: PLUGIN_API_VERSION, name: "@xo-foundry/plugin-sheets" });
    expect(plugin.sources?.map((s) => [s.id, s.connection])).toEqual([["sheets", "required"]]);
    expect(Object.keys(plugin.errors ?? {})).toContain("SHEETS_NOT_FOUND");
  });
});
