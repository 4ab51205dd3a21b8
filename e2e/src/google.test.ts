/**
 * The Google examples under `airflow dags test` (Airflow 3.3 from the pinned venv):
 * examples/gmail-vendor-invoices.yaml and examples/sheets-finance.yaml run through their
 * BashOperator tasks into DuckDB, twice for the same date. Real: Airflow, the CLI, googleapis'
 * Gmail and Sheets clients, core's OAuth 2 helper with a signed service-account assertion, the
 * landing folder and DuckDB. Emulated: Google's token endpoint (the testkit's), the Gmail v1
 * and Sheets v4 APIs (the plugins' emulators). The connections reach the tasks only through
 * Airflow's connection store; their host points the plugins at the emulators.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { startOAuthServer, type OAuthServer } from "@xo-foundry/testkit";
import { startGmailEmulator, type GmailEmulator } from "../../plugins/gmail/src/__fixtures__/gmail_server.js";
import { cells, startSheetsEmulator, type SheetsEmulator } from "../../plugins/sheets/src/__fixtures__/sheets_server.js";
import { cliShim, queryDuckDb, repo, run, sandbox, xo } from "./helpers.js";

const quiet = { AIRFLOW__LOGGING__LOGGING_LEVEL: "INFO", PYTHONWARNINGS: "ignore" };
const MAILBOX = "ap-inbox@example.com";
const SPREADSHEET_ID = "1FinanceBudget2026_xoFoundryExample";

let scratch: string;
let shim: string;
let project: Awaited<ReturnType<typeof sandbox>>;
let oauth: OAuthServer;
let gmail: GmailEmulator;
let sheets: SheetsEmulator;
let dags: string;

beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), "xo-google-e2e-"));
  project = await sandbox({}, { copyExamples: true });
  shim = await cliShim(scratch);
  oauth = await startOAuthServer();
  gmail = await startGmailEmulator({ oauth });
  sheets = await startSheetsEmulator(oauth);
  // No retries: a failing task would otherwise keep `dags test` waiting out the retry delay.
  const files = ["gmail-vendor-invoices.yaml", "sheets-finance.yaml"].map((f) => path.join(project.dir, f));
  for (const file of files) await writeFile(file, (await readFile(file, "utf8")).replace(/^  tags:/m, "  retries: 0\n  tags:"));
  dags = path.join(scratch, "dags");
  const r = await xo(["generate-dags", ...files, "-o", dags]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
});

afterAll(async () => {
  await Promise.all([gmail?.close(), sheets?.close()]);
  await oauth?.stop();
  await project?.remove();
  await rm(scratch, { recursive: true, force: true });
});

/** An Airflow connection holding a service-account key, its host pointing at an emulator. */
function googleConnection(emulatorUrl: string, email: string): string {
  const { keyJson } = oauth.serviceAccount({ email });
  return JSON.stringify({ conn_type: "http", host: "127.0.0.1", port: Number(new URL(emulatorUrl).port), extra: { keyfile_dict: JSON.stringify(keyJson) } });
}

async function dagsTest(dagId: string, env: Record<string, string>) {
  const log = path.join(scratch, `dags-test-${dagId}-${Date.now()}.log`);
  const r = await run(path.join(repo, "tools/airflow/dags-test.sh"), ["3", dags, dagId, "2026-01-15", log], {
    env: { ...quiet, PATH: `${shim}:${process.env.PATH}`, XO_FOUNDRY_PROJECT_DIR: project.dir, ...env },
  });
  expect(r.stderr).toBe("");
  return { ...(JSON.parse(r.stdout.trim()) as { exit_code: number; tasks: Record<string, string> }), log: await readFile(log, "utf8") };
}

const warehouse = () => path.join(project.dir, ".xo-foundry/warehouse.duckdb");

