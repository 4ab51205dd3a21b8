import { describe, expect, it } from "vitest";
import { diagnosticRange, isPipelineText, parsePath, parseText } from "./ranges.js";

const text = [
  "pipeline:", //
  "  name: a",
  '  schedule: "@dayly"',
  "source:",
  "  streams:",
  "    - name: s",
  "      target:",
  "        table: t",
  "  nme: x",
  "",
].join("\n");

describe("diagnosticRange", () => {
  const parsed = parseText(text);

  it("covers the key a key diagnostic starts at", () => {
    expect(diagnosticRange(parsed, 9, 3, "source.nme")).toEqual({ start: { line: 8, character: 2 }, end: { line: 8, character: 5 } });
  });

  it("covers a value as a whole, quotes included", () => {
    expect(diagnosticRange(parsed, 3, 13, "pipeline.schedule")).toEqual({ start: { line: 2, character: 12 }, end: { line: 2, character: 20 } });
  });

  it("takes the whole block when the path names a mapping value, and its first key when it names that key", () => {
    expect(diagnosticRange(parsed, 8, 9, "source.streams[0].target")).toEqual({ start: { line: 7, character: 8 }, end: { line: 7, character: 16 } });
    expect(diagnosticRange(parsed, 8, 9, "source.streams[0].target.table")).toEqual({ start: { line: 7, character: 8 }, end: { line: 7, character: 13 } });
    expect(diagnosticRange(parsed, 6, 7, "source.streams[0]")).toEqual({ start: { line: 5, character: 6 }, end: { line: 7, character: 16 } });
  });

  it("takes the smallest node without a path, and the rest of the line without a node", () => {
    expect(diagnosticRange(parsed, 2, 3)).toEqual({ start: { line: 1, character: 2 }, end: { line: 1, character: 6 } });
    expect(diagnosticRange(parsed, 2, 6)).toEqual({ start: { line: 1, character: 5 }, end: { line: 1, character: 9 } });
    expect(diagnosticRange(parsed, undefined, undefined)).toEqual({ start: { line: 0, character: 0 }, end: { line: 0, character: 9 } });
  });
});

describe("parsePath", () => {
  it("splits dotted paths with indexes", () => {
    expect(parsePath("source.streams[0].target")).toEqual(["source", "streams", 0, "target"]);
    expect(parsePath("a[1][2]")).toEqual(["a", 1, 2]);
  });
});

describe("isPipelineText", () => {
  it("is true for a top-level mapping with a pipeline key, also while the YAML is broken", () => {
    expect(isPipelineText(parseText(text))).toBe(true);
    expect(isPipelineText(parseText("pipeline:\n  name: [a\nsource: x\n"))).toBe(true);
    expect(isPipelineText(parseText("apiVersion: v1\nkind: Pod\n"))).toBe(false);
    expect(isPipelineText(parseText("defaults:\n  pipeline:\n    retries: 1\n"))).toBe(false);
    expect(isPipelineText(parseText("- pipeline: a\n"))).toBe(false);
  });
});
