/**
 * The `sheets` source: a stream is a sheet (by title or gid), a range in A1 notation, or every
 * sheet of a spreadsheet. Each run reads the whole of it (there is no cursor in a spreadsheet
 * to resume from), so a stream is a full pull: one sheet or range lands as records, `sheets:
 * all` as one NDJSON file per sheet whose records carry the sheet's title in `_sheet`.
 */
import { connectionBaseUrl, describeConnection, oauth2GrantFromConnection, oauth2TokenSource, redact, type ExtractBatch, type ExtractContext, type SourceDefinition } from "@xo-foundry/core";
import { SheetsError } from "./errors.js";
import { DEFAULT_ROOT_URL, parseStream, sourceOptions, streamOptions, type SourceOptions, type StreamOptions } from "./options.js";
import { readTable, type ReadTable } from "./read-table.js";
import { dateTimeZone, type DateTimeZone } from "./serial.js";
import { createSheetsClient } from "./sheets-client.js";
import { readSpreadsheet, tablesFor, type Table } from "./tables.js";

/** Read-only access is all the source needs; Google accepts it for every call made here. */
export const SHEETS_SCOPE = "https://www.googleapis.com/auth/spreadsheets.readonly";

export const sheetsSource: SourceDefinition<SourceOptions, StreamOptions> = {
  id: "sheets",
  description:
    "Reads Google Sheets through the Sheets API v4: a sheet (by title or gid), an A1 range, or every sheet of a spreadsheet, with a header row and column types from the cells' values and number formats. Each run reads the whole sheet (full pull).",
  options: sourceOptions,
  stream: streamOptions,
  connection: "required",
  extract,
};

async function* extract(ctx: ExtractContext<SourceOptions, StreamOptions>): AsyncGenerator<ExtractBatch, void, undefined> {
  const open = new Set<ReadTable>();
  try {
    // Parsing again is idempotent for validated configs and applies defaults when a caller passes raw options.
    const options = sourceOptions.parse(ctx.options);
    const stream = parseStream(ctx.streamOptions);
    const connection = ctx.connection;
    if (!connection) {
      throw new Error("the sheets source needs a connection: set `connection:` in the source block to a Google connection (a service-account key or an OAuth client)");
    }
    const grant = oauth2GrantFromConnection(connection, { scopes: [SHEETS_SCOPE], subject: options.subject, tokenUrl: options.token_url });
    const client = createSheetsClient({
      rootUrl: options.root_url ?? connectionBaseUrl(connection)?.href ?? DEFAULT_ROOT_URL,
      spreadsheetId: options.spreadsheet_id,
      tokens: oauth2TokenSource(grant, { connection: connection.id, log: ctx.log }),
      identity: { connection: describeConnection(connection.id), serviceAccount: grant.type === "service_account" ? grant.clientEmail : undefined },
      timeoutMs: options.timeout_ms,
      maxRetries: options.max_retries,
      backoffMs: options.backoff_ms,
      log: ctx.log,
      signal: ctx.signal,
    });

    const spreadsheet = await readSpreadsheet(client);
    const zone = zoneFor(options.time_zone, spreadsheet.timeZone);
    const tables = tablesFor(stream.selector, stream.headerRow, spreadsheet);
    const all = stream.selector.kind === "all";
    const read = async (table: Table) => {
      const result = await readTable({
        client,
        table,
        batchRows: options.batch_rows,
        sampleRows: options.sample_rows,
        overrides: stream.columns,
        strictOverrides: !all,
        zone,
        log: ctx.log,
        optional: all,
      });
      if (result) open.add(result);
      return result;
    };

    if (!all) {
      const table = (await read(tables[0]!))!;
      for await (const records of table.records()) yield { type: "records", records };
      return;
    }
    for (const table of tables) {
      const result = await read(table);
      if (!result) continue;
      if (result.rows === 0) {
        ctx.log.info(`sheet ${JSON.stringify(table.sheet.title)} has a header but no rows; no file for it`);
        continue;
      }
      yield {
        type: "file",
        name: sheetFileName(table),
        format: "ndjson",
        rows: result.rows,
        metadata: { sheet: table.sheet.title, gid: table.sheet.id },
        body: ndjson(result.records({ _sheet: table.sheet.title })),
      };
      // The runtime reads a file's body before it asks for the next batch.
      await result.dispose();
      open.delete(result);
    }
  } catch (e) {
    // Google's messages can quote a request back; the redactor knows every token and key.
    if (e instanceof Error && !ctx.signal.aborted) {
      const safe = redact(e.message);
      if (safe !== e.message) e.message = safe;
    }
    throw e;
  } finally {
    await Promise.all([...open].map((t) => t.dispose()));
  }
}

/**
 * The zone date-times are read in: `time_zone`, else the spreadsheet's (File > Settings), which
 * is the zone its NOW() and Forms timestamps are written in. A zone this machine does not know
 * fails only when a date-time is read.
 */
function zoneFor(configured: string | undefined, spreadsheetZone: string | undefined): () => DateTimeZone {
  const id = configured ?? spreadsheetZone ?? "UTC";
  let zone: DateTimeZone | undefined;
  return () => {
    if (zone) return zone;
    try {
      return (zone = dateTimeZone(id));
    } catch {
      throw new SheetsError(
        "SHEETS_TIME_ZONE_INVALID",
        `the spreadsheet's date-times are in time zone ${JSON.stringify(id)}, which this machine does not know`,
        "set `time_zone` in the source block to the IANA name of that zone (e.g. `America/New_York`), or to `UTC` to keep the wall-clock times as written",
      );
    }
  };
}

/** `budget_2026-123.ndjson`: the title's ASCII letters and digits, and the gid, which keeps names unique. */
function sheetFileName(table: Table): string {
  const slug = table.sheet.title
    .normalize("NFKD")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .slice(0, 60);
  return `${slug || "sheet"}-${table.sheet.id}.ndjson`;
}

async function* ndjson(batches: AsyncIterable<readonly Record<string, unknown>[]>): AsyncGenerator<Uint8Array> {
  const encoder = new TextEncoder();
  for await (const records of batches) yield encoder.encode(records.map((r) => `${JSON.stringify(r)}\n`).join(""));
}