describe("examples/gmail-vendor-invoices.yaml under airflow dags test", () => {
  const csv = (n: number, first: number) => `invoice_id,amount,currency\n${Array.from({ length: n }, (_, i) => `INV-${first + i},${(first + i) * 10}.50,EUR`).join("\n")}\n`;

  beforeAll(() => {
    // The run of 2026-01-15 in Europe/Berlin reads [2026-01-14T23:00Z, 2026-01-15T23:00Z).
    gmail.mailbox({
      email: MAILBOX,
      labels: [{ name: "Vendors" }],
      messages: [
        { id: "a100000000000001", internalDate: "2026-01-15T08:00:00Z", labels: ["Vendors", "INBOX"], from: "billing@acme.example", subject: "Invoices 1-3", attachments: [{ filename: "invoices.csv", mimeType: "text/csv", content: csv(3, 1) }, { filename: "INV-1.pdf", mimeType: "application/pdf", content: "%PDF-1.4 one" }] },
        { id: "a100000000000002", internalDate: "2026-01-15T10:30:00Z", labels: ["Vendors"], from: "ar@globex.example", subject: "Invoices 4-5", attachments: [{ filename: "invoices.csv", mimeType: "text/csv", content: csv(2, 4) }] },
        { id: "a100000000000003", internalDate: "2026-01-14T23:30:00Z", labels: ["Vendors"], from: "billing@acme.example", subject: "Just after midnight in Berlin", attachments: [{ filename: "INV-6.pdf", mimeType: "application/pdf", content: "%PDF-1.4 six" }] },
        { id: "a100000000000004", internalDate: "2026-01-15T12:00:00Z", labels: ["Vendors"], from: "news@acme.example", subject: "No attachment" },
        // Outside the window, and not labelled: never read.
        { id: "a100000000000005", internalDate: "2026-01-15T23:00:00Z", labels: ["Vendors"], subject: "Midnight in Berlin: the next day", attachments: [{ filename: "late.csv", mimeType: "text/csv", content: csv(9, 100) }] },
        { id: "a100000000000006", internalDate: "2026-01-15T09:00:00Z", labels: ["INBOX"], subject: "Unlabelled", attachments: [{ filename: "other.csv", mimeType: "text/csv", content: csv(9, 200) }] },
      ],
    });
  });

  const env = () => ({ AIRFLOW_CONN_OPS_MAILBOX: googleConnection(gmail.url, "etl@xo-examples.iam.gserviceaccount.com"), XO_CONN_OPS_MAILBOX: "" });

  it("loads the day's messages and CSV invoices, keeps the PDFs as files, and a re-run duplicates nothing", async () => {
    const first = await dagsTest("gmail_vendor_invoices", env());
    expect(first.tasks).toEqual({
      extract_invoice_pdfs: "success",
      extract_vendor_invoices: "success",
      extract_vendor_messages: "success",
      load_vendor_invoices: "success",
      load_vendor_messages: "success",
    });
    expect(first.exit_code).toBe(0);
    const tables = async () => ({
      messages: await queryDuckDb(warehouse(), "SELECT id, subject FROM main.vendor_messages ORDER BY id"),
      invoices: await queryDuckDb(warehouse(), "SELECT count(*)::INTEGER AS n, sum(amount)::DOUBLE AS amount FROM main.vendor_invoices"),
    });
    const loaded = await tables();
    expect(loaded.messages).toEqual([
      { id: "a100000000000001", subject: "Invoices 1-3" },
      { id: "a100000000000002", subject: "Invoices 4-5" },
      { id: "a100000000000003", subject: "Just after midnight in Berlin" },
      { id: "a100000000000004", subject: "No attachment" },
    ]);
    expect(loaded.invoices).toEqual([{ n: 5, amount: 152.5 }]);
    // The PDFs were landed byte for byte; no table was made for them.
    const pdfDir = path.join(project.dir, ".xo-foundry/landing/stage/gmail_vendor_invoices/invoice_pdfs/incremental/date=2026-01-15");
    const pdfs = (await readdir(pdfDir)).filter((f) => f.endsWith(".pdf")).sort();
    expect(pdfs).toEqual(["00000-a100000000000001_2_INV-1.pdf", "00001-a100000000000003_1_INV-6.pdf"]);
    expect(await readFile(path.join(pdfDir, pdfs[0]!), "utf8")).toBe("%PDF-1.4 one");
    expect(await queryDuckDb(warehouse(), "SELECT count(*)::INTEGER AS n FROM information_schema.tables WHERE table_name = 'invoice_pdfs'")).toEqual([{ n: 0 }]);
    // The key file never reached the task log.
    expect(first.log).not.toContain("PRIVATE KEY");

    const again = await dagsTest("gmail_vendor_invoices", env());
    expect(again.exit_code).toBe(0);
    expect(await tables()).toEqual(loaded);
  });
});

