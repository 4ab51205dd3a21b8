/**
 * The export examples under `airflow dags test` (Airflow 3.3 from the pinned venv), each run
 * for 2026-01-15 twice, then for 2026-01-16 after the partner orders changed:
 *
 * - examples/orders-to-partner-sftp.yaml -> a real OpenSSH sshd on loopback;
 * - examples/orders-to-s3.yaml -> moto's S3 API;
 * - examples/orders-to-api.yaml -> a loopback API that follows the Idempotency-Key draft and
 *   refuses some orders;
 * - examples/contacts-to-crm.yaml -> the HubSpot CRM v3 emulator, with 429s and a refused
 *   contact.
 *
 * Real: Airflow, the CLI, the landing folder, DuckDB, sshd, moto, snowflake-free SQL. Emulated:
 * the partner API (plugins/api/src/__fixtures__/receiver.ts) and HubSpot
 * (plugins/hubspot/src/__fixtures__/hubspot_server.ts). Connections reach the tasks only
 * through Airflow's connection store.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { startSshd, type Sshd } from "../../plugins/sftp/src/__fixtures__/sshd.js";
import { startMoto, type Moto } from "../../plugins/s3/src/__fixtures__/moto.js";
import { startReceiver, type Receiver } from "../../plugins/api/src/__fixtures__/receiver.js";
import { startHubSpotEmulator, type HubSpotEmulator } from "../../plugins/hubspot/src/__fixtures__/hubspot_server.js";
import { DuckDBInstance } from "@duckdb/node-api";
import { cliShim, repo, run, sandbox, xo } from "./helpers.js";

const quiet = { AIRFLOW__LOGGING__LOGGING_LEVEL: "INFO", PYTHONWARNINGS: "ignore" };
const EXAMPLES = ["orders-to-partner-sftp.yaml", "orders-to-s3.yaml", "orders-to-api.yaml", "contacts-to-crm.yaml"];

let scratch: string;
let shim: string;
let project: Awaited<ReturnType<typeof sandbox>>;
let dags: string;

beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), "xo-export-e2e-"));
  project = await sandbox({}, { copyExamples: true });
  shim = await cliShim(scratch);
  // No retries: a failing task would otherwise keep `dags test` waiting out the retry delay.
  const files = EXAMPLES.map((f) => path.join(project.dir, f));
  for (const file of files) await writeFile(file, (await readFile(file, "utf8")).replace(/^  tags:/m, "  retries: 0\n  tags:"));
  dags = path.join(scratch, "dags");
  const r = await xo(["generate-dags", ...files, "-o", dags]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
});

afterAll(async () => {
  await project?.remove();
  await rm(scratch, { recursive: true, force: true });
});

async function dagsTest(dagId: string, date: string, env: Record<string, string>) {
  const log = path.join(scratch, `dags-test-${dagId}-${Date.now()}.log`);
  const r = await run(path.join(repo, "tools/airflow/dags-test.sh"), ["3", dags, dagId, date, log], {
    env: { ...quiet, PATH: `${shim}:${process.env.PATH}`, XO_FOUNDRY_PROJECT_DIR: project.dir, ...env },
  });
  expect(r.stderr).toBe("");
  const result = { ...(JSON.parse(r.stdout.trim()) as { exit_code: number; tasks: Record<string, string> }), log: await readFile(log, "utf8") };
  if (result.exit_code !== 0) throw new Error(`dags test ${dagId} ${date} failed:\n${result.log.slice(-6000)}`);
  expect(Object.values(result.tasks).every((s) => s === "success")).toBe(true);
  return result;
}

/** The next day's orders: 1004 shipped (changed), 1008 new; the others as they were. */
async function changeOrders(): Promise<void> {
  const file = path.join(project.dir, "sample-data/partner-orders/orders.csv");
  const text = await readFile(file, "utf8");
  await writeFile(
    file,
    text.replace("1004,C-017,paid,EUR,310.45,2026-01-14 11:20:00", "1004,C-017,shipped,EUR,310.45,2026-01-16 09:30:00") +
      "1008,C-011,paid,EUR,99.00,2026-01-16 10:00:00\n",
  );
}

