/**
 * Hostile strings through the whole path a user's YAML takes: the YAML parser,
 * validation, the template and the Python serializer. Python itself then reads
 * the generated file back, and every value must arrive unchanged, as data.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { repo, run, sandbox, xo } from "./helpers.js";

const HOSTILE = [
  'say "hi" and it\'s',
  '"""; import os; os.system("id"); """',
  "'''; __import__('os').system('id'); '''",
  "trailing backslash\\",
  "line\nbreak\r\nand crlf",
  "nul\u0000byte and tab\t",
  "sep\u2028para\u2029nel\u0085",
  "{{ ds }} {{ conn.sample_shop.password }}",
  "{% raw %}{{ 7 * 7 }}{% endraw %}{# c #}",
  "${HOME} $(rm -rf /) `id` ; rm -rf / #",
  "None",
  "class",
  "emoji \u{1f600} e\u0301 \u202egnp.exe",
  "lone \ud800 surrogate",
  "# -*- coding: utf-7 -*-",
];

/**
 * Every free-text config field whose value reaches the generated Python file
 * (`schedule` is checked against cron and Airflow's presets, so it cannot be hostile).
 */
function hostilePipeline(value: string, tags: readonly string[]): string {
  const q = (s: string) => JSON.stringify(s); // JSON strings are YAML double-quoted scalars
  return `pipeline:
  name: hostile
  description: ${q(value)}
  schedule: "0 6 * * *"
  start_date: 2026-01-01
  owner: ${q(value)}
  tags: [${tags.map(q).join(", ")}]
source:
  plugin: api
  base_url: http://127.0.0.1:9/v1
  streams:
    - name: items
      path: items
runner:
  command: ${q(value)}
`;
}

const INSPECT = path.join(repo, "templates/ingest/src/__fixtures__/inspect_dag.py");

let project: Awaited<ReturnType<typeof sandbox>>;
beforeAll(async () => {
  project = await sandbox(Object.fromEntries(HOSTILE.map((v, i) => [`p${i}/hostile.yaml`, hostilePipeline(v, HOSTILE)])));
});
afterAll(() => project.remove());

describe("hostile strings in every field that reaches Python", () => {
  it.each(HOSTILE.map((value, i) => ({ i, value })))("arrive unchanged as data: %#", async ({ i, value }) => {
    const out = path.join(project.dir, `out${i}`);
    const r = await xo(["generate-dag", path.join(project.dir, `p${i}/hostile.yaml`), "-o", out]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const file = path.join(out, "hostile.py");
    const source = await readFile(file, "utf8");
    expect(/^[\x00-\x7f]*$/.test(source)).toBe(true);
    const inspected = await run("python3", [INSPECT, file]);
    expect(inspected.stderr).toBe("");
    const [dag] = JSON.parse(inspected.stdout) as [
      { dag: Record<string, unknown>; tasks: { task_id: string; bash_command: { literal: string } }[] },
    ];
    const kwargs = dag.dag;
    expect(kwargs.description).toBe(value);
    expect(kwargs.doc_md === value || kwargs.doc_md === `${value}\n`).toBe(true);
    expect(kwargs.schedule).toBe("0 6 * * *");
    expect(kwargs.tags).toEqual(HOSTILE);
    expect((kwargs.default_args as Record<string, unknown>).owner).toBe(value);
    expect(dag.tasks).toHaveLength(2);
    for (const task of dag.tasks) {
      // literal(): Airflow runs the command as written, the runner command unchanged.
      expect(task.bash_command).toEqual({
        literal: `${value} task p${i}/hostile.yaml ${task.task_id} --logical-date "$XO_LOGICAL_DATE" --run-id "$XO_RUN_ID"`,
      });
    }
  });
});
