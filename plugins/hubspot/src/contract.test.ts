/**
 * `hubspot.sync` against the testkit's step contract, with the `with:` blocks the README
 * shows: a real DuckDB model, a file landing zone per run and the HubSpot emulator.
 */
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll } from "vitest";
import { clearSecrets, silentLogger } from "@xo-foundry/core";
import { duckdbSink, sinkOptions } from "@xo-foundry/plugin-duckdb";
import { fileLanding } from "@xo-foundry/runtime";
import { describeStep, testdir, type TestDir } from "@xo-foundry/testkit";
import { hubspot } from "./index.js";
import { startHubSpotEmulator, type HubSpotEmulator } from "./__fixtures__/hubspot_server.js";

let dir: TestDir;
let crm: HubSpotEmulator;
beforeAll(async () => {
  dir = await testdir();
  crm = await startHubSpotEmulator();
  const warehouse = duckdbSink.warehouse!({ sink: "main", options: sinkOptions.parse({ database: dir.path("warehouse.duckdb") }), connection: undefined, projectDir: dir.dir, log: silentLogger, signal: new AbortController().signal });
  await warehouse.execute([
    `create table contacts as select * from (values
       ('ana.silva@example.com', 'Ana', 'Silva', 'Lumen GmbH'),
       ('ben.okafor@example.com', 'Ben', 'Okafor', 'Northwind')
     ) as v(email, first_name, last_name, company)`,
  ]);
});
afterAll(async () => {
  await crm?.close();
  await dir?.remove();
  clearSecrets();
});

let runs = 0;

describeStep({
  plugin: hubspot(),
  // The `with:` blocks of the README.
  examples: [
    {
      query: "select email, first_name as firstname, last_name as lastname, company from contacts",
      object_type: "contacts",
      key: "email",
      id_property: "email",
    },
    {
      table: "contacts",
      object_type: "contacts",
      key: "email",
      id_property: "email",
      properties: { first_name: "firstname", last_name: "lastname" },
      deletes: "archive",
      max_deletes: 500,
      conflict: "skip_remote_changes",
      rate: { requests_per_second: 4 },
      max_rejected: 10,
    },
  ],
  environment(signal) {
    return {
      projectDir: dir.dir,
      landing: { root: pathToFileURL(dir.path(`landing-${++runs}`)).href, store: fileLanding() },
      warehouses: {
        main: duckdbSink.warehouse!({ sink: "main", options: sinkOptions.parse({ database: dir.path("warehouse.duckdb") }), connection: undefined, projectDir: dir.dir, log: silentLogger, signal }),
      },
      connection: { id: "crm", host: "127.0.0.1", port: crm.port, schema: "http", password: crm.token, extra: {} },
    };
  },
});
