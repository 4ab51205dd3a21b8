import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { definePlugin, type ResolvedPipeline } from "./plugin.js";
import { datasetUri } from "./datasets.js";
import { landingFolder, openLineageName, partitionedDatasetUri, projectLineage, resolveDataset, sinkTable, withoutCredentials, type StepLineage } from "./lineage.js";
import { fixtureProject, removeFixtureProjects } from "./__fixtures__/load.js";
import { fixturePlugins } from "./__fixtures__/plugins.js";

afterEach(removeFixtureProjects);

describe("openLineageName", () => {
  it("names datasets by OpenLineage's conventions", () => {
    expect(openLineageName("s3://bucket/raw/orders/part-0.csv")).toEqual({ namespace: "s3://bucket", name: "raw/orders/part-0.csv" });
    expect(openLineageName("file:///srv/landing/a%20b.csv")).toEqual({ namespace: "file", name: "/srv/landing/a b.csv" });
    expect(openLineageName("file://nas/share/x.csv")).toEqual({ namespace: "file://nas", name: "/share/x.csv" });
    expect(openLineageName("sftp://partner:22/incoming/orders.csv")).toEqual({ namespace: "sftp://partner:22", name: "/incoming/orders.csv" });
    expect(openLineageName("duckdb:///srv/w.duckdb#main.orders")).toEqual({ namespace: "duckdb:///srv/w.duckdb", name: "main.orders" });
    expect(openLineageName({ uri: "anything", namespace: "snowflake://org-acct", name: "DB.RAW.ORDERS" })).toEqual({ namespace: "snowflake://org-acct", name: "DB.RAW.ORDERS" });
  });

  it("names a stage partition as its stream folder", () => {
    expect(partitionedDatasetUri("s3://b/l/stage/shop/orders/incremental/date=2026-01-15")).toBe("s3://b/l/stage/shop/orders");
    expect(openLineageName("file:///l/stage/shop/orders/historical/from=2026-01-01_to=2026-01-15")).toEqual({ namespace: "file", name: "/l/stage/shop/orders" });
    expect(openLineageName("s3://b/l/stage/shop/_steps/export/full_refresh/snapshot_date=2026-01-15/")).toEqual({ namespace: "s3://b", name: "l/stage/shop/_steps/export" });
  });

  it("never keeps credentials or query strings", () => {
    expect(withoutCredentials("https://user:hunter22@example.com/a?X-Amz-Signature=abc#f")).toBe("https://example.com/a#f");
    expect(openLineageName("sftp://bob:hunter22@host/in/x.csv")).toEqual({ namespace: "sftp://host", name: "/in/x.csv" });
    expect(openLineageName("s3://bucket/key.csv?X-Amz-Credential=AKIA123")).toEqual({ namespace: "s3://bucket", name: "key.csv" });
  });
});

/** A warehouse that names its tables, a step that models them and a delivery step. */
const lineagePlugin = definePlugin({
  name: "fixture-lineage",
  version: "1.0.0",
  sinks: [
    {
      id: "wh",
      description: "a warehouse that names its tables",
      options: z.object({ account: z.string().default("acme"), schema: z.string().default("RAW") }),
      target: z.object({ table: z.string().optional() }),
      dataset: ({ stream, target, options }) => ({ namespace: `wh://${options.account}`, name: `${options.schema}.${(target.table ?? stream).toUpperCase()}` }),
      load: async () => ({ table: "t", rowsLoaded: 0 }),
    },
  ],
  steps: [
    {
      id: "fixture.model",
      description: "joins two tables into a third",
      options: z.object({ from: z.array(z.string()), into: z.string() }),
      lineage: ({ options }): StepLineage => {
        const o = options as { from: string[]; into: string };
        const into = sinkTable(undefined, `MART.${o.into}`);
        return { reads: o.from.map((t) => sinkTable(undefined, t)), writes: [into], edges: o.from.map((t) => ({ from: sinkTable(undefined, t), to: into })) };
      },
      run: async () => ({}),
    },
    {
      id: "fixture.deliver",
      description: "sends files somewhere",
      options: z.object({ to: z.string() }),
      destination: ({ options }) => (options as { to: string }).to,
      run: async () => ({}),
    },
  ],
});

const SHOP = `pipeline:
  name: shop
  start_date: 2026-01-01
source:
  plugin: api
  connection: shop_api
  streams:
    - name: orders
      path: /v1/orders
      target: { table: orders }
    - name: customers
      path: /v1/customers
sink:
  plugin: wh
landing:
  uri: file://landing
steps:
  - id: summary
    uses: fixture.model
    after: ["load_*"]
    with: { from: [orders, customers], into: summary }
  - id: send
    uses: fixture.deliver
    after: [summary]
    with: { to: "sftp://bob:secret99@partner/in/summary.csv" }
`;

const REPORT = `pipeline:
  name: report
  start_date: 2026-01-01
  schedule: { assets: ["wh://acme/RAW.ORDERS"] }
source:
  plugin: api
  streams:
    - name: rates
      path: /v1/rates
sink:
  plugin: wh
  account: other
landing:
  uri: file://landing
`;