const ORDERS_DAY_1 = [
  "id,customer_id,status,currency,total,updated_at",
  "1001,C-017,shipped,EUR,129.9,2026-01-13 08:15:00",
  "1002,C-004,shipped,EUR,54.0,2026-01-13 17:42:10",
  "1003,C-021,cancelled,EUR,0.0,2026-01-14 09:03:55",
  "1004,C-017,paid,EUR,310.45,2026-01-14 11:20:00",
  "1005,C-008,paid,EUR,18.99,2026-01-14 16:58:31",
  "1006,C-030,paid,EUR,75.5,2026-01-15 07:45:12",
  "1007,C-002,pending,EUR,240.0,2026-01-15 10:10:10",
];
const ORDERS_DAY_2 = ["id,customer_id,status,currency,total,updated_at", "1004,C-017,shipped,EUR,310.45,2026-01-16 09:30:00", "1008,C-011,paid,EUR,99.0,2026-01-16 10:00:00"];

describe.sequential("the export examples under airflow dags test", () => {
  let sshd: Sshd;
  let moto: Moto;
  let receiver: Receiver;

  beforeAll(async () => {
    [sshd, moto, receiver] = await Promise.all([
      startSshd(),
      startMoto(),
      startReceiver({ recordsAt: "orders", refuse: (order) => (order.status === "cancelled" ? "cancelled orders are not taken" : undefined) }),
    ]);
    await moto.createBucket("partner-drop");
  });
  afterAll(async () => {
    await Promise.all([sshd?.stop(), moto?.stop(), receiver?.close()]);
  });

  const sftpEnv = () => ({
    AIRFLOW_CONN_PARTNER_SFTP: JSON.stringify({ conn_type: "sftp", ...sshd.connection(), id: undefined, type: undefined }),
    XO_CONN_PARTNER_SFTP: "",
  });
  const s3Env = () => {
    const c = moto.connection("partner_s3");
    return { AIRFLOW_CONN_PARTNER_S3: JSON.stringify({ conn_type: "aws", login: c.login, password: c.password, extra: c.extra }), XO_CONN_PARTNER_S3: "" };
  };
  const apiEnv = () => ({
    AIRFLOW_CONN_PARTNER_API: JSON.stringify({ conn_type: "http", host: receiver.url, password: "partner-api-token" }),
    XO_CONN_PARTNER_API: "",
  });

  const partnerFolder = () => path.join(sshd.root, "incoming/orders");
  const s3Objects = async () =>
    ((await moto.client().send(new ListObjectsV2Command({ Bucket: "partner-drop", Prefix: "orders/" }))).Contents ?? []).map((o) => o.Key!).sort();
  const s3Parquet = async (key: string) => {
    const body = await (await moto.client().send(new GetObjectCommand({ Bucket: "partner-drop", Key: key }))).Body!.transformToByteArray();
    const local = path.join(scratch, key.replaceAll("/", "_"));
    await writeFile(local, body);
    const db = await DuckDBInstance.create(":memory:");
    const c = await db.connect();
    try {
      return (await c.runAndReadAll(`select id::integer as id, status, updated_at::varchar as updated_at from read_parquet('${local}') order by id`)).getRowObjectsJson();
    } finally {
      c.closeSync();
      db.closeSync();
    }
  };
  const s3Modified = async (key: string) => (await moto.client().send(new HeadObjectCommand({ Bucket: "partner-drop", Key: key }))).LastModified?.getTime();

  it("2026-01-15: every order arrives once at each destination; refused orders are kept aside", async () => {
    await dagsTest("orders_to_partner_sftp", "2026-01-15", sftpEnv());
    expect(await readdir(partnerFolder())).toEqual(["orders_20260115.csv"]);
    expect((await readFile(path.join(partnerFolder(), "orders_20260115.csv"), "utf8")).trimEnd().split("\n")).toEqual(ORDERS_DAY_1);

    await dagsTest("orders_to_s3", "2026-01-15", s3Env());
    expect(await s3Objects()).toEqual(["orders/2026-01-15/orders_20260115_part-00000.parquet"]);
    expect((await s3Parquet("orders/2026-01-15/orders_20260115_part-00000.parquet")).map((r) => r.id)).toEqual([1001, 1002, 1003, 1004, 1005, 1006, 1007]);

    await dagsTest("orders_to_api", "2026-01-15", apiEnv());
    expect(receiver.appliedIds().sort()).toEqual([1001, 1002, 1004, 1005, 1006, 1007]);
    expect(receiver.requests.every((r) => r.key !== undefined)).toBe(true);
    const rejected = await readFile(
      path.join(project.dir, ".xo-foundry/landing/rejected/orders_to_api/to_partner_api/incremental/date=2026-01-15/rejected.ndjson"),
      "utf8",
    );
    expect(rejected.trim().split("\n").map((l) => JSON.parse(l) as { record: { id: number }; error: string })).toEqual([
      expect.objectContaining({ record: expect.objectContaining({ id: 1003 }), error: expect.stringContaining("cancelled orders are not taken") }),
    ]);
    expect(rejected).not.toContain("partner-api-token");
  });

  it("2026-01-15 again: nothing new is sent anywhere and nothing is duplicated", async () => {
    const sftpMtime = (await stat(path.join(partnerFolder(), "orders_20260115.csv"))).mtimeMs;
    const s3Mtime = await s3Modified("orders/2026-01-15/orders_20260115_part-00000.parquet");
    const requests = receiver.requests.length;
    const applied = receiver.applied.length;

    await dagsTest("orders_to_partner_sftp", "2026-01-15", sftpEnv());
    await dagsTest("orders_to_s3", "2026-01-15", s3Env());
    await dagsTest("orders_to_api", "2026-01-15", apiEnv());

    expect(await readdir(partnerFolder())).toEqual(["orders_20260115.csv"]);
    expect((await stat(path.join(partnerFolder(), "orders_20260115.csv"))).mtimeMs).toBe(sftpMtime);
    expect(await s3Objects()).toEqual(["orders/2026-01-15/orders_20260115_part-00000.parquet"]);
    expect(await s3Modified("orders/2026-01-15/orders_20260115_part-00000.parquet")).toBe(s3Mtime);
    expect(receiver.requests.length).toBe(requests);
    expect(receiver.applied.length).toBe(applied);
  });

  it("2026-01-16: only the changed and the new order go out, once", async () => {
    await changeOrders();
    const requests = receiver.requests.length;
    await dagsTest("orders_to_partner_sftp", "2026-01-16", sftpEnv());
    await dagsTest("orders_to_s3", "2026-01-16", s3Env());
    await dagsTest("orders_to_api", "2026-01-16", apiEnv());

    expect(await readdir(partnerFolder())).toEqual(["orders_20260115.csv", "orders_20260116.csv"]);
    expect((await readFile(path.join(partnerFolder(), "orders_20260116.csv"), "utf8")).trimEnd().split("\n")).toEqual(ORDERS_DAY_2);
    expect(await s3Objects()).toEqual(["orders/2026-01-15/orders_20260115_part-00000.parquet", "orders/2026-01-16/orders_20260116_part-00000.parquet"]);
    expect(await s3Parquet("orders/2026-01-16/orders_20260116_part-00000.parquet")).toEqual([
      { id: 1004, status: "shipped", updated_at: "2026-01-16 09:30:00" },
      { id: 1008, status: "paid", updated_at: "2026-01-16 10:00:00" },
    ]);
    expect(receiver.requests.length).toBe(requests + 1);
    expect(receiver.appliedIds().sort()).toEqual([1001, 1002, 1004, 1004, 1005, 1006, 1007, 1008]);

    // The day's watermark went forward only with the delivery: it now stands at the changed order.
    const state = JSON.parse(await readFile(path.join(project.dir, ".xo-foundry/landing/state/orders_to_partner_sftp/export__changed_orders.json"), "utf8")) as {
      value: { watermark: string };
    };
    expect(state.value.watermark).toMatch(/^2026-01-16[ T]10:00:00/);
  });
});

