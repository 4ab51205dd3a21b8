import { describe, expect, it } from "vitest";
import { indentUnit } from "./completion.js";
import { parseText } from "./ranges.js";
import { connectionsIn, referenceKind, referenceSlot, writtenFacts } from "./references.js";

describe("referenceKind", () => {
  it("knows the places core validates as references", () => {
    expect(referenceKind(["checks", "orders"], true)).toBe("stream");
    expect(referenceKind(["checks", "orders"], false)).toBeUndefined();
    expect(referenceKind(["steps", 0, "with", "stream"], false)).toBe("stream");
    expect(referenceKind(["steps", 2, "after", 0], false)).toBe("task");
    expect(referenceKind(["steps", 0, "when", "summary", 1, "task"], false)).toBe("task");
    expect(referenceKind(["sources", "crm", "sink"], false)).toBe("sink");
    expect(referenceKind(["alerts", 0, "slack", "connection"], false)).toBe("connection");
    expect(referenceKind(["sinks", "dw", "plugin"], false)).toBe("sinkPlugin");
    expect(referenceKind(["steps", "x", "uses"], false)).toBeUndefined();
    expect(referenceKind(["source", "streams", 0, "name"], false)).toBeUndefined();
  });

  it("finds the slot at the cursor, also a list item being typed", () => {
    const parsed = parseText("steps:\n  - id: a\n    after:\n      - lo\n");
    expect(referenceSlot(parsed, { line: 3, character: 10 })).toMatchObject({ kind: "task", path: ["steps", 0, "after", 0], isKey: false, range: { start: { line: 3, character: 8 } } });
    expect(referenceSlot(parseText("checks:\n  ord"), { line: 1, character: 5 })).toMatchObject({ kind: "stream", isKey: true });
    expect(referenceSlot(parseText("source:\n  plugin:"), { line: 1, character: 9 })).toMatchObject({ kind: "sourcePlugin", before: " " });
  });
});

describe("indentUnit", () => {
  it("reads the document's indentation step, not counting lists at their key's column", () => {
    expect(indentUnit(["a:", "    b: 1", "c:", "    d:", "        e: 1"])).toBe(4);
    expect(indentUnit(["streams:", "- name: a", "  target:", "    table: t"])).toBe(2);
    expect(indentUnit(["a: 1"])).toBe(2);
  });
});

describe("connectionsIn", () => {
  it("collects every `connection:` string at any depth", () => {
    expect(connectionsIn({ source: { connection: "crm" }, steps: [{ connection: "dw" }, { with: { connection: "x" } }], alerts: [{ slack: { connection: 3 } }] })).toEqual(["crm", "dw", "x"]);
  });
});

describe("writtenFacts", () => {
  it("reads the names a text that never validated writes itself", () => {
    const parsed = parseText("sources:\n  crm:\n    plugin: x\n    sink: dw\n    streams:\n      - name: a\n      - nam\nsinks:\n  dw:\n    connection: wh\nsteps:\n  - id: s1\n    uses: sql.run\n");
    expect(writtenFacts(parsed)).toEqual({
      streams: [{ name: "a", source: "crm", sink: "dw" }],
      sources: ["crm"],
      sinks: ["dw"],
      tasks: [{ id: "s1", step: "sql.run" }],
      connections: ["wh"],
    });
  });
});
