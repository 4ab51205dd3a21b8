/**
 * Where the cursor is in a YAML file being typed: the path of the mapping it is in and
 * whether it is at a key or a value. Read from indentation, not from the parsed document,
 * because the line being typed (`  na`, `- `) is rarely valid YAML yet, and a parser
 * places it wherever its error recovery lands. Block style only: flow collections
 * (`{ a: 1 }`, `[a, b]`) get no completion.
 */
import type { PathSegment } from "./schema.js";

export type CursorContext =
  | {
      readonly kind: "key";
      /** The mapping the key belongs to. */
      readonly path: readonly PathSegment[];
      /** The part of the key typed so far, and the column it starts at. */
      readonly partial: string;
      readonly column: number;
      /** Set when the line starts a list item (`- na`): a scalar item fits here too. */
      readonly listItem: boolean;
    }
  | {
      readonly kind: "value";
      /** The mapping holding `key`. */
      readonly path: readonly PathSegment[];
      readonly key: string;
      readonly partial: string;
      readonly column: number;
      /** Right after the colon (`plugin:|`): a value needs a space before it. */
      readonly needsSpace: boolean;
    };

interface LineTokens {
  /** Columns of the `- ` list markers at the start of the line. */
  readonly dashes: readonly number[];
  /** The column where the content after the markers starts. */
  readonly contentColumn: number;
  readonly key?: { readonly name: string; readonly column: number; readonly end: number; readonly value: string; readonly valueColumn: number };
}

// A block mapping key: plain (not starting with an indicator) or quoted, then `:` and a space or the end.
const KEY = /^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#'"[\]{}&*!|>%@`,-][^#]*?|-[^\s#][^#]*?)[ \t]*:(?=[ \t]|$)/;

/** A line split into list markers and a `key: value`, or undefined for blank and comment lines. */
export function tokenize(line: string): LineTokens | undefined {
  let i = 0;
  while (i < line.length && (line[i] === " " || line[i] === "\t")) i++;
  if (i === line.length || line[i] === "#") return undefined;
  const dashes: number[] = [];
  while (line[i] === "-" && (i + 1 === line.length || line[i + 1] === " " || line[i + 1] === "\t")) {
    dashes.push(i);
    i++;
    while (i < line.length && (line[i] === " " || line[i] === "\t")) i++;
  }
  const rest = line.slice(i);
  const m = KEY.exec(rest);
  if (!m) return { dashes, contentColumn: i };
  const raw = m[1]!;
  const name = unquote(raw);
  const after = rest.slice(m[0].length);
  const lead = after.length - after.trimStart().length;
  const value = after.trimStart().replace(/(^|\s)#.*$/, "").trimEnd();
  return { dashes, contentColumn: i, key: { name, column: i, end: i + raw.length, value, valueColumn: i + m[0].length + lead } };
}

/** The cursor's context at 0-based `line` and `character`, or undefined where nothing can be completed. */
export function cursorContext(lines: readonly string[], line: number, character: number): CursorContext | undefined {
  const prefix = (lines[line] ?? "").slice(0, character);
  if (/^\s*#/.test(prefix)) return undefined;
  const tokens = tokenize(prefix) ?? { dashes: [], contentColumn: prefix.length };
  const parent = parentPath(lines, line, tokens.key?.column ?? tokens.contentColumn, tokens.dashes);
  if (!parent) return undefined;
  if (tokens.key) {
    if (/^[|>]/.test(tokens.key.value) || /^[[{]/.test(tokens.key.value)) return undefined;
    const column = tokens.key.valueColumn;
    return { kind: "value", path: parent, key: tokens.key.name, partial: prefix.slice(column), column, needsSpace: prefix[column - 1] === ":" };
  }
  const partial = prefix.slice(tokens.contentColumn);
  if (!/^[\w.$-]*$/.test(partial)) return undefined;
  return { kind: "key", path: parent, partial, column: tokens.contentColumn, listItem: tokens.dashes.length > 0 };
}

/** The key under the cursor and the path of its value, for hover. */
export function keyAt(lines: readonly string[], line: number, character: number): { path: PathSegment[]; start: number; end: number } | undefined {
  const tokens = tokenize(lines[line] ?? "");
  const key = tokens?.key;
  if (!tokens || !key || character < key.column || character > key.end) return undefined;
  const parent = parentPath(lines, line, key.column, tokens.dashes);
  return parent && { path: [...parent, key.name], start: key.column, end: key.end };
}

/**
 * The path of the mapping a key at `column` of line `line` belongs to: list markers left
 * of it on its own line, then the nearest less indented keys and markers above. A list
 * may sit at its key's own indentation (`streams:` then `- name: a`), so after a marker
 * the parent key may be at the marker's column. Undefined inside a block scalar.
 */
export function parentPath(lines: readonly string[], line: number, column: number, dashesOnLine: readonly number[] = []): PathSegment[] | undefined {
  const path: PathSegment[] = [];
  let keyLimit = column;
  let dashLimit = column;
  for (const dash of [...dashesOnLine].reverse()) {
    if (dash >= dashLimit) continue;
    path.unshift(itemIndex(lines, line, dash));
    keyLimit = dash + 1;
    dashLimit = dash;
  }
  for (let l = line - 1; l >= 0 && keyLimit > 0; l--) {
    const t = tokenize(lines[l]!);
    if (!t) continue;
    const first = t.dashes[0] ?? t.contentColumn;
    if (first >= keyLimit && first >= dashLimit) continue;
    if (t.key && t.key.column < keyLimit) {
      if (/^[|>]/.test(t.key.value)) return undefined; // the cursor is inside this key's block scalar
      path.unshift(t.key.name);
      keyLimit = t.key.column;
      dashLimit = t.key.column;
    }
    for (const dash of [...t.dashes].reverse()) {
      if (dash >= dashLimit) continue;
      path.unshift(itemIndex(lines, l, dash));
      keyLimit = dash + 1;
      dashLimit = dash;
    }
  }
  return path;
}

/** Which item of its list the `- ` at `column` of line `line` starts (0-based). */
function itemIndex(lines: readonly string[], line: number, column: number): number {
  let index = 0;
  for (let l = line - 1; l >= 0; l--) {
    const t = tokenize(lines[l]!);
    if (!t) continue;
    const first = t.dashes[0] ?? t.contentColumn;
    if (first < column) break;
    if (first === column) {
      if (t.dashes[0] !== column) break; // a key at the list's column ends the list
      index++;
    }
  }
  return index;
}

function unquote(raw: string): string {
  if (raw.startsWith('"')) {
    try {
      return JSON.parse(raw) as string;
    } catch {
      return raw.slice(1, -1);
    }
  }
  if (raw.startsWith("'")) return raw.slice(1, -1).replace(/''/g, "'");
  return raw;
}