describe.sequential("examples/contacts-to-crm.yaml under airflow dags test", () => {
  let hubspot: HubSpotEmulator;
  beforeAll(async () => {
    hubspot = await startHubSpotEmulator({ token: "pat-na1-e2e-token" });
  });
  afterAll(() => hubspot?.close());

  const env = () => ({ AIRFLOW_CONN_CRM: JSON.stringify({ conn_type: "http", host: hubspot.url, password: hubspot.token }), XO_CONN_CRM: "" });
  const contacts = () =>
    hubspot
      .objects("contacts")
      .map((o) => ({ email: o.properties.email, firstname: o.properties.firstname, company: o.properties.company, lifecyclestage: o.properties.lifecyclestage }))
      .sort((a, b) => (a.email! < b.email! ? -1 : 1));
  const writes = () => hubspot.calls.filter((c) => c.operation === "upsert" || c.operation === "archive");
  const contactsFile = () => path.join(project.dir, "sample-data/crm-contacts/contacts.csv");

  it("2026-01-15: every valid contact is created once, through 429s; the refused one is kept aside", async () => {
    hubspot.failNext(2, { status: 429, retryAfter: 1, operation: "upsert" });
    await dagsTest("contacts_to_crm", "2026-01-15", env());
    expect(contacts()).toEqual([
      { email: "ana.silva@example.com", firstname: "Ana", company: "Lumen GmbH", lifecyclestage: "customer" },
      { email: "ben.okafor@example.com", firstname: "Ben", company: "Northwind", lifecyclestage: "lead" },
      { email: "chloe.martin@example.com", firstname: "Chloé", company: "Atelier Sud", lifecyclestage: "opportunity" },
      { email: "dev.patel@example.com", firstname: "Dev", company: "Kestrel Labs", lifecyclestage: "customer" },
      { email: "eva.novak@example.com", firstname: "Eva", company: "Brno Bikes", lifecyclestage: "lead" },
    ]);
    expect(hubspot.calls.filter((c) => c.status === 429)).toHaveLength(2);
    const rejected = await readFile(
      path.join(project.dir, ".xo-foundry/landing/rejected/contacts_to_crm/sync_contacts/incremental/date=2026-01-15/rejected.ndjson"),
      "utf8",
    );
    expect(rejected.trim().split("\n")).toHaveLength(1);
    expect(rejected).toContain("not-an-email");
    expect(rejected).not.toContain(hubspot.token);
  });

  it("2026-01-15 again: no contact is created or changed; only the refused one is offered again", async () => {
    const before = hubspot.objects("contacts").map((o) => `${o.id}@${o.updatedAt}`);
    const calls = writes().length;
    await dagsTest("contacts_to_crm", "2026-01-15", env());
    expect(hubspot.objects("contacts").map((o) => `${o.id}@${o.updatedAt}`)).toEqual(before);
    expect(writes().slice(calls).map((c) => `${c.operation}:${c.inputs}:${c.status}`)).toEqual(["upsert:1:207"]);
  });

  it("2026-01-16: one update, one archive, and a contact edited in HubSpot since the last sync is left alone", async () => {
    const text = await readFile(contactsFile(), "utf8");
    await writeFile(
      contactsFile(),
      text
        .replace("dev.patel@example.com,Dev,Patel,Kestrel Labs,", "dev.patel@example.com,Dev,Patel,Kestrel Labs GmbH,")
        .replace("ben.okafor@example.com,Ben,Okafor,Northwind,lead,2026-01-12 14:30:00\n", "")
        .replace("eva.novak@example.com,Eva,Novák,Brno Bikes,lead,", "eva.novak@example.com,Eva,Novák,Brno Bikes,customer,"),
    );
    const eva = hubspot.find("contacts", "email", "eva.novak@example.com")[0]!;
    hubspot.touch("contacts", eva.id, { company: "Brno Bikes s.r.o." });
    const calls = writes().length;
    await dagsTest("contacts_to_crm", "2026-01-16", env());

    expect(contacts()).toEqual([
      { email: "ana.silva@example.com", firstname: "Ana", company: "Lumen GmbH", lifecyclestage: "customer" },
      { email: "chloe.martin@example.com", firstname: "Chloé", company: "Atelier Sud", lifecyclestage: "opportunity" },
      { email: "dev.patel@example.com", firstname: "Dev", company: "Kestrel Labs GmbH", lifecyclestage: "customer" },
      { email: "eva.novak@example.com", firstname: "Eva", company: "Brno Bikes s.r.o.", lifecyclestage: "lead" },
    ]);
    expect(hubspot.objects("contacts", { archived: true }).filter((o) => o.archived).map((o) => o.properties.email)).toEqual(["ben.okafor@example.com"]);
    const sent = writes().slice(calls);
    expect(sent.filter((c) => c.operation === "archive").reduce((n, c) => n + c.inputs, 0)).toBe(1);
    // Dev's update and the refused contact offered again; Eva is a conflict, not sent.
    expect(sent.filter((c) => c.operation === "upsert").reduce((n, c) => n + c.inputs, 0)).toBe(2);
  });
});
