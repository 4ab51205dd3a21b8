// The document of the LSP benchmark: one valid pipeline file of exactly N lines, in the
// shape of examples/sample-shop.yaml with as many API streams as it takes, and the typo
// that both servers must find in it. The project around it is the parse benchmark's
// (parse/fixtures.mjs: package.json with the api, duckdb and ingest plugins, and
// xo-foundry.yaml), so the file's JSON Schema and its diagnostics come from real plugins.
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { XO_PACKAGE_JSON, xoProjectYaml, pipelineSpec } from "../parse/fixtures.mjs";

const HEADER = (name) => [
  `# LSP benchmark pipeline ${name}: the shape of examples/sample-shop.yaml, many streams.`,
  "pipeline:",
  `  name: ${name}`,
  '  description: "Many streams from one API, loaded daily into DuckDB."',
  '  schedule: "@daily"',
  "  start_date: 2026-01-01",
  "  tags: [bench, lsp]",
  "  load_strategy: incremental",
  "",
  "source:",
  "  plugin: api",
  "  connection: sample_shop",
  "  auth:",
  "    type: bearer",
  "  page_size: 100",
  "  streams:",
];

// Two stream shapes, taken in turn (sample-shop's customers and orders); 10 and 14 lines.
function streamLines(i) {
  const name = `s${String(i).padStart(4, "0")}`;
  if (i % 2 === 0) {
    return [
      `    - name: ${name}`,
      `      path: customers/${name}`,
      "      record_path: data",
      "      pagination:",
      "        type: offset",
      "      target:",
      `        table: ${name}`,
      "        mode: merge",
      "        keys: [id]",
      "",
    ];
  }
  return [
    `    - name: ${name}`,
    `      path: orders/${name}`,
    "      params:",
    '        updated_since: "{window_start}"',
    '        updated_before: "{window_end}"',
    "      record_path: items",
    "      pagination:",
    "        type: cursor",
    "        next_cursor_path: next_cursor",
    "        limit_param: limit",
    "      target:",
    `        table: ${name}`,
    "        keys: [id]",
    "",
  ];
}

/** The smallest document: the header and two streams. */
export const MIN_LINES = HEADER("x").length + streamLines(0).length + streamLines(1).length;

/** The typo: `record_path` misspelt, an unknown key to both xo-foundry and the JSON Schema. */
export const KEY = "record_path";
export const TYPO = "recrod_path";

/**
 * A valid pipeline of exactly `lines` lines (the last ones `#` comment lines where the streams
 * do not fill it), and where the typo goes: the `record_path` key of the middle stream, so a
 * server that re-checks the whole file pays for all of it.
 */
export function pipelineDocument(name, lines) {
  if (lines < MIN_LINES) throw new Error(`a pipeline document needs at least ${MIN_LINES} lines, got ${lines}`);
  const out = HEADER(name);
  const keyLines = [];
  for (let i = 0; ; i++) {
    const stream = streamLines(i);
    if (out.length + stream.length > lines) break;
    keyLines.push(out.length + stream.findIndex((l) => l.trimStart().startsWith(`${KEY}:`)));
    out.push(...stream);
  }
  while (out.length < lines) out.push("#");
  const line = keyLines[Math.floor(keyLines.length / 2)];
  const character = out[line].indexOf(KEY);
  return {
    text: out.join("\n") + "\n",
    lines: out.length,
    streams: keyLines.length,
    // 0-based LSP position of the key to misspell.
    typo: { line, character, length: KEY.length },
  };
}

/** Writes the project (the parse benchmark's package.json and xo-foundry.yaml) and the pipeline file. */
export async function writeLspProject(dir, name, lines) {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, "package.json"), JSON.stringify({ ...XO_PACKAGE_JSON, name: "xo-foundry-bench-lsp" }, null, 2) + "\n");
  await writeFile(path.join(dir, "xo-foundry.yaml"), xoProjectYaml(pipelineSpec(name)));
  const doc = pipelineDocument(name, lines);
  const file = path.join(dir, `${name}.yaml`);
  await writeFile(file, doc.text);
  return { file, ...doc };
}
