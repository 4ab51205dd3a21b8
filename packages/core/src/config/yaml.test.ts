import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { formatDiagnostic, type Diagnostic } from "../errors.js";
import { fixtureProject, loadFixture, PIPELINE, removeFixtureProjects } from "../__fixtures__/load.js";
import { parseYaml, readYamlFile, YAML_LIMITS } from "./yaml.js";

afterEach(removeFixtureProjects);

const at = (d: Diagnostic) => `${d.code}@${d.line}:${d.column}`;
const parse = (text: string) => parseYaml(text, "p.yaml");

/** `count` keys `k0: 0` ... one per line. */
const manyKeys = (count: number) => Array.from({ length: count }, (_, i) => `k${i}: ${i}\n`).join("");

/** Loads raw bytes as pipeline.yaml through loadPipeline, as the CLI does. */
async function loadBytes(bytes: Uint8Array | string) {
  const fixture = await fixtureProject({});
  await writeFile(path.join(fixture.dir, "pipeline.yaml"), bytes);
  return fixture.load("pipeline.yaml");
}

describe("the limits of a YAML file", () => {
  it(`refuses nesting deeper than ${YAML_LIMITS.depth} levels before the yaml library recurses into it`, () => {
    expect(YAML_LIMITS.depth).toBe(64);
    // 3,000 nested sequences in 6 KB used to overflow the stack.
    const blockSeqs = parse(`${"- ".repeat(3000)}x\n`);
    expect(blockSeqs.diagnostics.map(at)).toEqual(["XO_CONFIG_DEPTH_LIMIT@1:129"]);
    expect(blockSeqs.diagnostics[0]!.message).toBe("the YAML nests deeper than 64 levels");
    expect(blockSeqs.diagnostics[0]!.hint).toMatch(/flatten/);
    expect(parse(`a: ${"[".repeat(3000)}${"]".repeat(3000)}\n`).diagnostics.map(at)).toEqual(["XO_CONFIG_DEPTH_LIMIT@1:67"]);
    expect(parse(`${"{a: ".repeat(100_000)}1${"}".repeat(100_000)}`).diagnostics.map(at)).toEqual(["XO_CONFIG_DEPTH_LIMIT@1:257"]);
    // Exactly at the limit is fine.
    expect(parse(`${"- ".repeat(64)}x\n`).diagnostics).toEqual([]);
    expect(parse(`${"- ".repeat(65)}x\n`).diagnostics.map(at)).toEqual(["XO_CONFIG_DEPTH_LIMIT@1:129"]);
  });

  it("counts the nesting that aliases add, and refuses an alias to a node that contains it", () => {
    const deep = (n: number, inner: string) => `${"[".repeat(n)}${inner}${"]".repeat(n)}`;
    const chained = parse(`a: &a ${deep(40, "x")}\nb: ${deep(30, "*a")}\n`);
    expect(chained.diagnostics.map(at)).toEqual(["XO_CONFIG_DEPTH_LIMIT@2:34"]);
    expect(chained.diagnostics[0]!.message).toBe("the YAML nests deeper than 64 levels once alias *a is expanded");
    expect(parse(`a: &a ${deep(30, "x")}\nb: ${deep(30, "*a")}\n`).diagnostics).toEqual([]);

    const cycle = parse("steps: &s\n  - id: a\n    after: *s\n");
    expect(cycle.diagnostics.map(at)).toEqual(["XO_CONFIG_YAML_SYNTAX@3:12"]);
    expect(cycle.diagnostics[0]!.message).toMatch(/alias \*s refers to a list or mapping that contains it/);
    expect(cycle.value).toBeUndefined();
  });

  it(`refuses more than ${YAML_LIMITS.keys} keys, counted before the document is built`, () => {
    expect(YAML_LIMITS.keys).toBe(10_000);
    expect(parse(manyKeys(10_000)).diagnostics).toEqual([]);
    const over = parse(manyKeys(10_001));
    expect(over.diagnostics.map(at)).toEqual(["XO_CONFIG_KEY_LIMIT@10001:1"]);
    expect(over.diagnostics[0]!.message).toBe("the file has more than 10000 keys");
    expect(parse(`a: {${Array.from({ length: 10_001 }, (_, i) => `k${i}: 1`).join(", ")}}\n`).diagnostics.map((d) => d.code)).toEqual(["XO_CONFIG_KEY_LIMIT"]);
  });

  it(`refuses files over ${YAML_LIMITS.bytes} bytes (1 MiB) without parsing them`, async () => {
    expect(YAML_LIMITS.bytes).toBe(1024 * 1024);
    // The 4.6 MB file with 200k keys that took over 11 minutes.
    const huge = manyKeys(200_000).padEnd(4_600_000, "#");
    const started = performance.now();
    const { diagnostics, pipeline } = await loadBytes(huge);
    console.log(`4.6 MB, 200k keys: refused in ${(performance.now() - started).toFixed(0)} ms`);
    expect(pipeline).toBeUndefined();
    expect(diagnostics.map((d) => d.code)).toEqual(["XO_CONFIG_SIZE_LIMIT"]);
    expect(diagnostics[0]).toMatchObject({ file: expect.stringMatching(/pipeline\.yaml$/), message: "the file is 4600000 bytes, over the limit of 1048576 bytes (1 MiB)" });
    expect(parse("#".repeat(YAML_LIMITS.bytes + 1)).diagnostics.map((d) => d.code)).toEqual(["XO_CONFIG_SIZE_LIMIT"]);
    // Multi-byte characters count as bytes.
    expect(parse(`# ${"é".repeat(YAML_LIMITS.bytes / 2)}`).diagnostics.map((d) => d.code)).toEqual(["XO_CONFIG_SIZE_LIMIT"]);
  });
});

