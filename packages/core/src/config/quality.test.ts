import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { fixtureProject, removeFixtureProjects } from "../__fixtures__/load.js";
import { fixturePlugins } from "../__fixtures__/plugins.js";
import { dagAlerts, emitDag } from "../airflow.js";
import { requireGraph, withOutlets } from "../graph.js";
import { definePlugin, type AirflowMessage } from "../plugin.js";
import { checkSchema, durationMinutes } from "./quality.js";

afterEach(removeFixtureProjects);

/** A checks step and a notifier from plugins the core knows nothing about. */
const qualityPlugins = () => [
  ...fixturePlugins(),
  definePlugin({
    name: "fixture-quality",
    version: "0.0.3",
    steps: [{ id: "fixture.check", description: "runs checks", handles: "checks", canSkip: false, options: z.object({}).loose(), run: async () => ({}) }],
    notifiers: [
      {
        id: "chat",
        description: "fixture channel",
        connection: "required",
        options: z.object({ room: z.string().optional() }),
        send: async () => {},
        airflow: ({ connection, options, message }: { connection: string | undefined; options: { room?: string }; message: AirflowMessage }) => ({
          module: "chat.notifiers",
          name: "ChatNotifier",
          kwargs: { conn_id: connection ?? null, room: options.room ?? null, text: message.text, body: { dict: message.fields } },
        }),
      },
    ],
  }),
];

const PIPELINE = `pipeline:
  name: shop
  start_date: 2026-01-01
source:
  plugin: api
  streams:
    - name: orders
      path: /orders
    - name: events
      path: /events
      mode: ingest_only
`;

async function load(yaml: string, plugins = qualityPlugins()) {
  const { load, project } = await fixtureProject({ "pipeline.yaml": yaml }, plugins);
  const result = await load("pipeline.yaml");
  return { ...result, project };
}

const at = (d: { code: string; path?: string; line?: number; message: string }) => `${d.code} ${d.path}@${d.line} ${d.message}`;

describe("checks", () => {
  it("go around the stream's load: before it on the landed files, after it on the table", async () => {
    const { pipeline, project, diagnostics } = await load(`${PIPELINE}checks:
  orders:
    - row_count: { min: 1 }
    - not_null: [id]
    - sql: "select * from {table} where total < 0"
      severity: warn
      at: post_load
  events:
    - unique: [id]
steps:
  - id: report
    uses: fixture.note
    with: { message: done }
    after: [load_orders]
`);
    expect(diagnostics).toEqual([]);
    const tasks = withOutlets(pipeline!, requireGraph(pipeline!, project.registry.template("ingest")!, project.registry), project.registry);
    const edges = tasks.flatMap((t) => t.upstream.map((u) => `${u} -> ${t.id}`));
    expect(edges.sort()).toEqual([
      "check_orders -> load_orders",
      "check_orders_table -> report",
      "extract_events -> check_events",
      "extract_orders -> check_orders",
      "load_orders -> check_orders_table",
      "load_orders -> report",
    ]);
    const pre = tasks.find((t) => t.id === "check_orders")!;
    expect(pre).toMatchObject({ step: "fixture.check", canSkip: false, stream: "orders", with: { stream: "orders", at: "pre_load" } });
    expect((pre.with.checks as unknown[]).length).toBe(2);
    expect(tasks.find((t) => t.id === "check_orders_table")!.with).toMatchObject({ stream: "orders", sink: "main", at: "post_load" });
    // The table's asset is declared by its checks, so downstream pipelines start on checked data only.
    expect(tasks.find((t) => t.id === "check_orders_table")!.outlets).toEqual(["duckdb://main/orders"]);
    expect(tasks.find((t) => t.id === "load_orders")!.outlets).toBeUndefined();
  });

  it("say what is wrong with a check, where", async () => {
    const { diagnostics } = await load(`${PIPELINE}checks:
  orders:
    - not_null: [id]
      unique: [id]
    - severity: warn
    - range: { column: total }
    - regex: { column: email, pattern: "([a-z" }
    - row_count: { min: 1 }
      at: later
  refunds:
    - not_null: [id]
  events:
    - not_null: [id]
      at: post_load
`);
    expect(diagnostics.map(at)).toEqual([
      "XO_CONFIG_INVALID_VALUE checks.orders[0]@14 a check has one kind; found not_null and unique (found a mapping)",
      expect.stringMatching(/^XO_CONFIG_INVALID_VALUE checks\.orders\[1\]@16 a check needs one of: row_count, /),
      "XO_CONFIG_INVALID_VALUE checks.orders[2].range@17 range needs `min` or `max` (found a mapping)",
      'XO_CONFIG_INVALID_VALUE checks.orders[3].regex.pattern@18 not a valid regular expression (found the string "([a-z")',
      'XO_CONFIG_INVALID_VALUE checks.orders[4].at@20 expected one of "pre_load", "post_load" (found the string "later")',
      'XO_CONFIG_INVALID_VALUE checks.refunds@22 no stream named "refunds"',
    ]);
  });

  it("after the load need a load, and any check needs a plugin that runs checks", async () => {
    const ingestOnly = await load(`${PIPELINE}checks:
  events:
    - not_null: [id]
      at: post_load
`);
    expect(ingestOnly.diagnostics.map(at)).toEqual([
      'XO_CHECKS_NOT_LOADED checks.events@14 stream "events" has post_load checks, but the stream is ingest_only: nothing loads it',
    ]);
    const none = await load(`${PIPELINE}checks:\n  orders:\n    - not_null: [id]\n`, fixturePlugins());
    expect(none.diagnostics.map((d) => d.code)).toEqual(["XO_CHECKS_NO_STEP"]);
  });

  it("keep their baseline apart from stream cursors: no stream may be named like a step's state", async () => {
    const { diagnostics } = await load(PIPELINE.replace("    - name: events", "    - name: checks__check_orders"));
    expect(diagnostics.map(at)).toEqual([
      'XO_CONFIG_INVALID_VALUE source.streams[1].name@9 a stream name may not contain `__`, which names the saved state of steps (found "checks__check_orders")',
    ]);
  });

  it("parse with their defaults", () => {
    expect(checkSchema.parse({ unique: ["a", "b"] })).toEqual({ unique: ["a", "b"], severity: "fail" });
    expect(checkSchema.parse({ schema: { columns: { id: "integer" } } })).toEqual({ schema: { columns: { id: "integer" }, allow_new: true }, severity: "fail" });
  });
});

