import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  PYTHON_KEYWORDS,
  PYTHON_RESERVED_NAMES,
  PYTHON_SOFT_KEYWORDS,
  compareCodePoints,
  pyComment,
  pyIdentifier,
  pyLiteral,
  uniqueIdentifiers,
} from "./python.js";

// Strings that have broken code generators before: quote and escape games, template
// syntaxes of the layers between YAML and bash, invisible and bidi characters, broken
// UTF-16, and sheer size.
const HOSTILE: readonly string[] = [
  "",
  " ",
  'say "hi"',
  "it's",
  `both ' and "`,
  '"""',
  "'''",
  '""""""',
  'x"""; import os; os.system("id"); """',
  "x'''; __import__('os').system('id'); '''",
  "back\\slash",
  "\\",
  "trailing backslash\\",
  "\\n is not a newline",
  "\\x00\\u0000\\N{BULLET}",
  "line\nbreak",
  "crlf\r\nline",
  "\r",
  "nul\u0000byte",
  "tab\tvt\u000bff\u000cfs\u001cgs\u001drs\u001e",
  "\u001b[31mansi\u001b[0m",
  "del\u007f",
  "nel\u0085line\u2028sep\u2029para",
  "{{ ds }}",
  "{{ conn.secret.password }}",
  "{% raw %}{{ 7 * 7 }}{% endraw %}",
  "{# jinja comment #}",
  "${HOME}",
  "$(rm -rf /)",
  "`id`",
  "; rm -rf / #",
  "None",
  "True",
  "class",
  "import",
  "match",
  "__import__('os').system('id')",
  "emoji \u{1f600} family \u{1f469}\u200d\u{1f469}\u200d\u{1f467}",
  "combining e\u0301 and A\u030a vs \u00c5",
  "lone high \ud800 here",
  "lone low \udc00 here",
  "reversed pair \ude00\ud83d",
  "\ud83d",
  "RTL override \u202egnp.exe",
  "BOM \ufeff zero width \u200b",
  "\u00ff\u0100\uffff\u{10000}\u{10ffff}",
  "# coding: utf-7",
  "+AAo-print('PWNED')",
  "mixed \u00e9\u4e2d\u6587 \u0627\u0644\u0639\u0631\u0628\u064a\u0629".repeat(2000),
];

const workdir = mkdtempSync(path.join(tmpdir(), "xo-python-test-"));
afterAll(() => rmSync(workdir, { recursive: true, force: true }));