describe("duplicate keys", () => {
  it("are found in one pass over the document: many keys cost linear time", () => {
    // With the yaml library's `uniqueKeys`, every key is compared with every earlier one:
    // 16k keys took 6 s. Four times the keys must cost about four times the time, not 16.
    const times: number[] = [];
    for (const n of [2_500, 10_000]) {
      const text = `${manyKeys(n - 1)}k0: again\n`;
      const started = performance.now();
      const { diagnostics } = parse(text);
      times.push(performance.now() - started);
      expect(diagnostics.map(at)).toEqual([`XO_CONFIG_YAML_SYNTAX@${n}:1`]);
      expect(diagnostics[0]!.message).toBe('YAML syntax error: duplicate key "k0" (first at line 1, column 1)');
      expect(diagnostics[0]!.path).toBe("k0");
    }
    console.log(`duplicate keys: 2,500 keys in ${times[0]!.toFixed(0)} ms, 10,000 keys in ${times[1]!.toFixed(0)} ms`);
  });

  it("are reported at the second key with the path and the first key's position", () => {
    const { diagnostics } = parse("pipeline:\n  name: a\n  tags: [x]\n  name: b\nsource:\n  streams:\n    - {name: a, name: b}\n");
    expect(diagnostics.map((d) => formatDiagnostic(d))).toEqual([
      'p.yaml:4:3 error XO_CONFIG_YAML_SYNTAX\n  pipeline.name: YAML syntax error: duplicate key "name" (first at line 2, column 3)\n  hint: fix the YAML at this position',
      'p.yaml:7:17 error XO_CONFIG_YAML_SYNTAX\n  source.streams[0].name: YAML syntax error: duplicate key "name" (first at line 7, column 8)\n  hint: fix the YAML at this position',
    ]);
  });

  it("include keys that YAML tells apart but that become the same property", () => {
    // `1` and `"1"` are different YAML scalars, but one would silently replace the other.
    expect(parse("1: a\n'1': b\n").diagnostics.map(at)).toEqual(["XO_CONFIG_YAML_SYNTAX@2:1"]);
    expect(parse("true: a\n'true': b\n").diagnostics.map(at)).toEqual(["XO_CONFIG_YAML_SYNTAX@2:1"]);
  });
});

describe("__proto__ keys", () => {
  it("are an unknown key with its position, wherever they are and however they are quoted", async () => {
    for (const [yaml, where, p] of [
      [`__proto__:\n  x: 1\n${PIPELINE}`, "1:1", "__proto__"],
      [PIPELINE.replace("start_date:", "'__proto__': {retries: 9}\n  start_date:"), "3:3", "pipeline.__proto__"],
      [PIPELINE.replace("path: /orders", 'path: /orders\n      target: {"__proto__": {table: x}}'), "9:16", "source.streams[0].target.__proto__"],
      // A record (env names are free): zod dropped the key without a word.
      [`${PIPELINE}runner:\n  type: kubernetes\n  image: i\n  env:\n    __proto__: x\n`, "13:5", "runner.env.__proto__"],
    ] as const) {
      const { diagnostics, pipeline } = await loadFixture(yaml);
      expect(pipeline).toBeUndefined();
      expect(diagnostics.map(at), yaml).toEqual([`XO_CONFIG_UNKNOWN_KEY@${where}`]);
      expect(diagnostics[0]).toMatchObject({ message: 'unknown key "__proto__"', path: p });
    }
  });

  it("cannot set a config object's prototype through the project defaults", async () => {
    // It used to: deepMerge assigned `out.__proto__ = {retries: 9}`, so retries silently became 9.
    const { diagnostics, pipeline } = await loadFixture(PIPELINE.replace("start_date:", "__proto__:\n    retries: 9\n  start_date:"), "defaults:\n  pipeline:\n    owner: data\n");
    expect(pipeline).toBeUndefined();
    expect(diagnostics.map(at)).toEqual(["XO_CONFIG_UNKNOWN_KEY@3:3"]);
    expect(({} as Record<string, unknown>).retries).toBeUndefined();
  });

  it("are refused in the project file too", async () => {
    // `defaults.landing` is a loose object: zod dropped the key without a word.
    const { project } = await fixtureProject({ "xo-foundry.yaml": "defaults:\n  landing:\n    __proto__: {uri: 'file:///elsewhere'}\n" });
    expect(project.diagnostics.map(at)).toEqual(["XO_CONFIG_UNKNOWN_KEY@3:5"]);
    expect(project.diagnostics[0]!.path).toBe("defaults.landing.__proto__");
  });
});