describe("examples/sheets-finance.yaml under airflow dags test", () => {
  const { currency, date, dateTime, number, percent } = cells;

  beforeAll(() => {
    sheets.put({
      spreadsheetId: SPREADSHEET_ID,
      title: "Finance",
      timeZone: "UTC",
      sheets: [
        {
          title: "Budget 2026",
          rows: [
            ["Cost center", "Item", "Amount (USD)", "Share", "Booked on", "Created at", "Approved", "Qty", "Région", ""],
            [4100, "Wheels", currency(20.5), percent(0.25), date("2026-03-01"), dateTime("2026-01-15T09:30:00"), true, 4, "Île-de-France", "note"],
            [4200, "Doors", currency(15), percent(0.5), date("2026-03-15"), null, false, 2, "Bayern", null],
            // A merged-looking gap: the cost center is written once for the rows under it.
            [null, "Windows", currency(1200.75), percent(0.125), date("2026-04-01"), dateTime("2026-02-01T18:45:10"), true, 12, null, null],
            [],
            [4300, "Paint", number(99.99), null, null, null, null, null, "Wien", null],
          ],
        },
        { title: "Targets", rows: [["Item", "Amount (USD)"], ["Wheels", currency(25)], ["Doors", currency(20)]] },
      ],
    });
  });

  const env = () => ({ AIRFLOW_CONN_FINANCE_GOOGLE: googleConnection(sheets.url, "finance@xo-examples.iam.gserviceaccount.com"), XO_CONN_FINANCE_GOOGLE: "" });

  it("lands each column with its type, blanks as nulls, and a re-run replaces rather than duplicates", async () => {
    const first = await dagsTest("sheets_finance", env());
    expect(first.tasks).toEqual({ extract_all_tabs: "success", extract_budget: "success", load_all_tabs: "success", load_budget: "success" });
    expect(first.exit_code).toBe(0);

    const columns = await queryDuckDb(warehouse(), "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'finance_budget' ORDER BY ordinal_position");
    expect(Object.fromEntries(columns.map((c) => [c.column_name, c.data_type]))).toMatchObject({
      cost_center: "VARCHAR",
      item: "VARCHAR",
      amount_usd: "DOUBLE",
      share: "DOUBLE",
      booked_on: "DATE",
      created_at: "TIMESTAMP",
      approved: "BOOLEAN",
      qty: "BIGINT",
      région: "VARCHAR",
      column_10: "VARCHAR",
    });
    const budget = async () => queryDuckDb(warehouse(), "SELECT cost_center, item, amount_usd, share, booked_on::VARCHAR AS booked_on, approved, qty, région FROM main.finance_budget ORDER BY item");
    const rows = await budget();
    expect(rows).toEqual([
      { cost_center: "4200", item: "Doors", amount_usd: 15, share: 0.5, booked_on: "2026-03-15", approved: false, qty: "2", région: "Bayern" },
      { cost_center: "4300", item: "Paint", amount_usd: 99.99, share: null, booked_on: null, approved: null, qty: null, région: "Wien" },
      { cost_center: "4100", item: "Wheels", amount_usd: 20.5, share: 0.25, booked_on: "2026-03-01", approved: true, qty: "4", région: "Île-de-France" },
      { cost_center: null, item: "Windows", amount_usd: 1200.75, share: 0.125, booked_on: "2026-04-01", approved: true, qty: "12", région: null },
    ]);
    const tabs = async () => queryDuckDb(warehouse(), "SELECT _sheet, count(*)::INTEGER AS n FROM main.finance_tabs GROUP BY 1 ORDER BY 1");
    expect(await tabs()).toEqual([
      { _sheet: "Budget 2026", n: 4 },
      { _sheet: "Targets", n: 2 },
    ]);

    const again = await dagsTest("sheets_finance", env());
    expect(again.exit_code).toBe(0);
    expect(await budget()).toEqual(rows);
    expect(await tabs()).toEqual([
      { _sheet: "Budget 2026", n: 4 },
      { _sheet: "Targets", n: 2 },
    ]);
  });
});
