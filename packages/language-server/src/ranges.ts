/**
 * The exact range of a diagnostic. Core reports where a key or a value starts (1-based
 * line and column) and the dotted config path; the end comes from the YAML node that
 * starts there, so an editor underlines `start_dat`, not the rest of the line.
 */
import { isMap, isNode, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from "yaml";
import type { Range } from "vscode-languageserver";

export interface ParsedText {
  readonly text: string;
  readonly doc: Document;
  readonly lines: LineCounter;
}

export function parseText(text: string): ParsedText {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false, keepSourceTokens: false });
  return { text, doc, lines };
}

/** Whether a YAML file is a pipeline file: its top level is a mapping with a `pipeline` key. */
export function isPipelineText(parsed: ParsedText): boolean {
  const top = parsed.doc.contents;
  if (isMap(top)) return top.items.some((p) => isScalar(p.key) && p.key.value === "pipeline");
  // Half-typed YAML may not parse as a mapping; a `pipeline:` key at column 0 still says what the file is.
  return parsed.doc.errors.length > 0 && /^["']?pipeline["']?[ \t]*:/m.test(parsed.text);
}

/**
 * The range of what a diagnostic at `line`:`column` (1-based) with config path `path`
 * points at: the key or value on that path starting there (a value as a whole node),
 * else the smallest node starting there, else the rest of the line.
 */
export function diagnosticRange(parsed: ParsedText, line: number | undefined, column: number | undefined, path?: string): Range {
  if (line === undefined) return lineRange(parsed, 0, 0);
  const lineStart = parsed.lines.lineStarts[line - 1];
  if (lineStart === undefined) return lineRange(parsed, Math.max(0, parsed.lines.lineStarts.length - 1), 0);
  const start = lineStart + Math.max(0, (column ?? 1) - 1);
  const node = (path !== undefined ? onPath(parsed.doc, parsePath(path), start) : undefined) ?? smallestAt(parsed.doc, start);
  const end = node?.range ? trimEnd(parsed.text, start, node.range[1]) : undefined;
  if (end === undefined || end <= start) return lineRange(parsed, line - 1, start - lineStart);
  return { start: position(parsed, start), end: position(parsed, end) };
}

/** `source.streams[0].name` as path segments. */
export function parsePath(dotted: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const part of dotted.split(".")) {
    const m = /^([^[]*)((?:\[\d+\])*)$/.exec(part);
    if (!m) {
      out.push(part);
      continue;
    }
    if (m[1]) out.push(m[1]);
    for (const index of m[2]!.matchAll(/\[(\d+)\]/g)) out.push(Number(index[1]));
  }
  return out;
}

/** The deepest key or value along `path` that starts at `offset`; a value before its key. */
function onPath(doc: Document, path: readonly (string | number)[], offset: number): Node | undefined {
  const found: Node[] = [];
  let node: unknown = doc.contents;
  if (isNode(node)) found.push(node);
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) break;
      if (isNode(pair.key)) found.push(pair.key);
      node = pair.value;
      if (isNode(node)) found.push(node);
    } else if (isSeq(node) && typeof segment === "number" && isNode(node.items[segment])) {
      node = node.items[segment];
      found.push(node as Node);
    } else break;
  }
  return found.reverse().find((n) => n.range?.[0] === offset);
}

/** The smallest node that starts at `offset`: a key scalar rather than the mapping it opens. */
function smallestAt(doc: Document, offset: number): Node | undefined {
  let best: Node | undefined;
  const consider = (n: unknown) => {
    if (!isNode(n) || n.range?.[0] !== offset) return;
    if (!best || n.range[1] - n.range[0] < best.range![1] - best.range![0]) best = n;
  };
  consider(doc.contents);
  visit(doc, {
    Pair(_, pair) {
      if (isPair(pair)) {
        consider(pair.key);
        consider(pair.value);
      }
    },
    Seq(_, seq) {
      for (const item of seq.items) consider(item);
    },
  });
  return best;
}

/** Block values end after their last line break; the range ends at the last character. */
function trimEnd(text: string, start: number, end: number): number {
  let e = Math.min(end, text.length);
  while (e > start && /\s/.test(text[e - 1]!)) e--;
  return e;
}

function lineRange(parsed: ParsedText, line: number, from: number): Range {
  const starts = parsed.lines.lineStarts;
  const lineStart = starts[line] ?? 0;
  const next = starts[line + 1] ?? parsed.text.length;
  const length = trimEnd(parsed.text, lineStart, next) - lineStart;
  // Nothing after the column (a key with no value yet): the whole line.
  const startChar = from < length ? from : 0;
  return { start: { line, character: startChar }, end: { line, character: length } };
}

function position(parsed: ParsedText, offset: number): { line: number; character: number } {
  const { line, col } = parsed.lines.linePos(offset);
  return { line: line - 1, character: col - 1 };
}
