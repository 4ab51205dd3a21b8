import { definePlugin, type XoPlugin } from "@xo-foundry/core";
import { SHEETS_ERRORS } from "./errors.js";
import { sheetsSource } from "./source.js";
import { VERSION } from "./version.js";

export { sheetsSource, SHEETS_SCOPE } from "./source.js";
export { SHEETS_ERRORS, SheetsError, type SheetsErrorCode } from "./errors.js";
export { sourceOptions, streamOptions, type SourceOptions, type StreamOptions } from "./options.js";
export { COLUMN_TYPES, type ColumnType } from "./column-types.js";
export { columnNames } from "./column-names.js";

/** The Google Sheets plugin: provides the `sheets` source. */
export function sheets(): XoPlugin {
  return definePlugin({ name: "@xo-foundry/plugin-sheets", version: VERSION, sources: [sheetsSource], errors: SHEETS_ERRORS });
}
