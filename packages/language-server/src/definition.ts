/**
 * Go to definition (`textDocument/definition`) from a reference to where the same file
 * declares it: a stream name (a `checks:` key, a step's `with: stream`) to the stream's
 * `name:`, a task id (`after:`, `when: summary: task`) to the step's `id:` or, for a
 * template's task, to the stream it moves, a source or sink name to its block.
 */
import { isScalar, isSeq, type Node, type Scalar } from "yaml";
import type { Location, Position } from "vscode-languageserver";
import { nodeAt, offsetOf, pairsOf, rangeOfNode, scalarAt } from "./nodes.js";
import type { ParsedText } from "./ranges.js";
import { referenceKind, type PipelineFacts } from "./references.js";

export function definition(parsed: ParsedText, uri: string, at: Position, facts?: PipelineFacts): Location[] {
  const found = scalarAt(parsed, offsetOf(parsed, at));
  if (!found || found.node.value === null || found.node.value === undefined) return [];
  const name = String(found.node.value);
  const targets = (() => {
    switch (referenceKind(found.path, found.isKey)) {
      case "stream":
        return streamNames(parsed).filter((n) => n.value === name);
      case "task":
        return taskTargets(parsed, name, facts);
      case "source":
        return blockKeys(parsed, "source", "sources", name);
      case "sink":
        return blockKeys(parsed, "sink", "sinks", name);
      default:
        return [];
    }
  })();
  return targets.filter((n) => n !== found.node).map((n) => ({ uri, range: rangeOfNode(parsed, n) }));
}

/** The `name:` values of every stream of the file's sources. */
function streamNames(parsed: ParsedText): Scalar[] {
  const blocks = [nodeAt(parsed, ["source"]), ...pairsOf(nodeAt(parsed, ["sources"])).map((p) => p.value)];
  return blocks.flatMap((block) => {
    const streams = pairsOf(block).find((p) => p.name === "streams")?.value;
    return (isSeq(streams) ? streams.items : []).flatMap((stream) => {
      const value = pairsOf(stream).find((p) => p.name === "name")?.value;
      return isScalar(value) ? [value] : [];
    });
  });
}

/** A step's `id:`; else, for a task of the template, the stream it extracts or loads (from the last valid graph). */
function taskTargets(parsed: ParsedText, id: string, facts: PipelineFacts | undefined): Node[] {
  const steps = nodeAt(parsed, ["steps"]);
  const ids = (isSeq(steps) ? steps.items : []).flatMap((step) => {
    const value = pairsOf(step).find((p) => p.name === "id")?.value;
    return isScalar(value) && value.value === id ? [value] : [];
  });
  if (ids.length) return ids;
  const stream = facts?.tasks.find((t) => t.id === id)?.stream;
  return stream === undefined ? [] : streamNames(parsed).filter((n) => n.value === stream);
}

/** The block a source or sink name means: its key under `sources:`/`sinks:`, or the shorthand block for `main`. */
function blockKeys(parsed: ParsedText, one: string, many: string, name: string): Node[] {
  const top = pairsOf(parsed.doc.contents);
  const named = pairsOf(top.find((p) => p.name === many)?.value).filter((p) => p.name === name);
  if (named.length) return named.map((p) => p.key);
  return name === "main" ? top.filter((p) => p.name === one).map((p) => p.key) : [];
}