describe("encoding", () => {
  it("reports bytes that are not UTF-8 at their line and column, with the byte offset and how to fix it", async () => {
    const latin1 = Buffer.from(PIPELINE.replace("name: shop", "name: shop\n  description: Caf\u00e9 orders"), "latin1");
    const { diagnostics, pipeline } = await loadBytes(latin1);
    expect(pipeline).toBeUndefined();
    expect(diagnostics.map(at)).toEqual(["XO_CONFIG_NOT_UTF8@3:19"]);
    expect(diagnostics[0]!.message).toBe(`not UTF-8: byte 0xE9 at byte offset ${latin1.indexOf(0xe9)} does not start a valid UTF-8 character`);
    expect(diagnostics[0]!.hint).toMatch(/save the file as UTF-8/);
    expect(formatDiagnostic(diagnostics[0]!)).toMatch(/^\S*pipeline\.yaml:3:19 error XO_CONFIG_NOT_UTF8\n {2}not UTF-8: /);
  });

  it("counts columns in characters after valid multi-byte text, and finds a sequence cut off at the end", () => {
    const bytes = Buffer.concat([Buffer.from("a: ü€😀 "), Buffer.from([0xff]), Buffer.from("\n")]);
    expect(parseYaml(bytes, "p.yaml").diagnostics.map(at)).toEqual(["XO_CONFIG_NOT_UTF8@1:9"]);
    const cut = Buffer.concat([Buffer.from("a: b\nc: d"), Buffer.from("€").subarray(0, 2)]);
    const { diagnostics } = parseYaml(cut, "p.yaml");
    expect(diagnostics.map(at)).toEqual(["XO_CONFIG_NOT_UTF8@2:5"]);
    expect(diagnostics[0]!.message).toContain("byte 0xE2 at byte offset 9");
  });

  it("accepts a UTF-8 byte order mark and keeps positions as editors show them", async () => {
    const { diagnostics, pipeline } = await loadBytes(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(PIPELINE.replace("name: shop", "name: shop\n  description: Café"))]));
    expect(diagnostics).toEqual([]);
    expect(pipeline!.config.pipeline.description).toBe("Café");
    const bad = await loadBytes(Buffer.from(`\ufeff${PIPELINE.replace("pipeline:", "pipeline:\n  shedule: x")}`));
    expect(bad.diagnostics.map(at)).toEqual(["XO_CONFIG_UNKNOWN_KEY@2:3"]);
  });

  it("reads files through the same checks", async () => {
    const fixture = await fixtureProject({});
    const file = path.join(fixture.dir, "x.yaml");
    await writeFile(file, Buffer.from([0x61, 0x3a, 0x20, 0xe9, 0x0a]));
    expect((await readYamlFile(file, "x.yaml")).diagnostics.map(at)).toEqual(["XO_CONFIG_NOT_UTF8@1:4"]);
    expect((await readYamlFile(path.join(fixture.dir, "missing.yaml"), "missing.yaml")).diagnostics.map((d) => d.code)).toEqual(["XO_CONFIG_NOT_FOUND"]);
    expect((await readYamlFile(fixture.dir, "dir")).diagnostics.map((d) => d.code)).toEqual(["XO_CONFIG_NOT_FOUND"]);
  });

  it("reads a file of exactly the size limit whole, and refuses one byte more", async () => {
    const fixture = await fixtureProject({});
    const file = path.join(fixture.dir, "big.yaml");
    const text = (n: number) => `a: 1\n${"#".repeat(n - 6)}\n`;
    await writeFile(file, text(YAML_LIMITS.bytes));
    const read = await readYamlFile(file, "big.yaml");
    expect(read.diagnostics).toEqual([]);
    expect(read.value).toEqual({ a: 1 });
    await writeFile(file, text(YAML_LIMITS.bytes + 1));
    expect((await readYamlFile(file, "big.yaml")).diagnostics.map((d) => d.code)).toEqual(["XO_CONFIG_SIZE_LIMIT"]);
  });
});