async function graphOf(files: Record<string, string>) {
  const fixture = await fixtureProject(files, [...fixturePlugins(), lineagePlugin]);
  const loads = [];
  for (const name of Object.keys(files)) {
    const { pipeline, diagnostics } = await fixture.load(name);
    expect(diagnostics).toEqual([]);
    loads.push({ pipeline: pipeline as ResolvedPipeline });
  }
  return { dir: fixture.dir, loads, registry: fixture.project.registry, graph: projectLineage(loads, fixture.project.registry) };
}

describe("projectLineage", () => {
  it("draws source -> landing -> table -> model -> destination, named as the runtime names them", async () => {
    const { dir, graph } = await graphOf({ "shop.yaml": SHOP });
    const landing = `${dir}/landing/stage/shop`;
    expect(graph.nodes.map((n) => [n.kind, n.id, n.label])).toEqual([
      ["source", "source:shop.customers", "customers"],
      ["source", "source:shop.orders", "orders"],
      ["landing", `dataset:file/${landing}/customers`, "stage/shop/customers"],
      ["landing", `dataset:file/${landing}/orders`, "stage/shop/orders"],
      ["table", "dataset:wh://acme/RAW.CUSTOMERS", "RAW.CUSTOMERS"],
      ["table", "dataset:wh://acme/RAW.ORDERS", "RAW.ORDERS"],
      ["model", "dataset:wh://acme/MART.SUMMARY", "MART.SUMMARY"],
      ["destination", "destination:sftp://partner/in/summary.csv", "sftp://partner/in/summary.csv"],
    ]);
    expect(graph.nodes.find((n) => n.id === "source:shop.orders")).toMatchObject({ detail: "api · shop_api · /v1/orders", pipeline: "shop" });
    expect(graph.nodes.find((n) => n.kind === "table" && n.label === "RAW.ORDERS")).toMatchObject({ uri: "wh://acme/RAW.ORDERS", namespace: "wh://acme", name: "RAW.ORDERS" });
    expect(graph.edges.map((e) => [e.from, e.to, e.via])).toEqual([
      [`dataset:file/${landing}/customers`, "dataset:wh://acme/RAW.CUSTOMERS", "load_customers"],
      [`dataset:file/${landing}/orders`, "dataset:wh://acme/RAW.ORDERS", "load_orders"],
      ["dataset:wh://acme/MART.SUMMARY", "destination:sftp://partner/in/summary.csv", "send"],
      ["dataset:wh://acme/RAW.CUSTOMERS", "dataset:wh://acme/MART.SUMMARY", "summary"],
      ["dataset:wh://acme/RAW.ORDERS", "dataset:wh://acme/MART.SUMMARY", "summary"],
      ["source:shop.customers", `dataset:file/${landing}/customers`, "extract_customers"],
      ["source:shop.orders", `dataset:file/${landing}/orders`, "extract_orders"],
    ]);
    expect(JSON.stringify(graph)).not.toContain("secret99");
  });

  it("names a step's landing folder where the landing zone is, and its tables as the sink does", async () => {
    const { dir, loads, registry } = await graphOf({ "shop.yaml": SHOP });
    const pipeline = loads[0]!.pipeline;
    expect(resolveDataset(pipeline, registry, landingFolder("stage/shop/_steps/export"))).toEqual({ namespace: "file", name: `${dir}/landing/stage/shop/_steps/export` });
    expect(resolveDataset(pipeline, registry, sinkTable("main", "orders"))).toEqual({ namespace: "wh://acme", name: "RAW.ORDERS" });
    expect(resolveDataset(pipeline, registry, sinkTable(undefined, "MART.daily"))).toEqual({ namespace: "wh://acme", name: "MART.DAILY" });
    // Without sinks to ask, or for a sink the pipeline does not have, the name stays as it was.
    expect(resolveDataset(pipeline, {}, sinkTable("main", "orders"))).toEqual(sinkTable("main", "orders"));
    expect(resolveDataset(pipeline, registry, sinkTable("nope", "orders"))).toEqual(sinkTable("nope", "orders"));
  });

  it("starts a pipeline scheduled on a table's asset from that table, in the same order every time", async () => {
    const { dir, graph } = await graphOf({ "shop.yaml": SHOP, "report.yaml": REPORT });
    const triggers = graph.edges.filter((e) => e.kind === "trigger");
    expect(triggers).toEqual([{ from: "dataset:wh://acme/RAW.ORDERS", to: "source:report.rates", pipeline: "report", via: "schedule", kind: "trigger" }]);
    // The loader owns the table; the other pipeline's tables are its own.
    expect(graph.nodes.find((n) => n.id === "dataset:wh://acme/RAW.ORDERS")?.pipeline).toBe("shop");
    expect(graph.nodes.some((n) => n.id === "dataset:wh://other/RAW.RATES")).toBe(true);
    const again = await graphOf({ "report.yaml": REPORT, "shop.yaml": SHOP });
    expect(JSON.stringify(again.graph).replaceAll(again.dir, "<dir>")).toBe(JSON.stringify(graph).replaceAll(dir, "<dir>"));
  });

  it("adds the asset a pipeline waits for when no pipeline here writes it", async () => {
    const { graph } = await graphOf({ "report.yaml": REPORT });
    expect(graph.nodes.find((n) => n.uri === "wh://acme/RAW.ORDERS")).toMatchObject({ kind: "table", detail: "an asset no pipeline here writes" });
    expect(datasetUri({ namespace: "wh://acme", name: "RAW.ORDERS" })).toBe("wh://acme/RAW.ORDERS");
  });
});