describe("alerts", () => {
  it("take one channel, checked by its notifier's schema, and a deadline for deadline_missed", async () => {
    const { diagnostics } = await load(`${PIPELINE}alerts:
  - on: [failure]
    chat: { connection: team, room: data }
  - on: [failure]
    chta: { connection: team }
  - on: [failure]
    chat: { connection: team }
    email: { to: [a@example.com] }
  - on: [success]
    chat: { rooms: x }
  - on: [deadline_missed, failur]
    chat: { connection: team }
`);
    expect(diagnostics.map(at)).toEqual([
      'XO_CONFIG_INVALID_VALUE alerts[4].on[1]@22 expected one of "failure", "retry", "pipeline_failure", "success", "check_warning", "deadline_missed" (found the string "failur")',
      'XO_PLUGIN_UNKNOWN alerts[1].chta@16 unknown notifier plugin "chta"',
      "XO_ALERT_CHANNEL alerts[2].email@19 an alert has one channel; found chat and email",
      'XO_CONFIG_UNKNOWN_KEY alerts[3].chat.rooms@21 unknown key "rooms"',
      "XO_CONFIG_INVALID_VALUE alerts[4].on@22 `deadline_missed` alerts need a `deadline:` block saying when a run is late",
    ]);
    expect(diagnostics.map((d) => d.hint)).toEqual([
      expect.stringContaining('did you mean "failure"'),
      expect.stringContaining('did you mean "chat"'),
      expect.stringContaining("one alert per channel"),
      expect.stringContaining('did you mean "room"'),
      expect.stringContaining("deadline: { after_queued: 2h }"),
    ]);
  });

  it("become Airflow notifiers on the task and DAG callbacks, and a Deadline Alert", async () => {
    const { pipeline, project, diagnostics } = await load(`${PIPELINE}alerts:
  - on: [failure, pipeline_failure, deadline_missed]
    chat: { connection: team, room: "{{ not a template }}" }
deadline: { after_queued: 1h30m }
`);
    expect(diagnostics).toEqual([]);
    const tasks = requireGraph(pipeline!, project.registry.template("ingest")!, project.registry);
    const render = (airflowVersion: 2 | 3) => emitDag({ pipeline: pipeline!, tasks, airflowVersion, header: ["test"], alerts: dagAlerts(pipeline!, project.registry) });
    const v3 = render(3);
    expect(v3).toContain("from chat.notifiers import ChatNotifier");
    expect(v3).toContain("from airflow.sdk import AsyncCallback, DeadlineAlert, DeadlineReference");
    expect(v3).toContain("reference=DeadlineReference.DAGRUN_QUEUED_AT");
    expect(v3).toContain("interval=datetime.timedelta(minutes=90)");
    expect(v3).toMatch(/"on_failure_callback": \[\n\s+ChatNotifier\(/);
    expect(v3).toMatch(/\n    on_failure_callback=\[\n\s+ChatNotifier\(/);
    // Config text renders to itself; the message is the core's own template.
    expect(v3).toContain(`room="{{ '{' }}{ not a template }}"`);
    expect(v3).toContain("shop: task {{ ti.task_id }} failed");
    const v2 = render(2);
    expect(v2).toContain('"sla": datetime.timedelta(minutes=90)');
    expect(v2).toMatch(/sla_miss_callback=\[\n\s+ChatNotifier\(/);
    expect(v2).not.toContain("DeadlineAlert");
  });
});

describe("schedules on datasets", () => {
  it("accept dataset URIs and refuse anything else with the cron message kept for strings", async () => {
    const ok = await load(PIPELINE.replace("  start_date: 2026-01-01\n", "  start_date: 2026-01-01\n  schedule: { assets: [duckdb://main/orders] }\n"));
    expect(ok.diagnostics).toEqual([]);
    expect(ok.pipeline!.config.pipeline.schedule).toEqual({ assets: ["duckdb://main/orders"] });
    const bad = await load(PIPELINE.replace("  start_date: 2026-01-01\n", "  start_date: 2026-01-01\n  schedule: { assets: [orders] }\n"));
    expect(bad.diagnostics.map(at)).toEqual([expect.stringMatching(/^XO_CONFIG_INVALID_VALUE pipeline\.schedule\.assets\[0\]@4 expected a dataset URI/)]);
    const cron = await load(PIPELINE.replace("  start_date: 2026-01-01\n", '  start_date: 2026-01-01\n  schedule: "61 * * * *"\n'));
    expect(cron.diagnostics.map(at)).toEqual([expect.stringMatching(/^XO_CONFIG_INVALID_VALUE pipeline\.schedule@4 expected a cron expression/)]);
  });

  it("read durations", () => {
    expect([durationMinutes("2h"), durationMinutes("90m"), durationMinutes("1d12h"), durationMinutes("2 hours"), durationMinutes("")]).toEqual([120, 90, 2160, undefined, undefined]);
  });
});
