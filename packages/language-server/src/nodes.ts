/**
 * The YAML nodes of a parsed document by offset and path, and their ranges as LSP
 * ranges: what the outline and go-to-definition read, so both point at exactly the
 * text the parser saw.
 */
import { isMap, isNode, isScalar, isSeq, type Node, type Pair, type Scalar } from "yaml";
import type { Position, Range } from "vscode-languageserver";
import type { ParsedText } from "./ranges.js";
import type { PathSegment } from "./schema.js";

/** A scalar of the document, the path of the value it is or names, and whether it is a key. */
export interface ScalarAt {
  readonly node: Scalar;
  /** For a key, the path of its value (`["checks", "orders"]`); for a value, its own path. */
  readonly path: readonly PathSegment[];
  readonly isKey: boolean;
}

/** The scalar key or value at `offset` (its end counts, where a cursor after a word is). */
export function scalarAt(parsed: ParsedText, offset: number): ScalarAt | undefined {
  const inside = (n: unknown): n is Node => isNode(n) && !!n.range && n.range[0] <= offset && offset <= n.range[1];
  let node: unknown = parsed.doc.contents;
  const path: PathSegment[] = [];
  while (inside(node)) {
    if (isScalar(node)) return { node, path, isKey: false };
    if (isMap(node)) {
      const pair = node.items.find((p) => inside(p.key) || inside(p.value));
      if (!pair || !isScalar(pair.key)) return undefined;
      path.push(String(pair.key.value));
      if (inside(pair.key)) return { node: pair.key, path, isKey: true };
      node = pair.value;
    } else if (isSeq(node)) {
      const index = node.items.findIndex(inside);
      if (index < 0) return undefined;
      path.push(index);
      node = node.items[index];
    } else return undefined;
  }
  return undefined;
}

/** The value at `path`, if the document has one there. */
export function nodeAt(parsed: ParsedText, path: readonly PathSegment[]): unknown {
  try {
    return path.length ? parsed.doc.getIn(path, true) : parsed.doc.contents;
  } catch {
    return undefined;
  }
}

/** The pairs of a mapping with plain keys, in order. */
export function pairsOf(node: unknown): { key: Scalar; name: string; value: unknown; pair: Pair }[] {
  if (!isMap(node)) return [];
  return node.items.flatMap((pair) => (isScalar(pair.key) ? [{ key: pair.key, name: String(pair.key.value), value: pair.value, pair }] : []));
}

/** A node's range, up to its last character (block values end after a line break). */
export function rangeOfNode(parsed: ParsedText, node: Node): Range {
  const [start, end] = node.range ?? [0, 0];
  return offsetRange(parsed, start, end);
}

/** From a key to the end of its value. */
export function rangeOfPair(parsed: ParsedText, key: Node, value: unknown): Range {
  const start = key.range?.[0] ?? 0;
  const end = isNode(value) && value.range ? value.range[1] : (key.range?.[1] ?? start);
  return offsetRange(parsed, start, end);
}

export function offsetRange(parsed: ParsedText, start: number, end: number): Range {
  let e = Math.min(end, parsed.text.length);
  while (e > start && /\s/.test(parsed.text[e - 1]!)) e--;
  return { start: positionOf(parsed, start), end: positionOf(parsed, e) };
}

export function positionOf(parsed: ParsedText, offset: number): Position {
  const { line, col } = parsed.lines.linePos(offset);
  return { line: line - 1, character: col - 1 };
}

/** The offset of an LSP position. */
export function offsetOf(parsed: ParsedText, at: Position): number {
  const start = parsed.lines.lineStarts[at.line];
  return start === undefined ? parsed.text.length : Math.min(start + at.character, parsed.text.length);
}