let counter = 0;
function runPython(source: string): string {
  const file = path.join(workdir, `case_${counter++}.py`);
  writeFileSync(file, source, "ascii");
  return execFileSync("python3", [file], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
}

function isAscii(s: string): boolean {
  return /^[\x00-\x7f]*$/.test(s);
}

/**
 * Evaluates each literal with `ast.literal_eval` (so a literal that is really code
 * fails) and returns the values through JSON, which both sides read losslessly.
 */
function evalLiterals(literals: readonly string[]): unknown[] {
  const script = [
    "import ast, json",
    `SOURCES = [${literals.map((l) => pyLiteral(l)).join(", ")}]`,
    // Parse the literals as written in a file too, not only as strings handed to literal_eval.
    `AS_CODE = [${literals.join(", ")}]`,
    "values = [ast.literal_eval(s) for s in SOURCES]",
    "assert values == AS_CODE",
    "print(json.dumps(values, ensure_ascii=True))",
  ].join("\n");
  return JSON.parse(runPython(script)) as unknown[];
}

/** Deterministic doubles spread over every exponent, not just the friendly ones. */
function randomFloats(count: number): number[] {
  const view = new DataView(new ArrayBuffer(8));
  let seed = 0x2545f491;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
  const out: number[] = [];
  while (out.length < count) {
    view.setUint32(0, next());
    view.setUint32(4, next());
    const n = view.getFloat64(0);
    if (Number.isFinite(n) && !Number.isInteger(n)) out.push(n);
  }
  return out;
}

describe("pyLiteral", () => {
  it("round-trips the hostile corpus through Python exactly", () => {
    const literals = HOSTILE.map((s) => pyLiteral(s));
    for (const l of literals) expect(isAscii(l)).toBe(true);
    const back = evalLiterals(literals) as string[];
    expect(back).toHaveLength(HOSTILE.length);
    // JSON keeps lone surrogates as \uXXXX escapes, so comparing strings compares code units.
    HOSTILE.forEach((s, i) => expect(back[i]).toBe(s));
  });

  it("keeps an astral character one code point and a lone surrogate one code point", () => {
    const script = [
      `print(len(${pyLiteral("\u{1f600}")}), len(${pyLiteral("\ud800")}), len(${pyLiteral("\ude00\ud83d")}))`,
    ].join("\n");
    expect(runPython(script).trim()).toBe("1 1 2");
    expect(pyLiteral("\u{1f600}")).toBe('"\\U0001f600"');
    expect(pyLiteral("\ud800")).toBe('"\\ud800"');
  });

  it("writes readable escapes and picks the quote that needs none", () => {
    expect(pyLiteral("plain")).toBe('"plain"');
    expect(pyLiteral('a "b"')).toBe("'a \"b\"'");
    expect(pyLiteral(`a 'b' "c"`)).toBe(`"a 'b' \\"c\\""`);
    expect(pyLiteral("a\nb\t\u0000\u2028\\")).toBe('"a\\nb\\t\\x00\\u2028\\\\"');
  });

  it("writes numbers as Python's repr does and refuses values without a literal", () => {
    const floats: number[] = [0.1, 1 / 3, -2.5, 1e-7, 1.5e-5, 0.0001, 0.00012, 123456.789, 5e-324, 2.5e-300, -6.02214076e-23, 1234567890123.5];
    floats.push(...randomFloats(300));
    const ints = [0, 1, -1, 42, 2 ** 53, 2 ** 53 + 2, 1e21, Number.MAX_VALUE, -Number.MAX_SAFE_INTEGER];
    const literals = [...floats, ...ints].map((n) => pyLiteral(n));
    const script = [
      "import ast, json",
      `SOURCES = [${literals.map((l) => pyLiteral(l)).join(", ")}]`,
      "values = [ast.literal_eval(s) for s in SOURCES]",
      `print(json.dumps({"repr": [repr(v) for v in values], "types": [type(v).__name__ for v in values], "values": values}))`,
    ].join("\n");
    const out = JSON.parse(runPython(script)) as { repr: string[]; types: string[]; values: number[] };
    expect(out.repr).toEqual(literals);
    expect(out.types).toEqual([...floats.map(() => "float"), ...ints.map(() => "int")]);
    out.values.forEach((v, i) => expect(Object.is(v, [...floats, ...ints][i])).toBe(true));
    expect(pyLiteral(1e21)).toBe("1000000000000000000000");
    expect(pyLiteral(12345678901234567890n)).toBe("12345678901234567890");
    for (const bad of [NaN, Infinity, -Infinity, -0]) expect(() => pyLiteral(bad)).toThrow(RangeError);
  });

  it("writes containers, sorting dict keys by code point", () => {
    const value = {
      "\u{1f600}": 1,
      "\uffff": 2,
      b: [true, false, null, undefined],
      a: { z: "", y: [] },
      "10": {},
      "9": "nine",
    };
    expect(pyLiteral(value)).toBe(
      '{"10": {}, "9": "nine", "a": {"y": [], "z": ""}, "b": [True, False, None, None], "\\uffff": 2, "\\U0001f600": 1}',
    );
    const script = [
      "import ast, json",
      `v = ast.literal_eval(${pyLiteral(pyLiteral(value))})`,
      "print(json.dumps([list(v) == sorted(v), v['b']]))",
    ].join("\n");
    expect(JSON.parse(runPython(script))).toEqual([true, [true, false, null, null]]);
  });

  it("formats big literals over lines deterministically when asked", () => {
    const value = { env: { B: "{{ run_id }}", A: "{{ ds }}" }, empty: [], list: [1, "two"] };
    const text = pyLiteral(value, { indent: 4, level: 1 });
    expect(text).toBe(
      [
        "{",
        '        "empty": [],',
        '        "env": {',
        '            "A": "{{ ds }}",',
        '            "B": "{{ run_id }}",',
        "        },",
        '        "list": [',
        "            1,",
        '            "two",',
        "        ],",
        "    }",
      ].join("\n"),
    );
    expect(pyLiteral(value, { indent: 4, level: 1 })).toBe(text);
    const back = JSON.parse(runPython(`import json\nprint(json.dumps(${text}))`)) as unknown;
    expect(back).toEqual({ empty: [], env: { A: "{{ ds }}", B: "{{ run_id }}" }, list: [1, "two"] });
  });

  it("refuses values it cannot represent faithfully", () => {
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    expect(() => pyLiteral(cyclic)).toThrow(/cyclic/);
    expect(() => pyLiteral(new Date(0))).toThrow(/Date/);
    expect(() => pyLiteral(new Map())).toThrow(/Map/);
    expect(() => pyLiteral(() => 1)).toThrow(/function/);
    expect(() => pyLiteral(Symbol("s"))).toThrow(/symbol/);
    const shared = { a: 1 };
    expect(pyLiteral([shared, shared])).toBe('[{"a": 1}, {"a": 1}]');
  });
});

describe("compareCodePoints", () => {
  it("orders like Python's sorted(), not like UTF-16", () => {
    const words = ["\u{1f600}", "\uffff", "\ue000", "a", "B", "\ud800", "ab", "a\u{10000}", "a\uffff", ""];
    const ours = [...words].sort(compareCodePoints);
    const script = `import json\nprint(json.dumps(sorted(${pyLiteral(words)})))`;
    expect(JSON.parse(runPython(script))).toEqual(ours);
  });
});

describe("pyIdentifier", () => {
  const names = [
    ...HOSTILE,
    ...PYTHON_KEYWORDS,
    ...PYTHON_SOFT_KEYWORDS,
    ...PYTHON_RESERVED_NAMES,
    "1abc",
    "9",
    "a b",
    "a-b",
    "ok_name",
    "_private",
    "__dunder__",
    "\u00e9t\u00e9",
    "\u0661\u0662",
  ];

  it("yields legal, non-keyword, non-builtin ASCII identifiers (checked by Python itself)", () => {
    const ids = names.map(pyIdentifier);
    for (const id of ids) expect(/^[A-Za-z_][A-Za-z0-9_]*$/.test(id)).toBe(true);
    const script = [
      "import builtins, json, keyword",
      `IDS = ${pyLiteral(ids)}`,
      "bad = [s for s in IDS if not s.isidentifier() or keyword.iskeyword(s) or keyword.issoftkeyword(s) or s in dir(builtins)]",
      "print(json.dumps({'bad': bad, 'builtins': dir(builtins), 'kw': keyword.kwlist, 'soft': keyword.softkwlist}))",
    ].join("\n");
    const out = JSON.parse(runPython(script)) as { bad: string[]; builtins: string[]; kw: string[]; soft: string[] };
    expect(out.bad).toEqual([]);
    // Our lists must cover the running Python's; they may list newer names too.
    const reserved = new Set([...PYTHON_KEYWORDS, ...PYTHON_SOFT_KEYWORDS, ...PYTHON_RESERVED_NAMES]);
    expect([...out.builtins, ...out.kw, ...out.soft].filter((n) => !reserved.has(n))).toEqual([]);
  });

  it("keeps good names and legalizes the rest predictably", () => {
    expect(pyIdentifier("extract_orders")).toBe("extract_orders");
    expect(pyIdentifier("class")).toBe("class_");
    expect(pyIdentifier("id")).toBe("id_");
    expect(pyIdentifier("DAG")).toBe("DAG_");
    expect(pyIdentifier("_")).toBe("__");
    expect(pyIdentifier("")).toBe("__");
    expect(pyIdentifier("1abc")).toBe("_1abc");
    expect(pyIdentifier("a-b c")).toBe("a_b_c");
    expect(pyIdentifier("\u{1f600}x")).toBe("_x");
  });
});

describe("uniqueIdentifiers", () => {
  it("breaks clashes the same way whatever the input order", () => {
    const names = ["a-b", "a_b", "a b", "class", "class_", "a_b_2", "dag"];
    const expected = uniqueIdentifiers(names, ["dag_"]);
    expect(Object.fromEntries(expected)).toEqual({
      "a b": "a_b",
      "a-b": "a_b_2",
      a_b: "a_b_3",
      a_b_2: "a_b_2_2",
      class: "class_",
      class_: "class__2",
      dag: "dag__2",
    });
    for (const order of [[...names].reverse(), [...names].sort(), [names[3]!, ...names, names[0]!]]) {
      expect(Object.fromEntries(uniqueIdentifiers(order, ["dag_"]))).toEqual(Object.fromEntries(expected));
    }
    expect(new Set(expected.values()).size).toBe(expected.size);
  });
});

describe("pyComment", () => {
  it("keeps every hostile text inside one comment line and the file ASCII", () => {
    const lines = HOSTILE.map(pyComment);
    for (const line of lines) {
      expect(line.startsWith("#")).toBe(true);
      expect(isAscii(line)).toBe(true);
      expect(line).toMatch(/^[\x20-\x7e]*$/);
    }
    // The comments open the file, where an encoding cookie would be honoured.
    const source = `${lines.join("\n")}\nimport io, json, tokenize\n` +
      "toks = [t for t in tokenize.generate_tokens(io.StringIO(open(__file__).read()).readline) if t.type == tokenize.COMMENT]\n" +
      "print(json.dumps({'comments': len(toks), 'rows': [t.start[0] for t in toks]}))\n";
    const out = JSON.parse(runPython(source)) as { comments: number; rows: number[] };
    expect(out.comments).toBe(HOSTILE.length);
    expect(out.rows).toEqual(HOSTILE.map((_, i) => i + 1));
  });

  it("cannot switch the file's encoding", () => {
    // Unneutralized, this pair makes Python decode the file as UTF-7 and run the print.
    const source = `${pyComment("coding: utf-7")}\n${pyComment("+AAo-print('PWNED')")}\nprint('safe')\n`;
    expect(runPython(source)).toBe("safe\n");
    expect(pyComment("vim: set fileencoding=utf-7 :")).toBe("# vim: set fileencoding =utf-7 :");
  });

  it("reads naturally for ordinary text", () => {
    expect(pyComment("Generated by xo-foundry 0.1.0. DO NOT EDIT.")).toBe("# Generated by xo-foundry 0.1.0. DO NOT EDIT.");
    expect(pyComment("")).toBe("#");
    expect(pyComment("two\nlines\r\n")).toBe("# two lines");
    expect(pyComment("caf\u00e9 \u{1f600}")).toBe("# caf\\xe9 \\U0001f600");
  });
});
