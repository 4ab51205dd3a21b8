import { describe, expect, it } from "vitest";
import { cursorContext, keyAt } from "./cursor.js";

/** The context at the `‸` in `text` (which is removed). */
function at(text: string) {
  const offset = text.indexOf("‸");
  const before = text.slice(0, offset).split("\n");
  const lines = (text.slice(0, offset) + text.slice(offset + 1)).split("\n");
  return cursorContext(lines, before.length - 1, before[before.length - 1]!.length);
}

describe("cursorContext", () => {
  it("finds the mapping of a key being typed from indentation", () => {
    expect(at("pipeline:\n  name: a\n  sta‸\n")).toEqual({ kind: "key", path: ["pipeline"], partial: "sta", column: 2, listItem: false });
    expect(at("pipeline:\n  name: a\n‸")).toEqual({ kind: "key", path: [], partial: "", column: 0, listItem: false });
    expect(at("source:\n  auth:\n    type: bearer\n\n    ‸")).toMatchObject({ kind: "key", path: ["source", "auth"] });
  });

  it("counts list items, also in lists at their key's indentation", () => {
    const text = "source:\n  streams:\n    - name: a\n      path: x\n    - name: b\n      ‸";
    expect(at(text)).toMatchObject({ kind: "key", path: ["source", "streams", 1] });
    expect(at("source:\n  streams:\n  - name: a\n  - name: b\n    targ‸")).toMatchObject({ kind: "key", path: ["source", "streams", 1], partial: "targ" });
    expect(at("source:\n  streams:\n    - name: a\n    - ‸")).toEqual({ kind: "key", path: ["source", "streams", 1], partial: "", column: 6, listItem: true });
    expect(at("steps:\n  - id: a\n    when:\n      weekday:\n        - mon\n        - ‸")).toMatchObject({ path: ["steps", 0, "when", "weekday", 1], listItem: true });
  });

  it("knows a value position and its key", () => {
    expect(at("source:\n  plugin: he‸")).toEqual({ kind: "value", path: ["source"], key: "plugin", partial: "he", column: 10, needsSpace: false });
    expect(at("source:\n  plugin:‸")).toMatchObject({ kind: "value", key: "plugin", partial: "", column: 9, needsSpace: true });
    expect(at("source:\n  streams:\n    - name: a\n      status: ‸")).toMatchObject({ kind: "value", path: ["source", "streams", 0], key: "status" });
  });

  it("offers nothing inside comments, block scalars and flow collections", () => {
    expect(at("# pipe‸")).toBeUndefined();
    expect(at("steps:\n  - id: a\n    with:\n      sql: |\n        select ‸")).toBeUndefined();
    expect(at("pipeline:\n  tags: [a, ‸")).toBeUndefined();
  });
});

describe("keyAt", () => {
  it("gives the key under the cursor with its full path", () => {
    const lines = ["source:", "  streams:", "    - name: a", "      status: open"];
    expect(keyAt(lines, 3, 8)).toEqual({ path: ["source", "streams", 0, "status"], start: 6, end: 12 });
    expect(keyAt(lines, 2, 7)).toEqual({ path: ["source", "streams", 0, "name"], start: 6, end: 10 });
    expect(keyAt(lines, 3, 15)).toBeUndefined();
  });
});
