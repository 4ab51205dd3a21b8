/**
 * YAML parsing that keeps source positions, so every error can point at
 * file:line:column, and that refuses hostile input before the yaml library works
 * on it: files over 1 MiB, bytes that are not UTF-8, nesting deeper than 64
 * levels, more than 10,000 keys, alias bombs and aliases inside their own anchor.
 *
 * The library's own duplicate-key check (`uniqueKeys`) compares every key with
 * every earlier key of its mapping, which took minutes on a large file; it is off,
 * and one pass over the document finds duplicates (and `__proto__` keys) instead.
 */
import { isUtf8 } from "node:buffer";
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import {
  Composer,
  CST,
  isAlias,
  isMap,
  isNode,
  isPair,
  isScalar,
  isSeq,
  Lexer,
  LineCounter,
  parseDocument,
  Parser,
  YAMLParseError,
  type Document,
  type Node,
  type YAMLMap,
  type YAMLSeq,
} from "yaml";
import { diagnostic, type Diagnostic, type Location } from "../errors.js";

export const MAX_ALIAS_COUNT = 100;

/** What one YAML file may hold. A real pipeline file is a few KB, a dozen levels and a few hundred keys. */
export const YAML_LIMITS = Object.freeze({
  /** Bytes of the file. */
  bytes: 1024 * 1024,
  /** Levels of nested mappings and lists, counting what aliases add once expanded. */
  depth: 64,
  /** Mapping keys in the whole file. */
  keys: 10_000,
});

export interface ParsedYaml {
  readonly file: string;
  readonly doc: Document.Parsed;
  readonly lines: LineCounter;
  readonly value: unknown;
  readonly diagnostics: readonly Diagnostic[];
}

export type PathSegment = string | number;

/**
 * Reads and parses a YAML file. `display` is the name diagnostics use. A file over
 * the size limit is refused without being read whole.
 */
export async function readYamlFile(file: string, display: string = file): Promise<ParsedYaml> {
  const read = readLimited(file);
  if (read === undefined) return refused(display, diagnostic("XO_CONFIG_NOT_FOUND", { file: display }));
  if ("tooLarge" in read) return refused(display, diagnostic("XO_CONFIG_SIZE_LIMIT", { size: read.tooLarge, limit: YAML_LIMITS.bytes }, { file: display }));
  return parseYaml(read.bytes, display);
}

/**
 * The bytes of `file`; the size stat gave when that is over the limit; undefined when
 * the file cannot be read. Never more than the limit plus one byte, whatever stat said
 * (a growing file, a device). Synchronous on purpose: a pipeline file is a few KB, and
 * handing each of a thousand reads to libuv's thread pool and back took several times
 * as long as the reads themselves.
 */
function readLimited(file: string): { readonly bytes: Buffer } | { readonly tooLarge: number } | undefined {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch {
    return undefined;
  }
  try {
    const { size } = fstatSync(fd);
    if (size > YAML_LIMITS.bytes) return { tooLarge: size };
    // Room for what stat said plus one byte, so that a file that grew shows; the buffer
    // grows with it up to the cap.
    const cap = YAML_LIMITS.bytes + 1;
    let bytes = Buffer.allocUnsafe(Math.min(Math.max(size + 1, 8192), cap));
    let length = 0;
    for (;;) {
      const bytesRead = readSync(fd, bytes, length, bytes.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length < bytes.length) continue;
      if (length === cap) break;
      const larger = Buffer.allocUnsafe(Math.min(bytes.length * 2, cap));
      bytes.copy(larger, 0, 0, length);
      bytes = larger;
    }
    return { bytes: bytes.subarray(0, length) };
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** Parses YAML text, or the bytes of a file (which must be UTF-8; a byte order mark is fine). */
export function parseYaml(source: string | Uint8Array, file: string): ParsedYaml {
  const size = typeof source === "string" ? Buffer.byteLength(source) : source.byteLength;
  if (size > YAML_LIMITS.bytes) return refused(file, diagnostic("XO_CONFIG_SIZE_LIMIT", { size, limit: YAML_LIMITS.bytes }, { file }));
  let text: string;
  if (typeof source === "string") text = source;
  else {
    const decoded = decodeUtf8(source);
    if (typeof decoded !== "string") {
      const { byte, offset, line, column } = decoded;
      return refused(file, diagnostic("XO_CONFIG_NOT_UTF8", { byte, offset }, { file, line, column }));
    }
    text = decoded;
  }

  const lines = new LineCounter();
  const tokens = parseTokens(text, lines, (offset) => ({ file, ...position(lines, offset) }));
  if (!Array.isArray(tokens)) return refused(file, tokens, lines);

  const doc = compose(tokens, text.length);
  const diagnostics: Diagnostic[] = [];
  for (const e of doc.errors) {
    const pos = lines.linePos(e.pos[0]);
    const detail = e.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
    diagnostics.push(diagnostic("XO_CONFIG_YAML_SYNTAX", { detail }, { file, line: pos.line, column: pos.col }));
  }
  diagnostics.push(...checkDocument(doc, (node, path) => ({ file, ...position(lines, node.range?.[0]), path: path && dotted(path) })));
  let value: unknown;
  if (diagnostics.length === 0) {
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (e) {
      const aliasBomb = e instanceof ReferenceError || /alias/i.test(String((e as Error).message));
      diagnostics.push(
        aliasBomb
          ? diagnostic("XO_CONFIG_ALIAS_LIMIT", { limit: MAX_ALIAS_COUNT }, { file, line: 1, column: 1 })
          : diagnostic("XO_CONFIG_YAML_SYNTAX", { detail: (e as Error).message }, { file, line: 1, column: 1 }),
      );
    }
  }
  return { file, doc, lines, value, diagnostics };
}

/** What `parseDocument` does, from tokens we have already checked. */
function compose(tokens: readonly CST.Token[], length: number): Document.Parsed {
  // `uniqueKeys: false`: checkDocument finds duplicates in linear time.
  const composer = new Composer({ uniqueKeys: false, strict: true });
  let doc: Document.Parsed | undefined;
  for (const next of composer.compose(tokens, true, length)) {
    if (!doc) doc = next;
    else {
      doc.errors.push(new YAMLParseError([next.range[0], next.range[1]], "MULTIPLE_DOCS", "Source contains multiple documents; please use YAML.parseAllDocuments()"));
      break;
    }
  }
  return doc!;
}

/** A result for input that was refused before it was parsed. */
function refused(file: string, d: Diagnostic, lines = new LineCounter()): ParsedYaml {
  return { file, doc: parseDocument(""), lines, value: undefined, diagnostics: [d] };
}

function position(lines: LineCounter, offset: number | undefined): { line?: number; column?: number } {
  if (offset === undefined) return {};
  const { line, col } = lines.linePos(offset);
  return { line, column: col };
}

/** The same dotted form as validation paths: `source.streams[0].name`. */
function dotted(path: readonly PathSegment[]): string {
  return path.reduce<string>((acc, seg) => (typeof seg === "number" ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg), "");
}

// ---------------------------------------------------------------- encoding

interface NotUtf8 {
  readonly byte: number;
  readonly offset: number;
  readonly line: number;
  readonly column: number;
}

/** The text of UTF-8 `bytes` without a byte order mark, or where the first byte that is not UTF-8 is. */
function decodeUtf8(bytes: Uint8Array): string | NotUtf8 {
  // The common case, checked and decoded natively; TextDecoder drops one leading BOM, so do we.
  if (isUtf8(bytes)) {
    const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
    return Buffer.from(bytes.buffer, bytes.byteOffset + bom, bytes.byteLength - bom).toString("utf8");
  }
  const decode = (end: number, stream: boolean) => new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(0, end), { stream });
  try {
    return decode(bytes.length, false);
  } catch {
    // The decoder does not say where; find the shortest prefix it already rejects.
  }
  const valid = (end: number) => {
    try {
      decode(end, true);
      return true;
    } catch {
      return false;
    }
  };
  let good = bytes.length;
  if (!valid(bytes.length)) {
    let bad = bytes.length;
    good = 0;
    while (bad - good > 1) {
      const mid = (good + bad) >>> 1;
      if (valid(mid)) good = mid;
      else bad = mid;
    }
  }
  // In streaming mode the decoder returns the whole characters of the valid prefix and
  // holds back the start of the sequence that went wrong: that start is the bad byte.
  const before = decode(good, true);
  const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf && good >= 3 ? 3 : 0;
  const offset = bom + Buffer.byteLength(before);
  const lineStart = before.lastIndexOf("\n") + 1;
  let line = 1;
  for (let i = before.indexOf("\n"); i !== -1; i = before.indexOf("\n", i + 1)) line++;
  return { byte: bytes[offset]!, offset, line, column: before.length - lineStart + 1 };
}

// ---------------------------------------------------------------- limits while parsing

const COLLECTIONS: ReadonlySet<string> = new Set(["block-map", "block-seq", "flow-collection"]);

/**
 * The parser's tokens, or the diagnostic for a file nested too deep or with too many
 * keys. The parser is driven one lexeme at a time (what `Parser.parse` does) so that
 * it stops at the first collection or key past a limit: the parser is iterative but
 * slow on deep nesting (a 1 MiB file of `[` takes seconds), and the composer that
 * comes next recurses once per level.
 */
function parseTokens(text: string, lines: LineCounter, where: (offset: number) => Location): CST.Token[] | Diagnostic {
  const parser = new Parser(lines.addNewLine);
  lines.addNewLine(0);
  const tokens: CST.Token[] = [];
  let keys = 0;
  let scalarNext = false;
  for (const lexeme of new Lexer().lex(text)) {
    for (const token of parser.next(lexeme)) tokens.push(token);
    // The stack is the chain of nodes being built, from the document down.
    if (parser.stack.length > YAML_LIMITS.depth) {
      const open = parser.stack.filter((t) => COLLECTIONS.has(t.type));
      if (open.length > YAML_LIMITS.depth) return diagnostic("XO_CONFIG_DEPTH_LIMIT", { limit: YAML_LIMITS.depth }, where(open[YAML_LIMITS.depth]!.offset));
    }
    // Every `key: value` entry, block or flow, has one `:` indicator.
    if (lexeme === ":" && !scalarNext && ++keys > YAML_LIMITS.keys) {
      const top = parser.stack[parser.stack.length - 1];
      const item = top && "items" in top ? (top.items as CST.CollectionItem[])[top.items.length - 1] : undefined;
      return diagnostic("XO_CONFIG_KEY_LIMIT", { limit: YAML_LIMITS.keys }, where(item?.key?.offset ?? item?.start[0]?.offset ?? top?.offset ?? 0));
    }
    scalarNext = lexeme === CST.SCALAR;
  }
  for (const token of parser.end()) tokens.push(token);
  return tokens;
}

// ---------------------------------------------------------------- checks on the document

type Locator = (node: Node, path?: readonly PathSegment[]) => Location;

/** A path as a linked list: children share their parent's, and only a diagnostic spells one out. */
interface PathLink {
  readonly up: PathLink | undefined;
  readonly segment: PathSegment;
}

function spell(link: PathLink | undefined): PathSegment[] {
  const path: PathSegment[] = [];
  for (let l = link; l; l = l.up) path.push(l.segment);
  return path.reverse();
}

/**
 * One pass over the composed document, with an explicit stack, in document order:
 * duplicate keys (compared as the JS keys they become: `1` and `"1"` are one key),
 * `__proto__` keys (JS would read one as the object's prototype, and a later merge
 * could set a config object's prototype from the file), aliases whose expansion
 * nests too deep, and aliases inside the node they refer to (an infinite value).
 */
function checkDocument(doc: Document.Parsed, where: Locator): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  /** The last node with each anchor name so far: what an alias here refers to. */
  const anchors = new Map<string, Node>();
  /** Levels of nesting of each finished anchored collection, aliases expanded. */
  const heights = new Map<Node, number>();
  /** Anchored collections being walked: an alias to one of them is inside it. */
  const open = new Set<Node>();

  interface Frame {
    readonly node: YAMLMap | YAMLSeq;
    readonly path: PathLink | undefined;
    /** Collections around this one, itself included. */
    readonly depth: number;
    /** The keys of a mapping so far, by the JS key they become. */
    readonly keys: Map<string, Node> | undefined;
    /** The next child: item `next` of a list; for a mapping, pair `next >> 1`, its key when even. */
    next: number;
    height: number;
  }
  const stack: Frame[] = [];

  /** The property name a key becomes in JS (what `toJS` does), or undefined for a collection key. */
  const keyName = (key: unknown): string | undefined => {
    const scalar = isAlias(key) ? anchors.get(key.source) : key;
    if (!isScalar(scalar)) return undefined;
    const value = scalar.value;
    if (value === null) return "";
    return typeof value === "object" ? undefined : String(value as string | number | boolean | bigint);
  };

  const checkKey = (key: Node, name: string, path: PathLink, keys: Map<string, Node>) => {
    if (name === "__proto__") {
      diagnostics.push(diagnostic("XO_CONFIG_UNKNOWN_KEY", { key: name, allowed: [] }, where(key, spell(path))));
      return;
    }
    const first = keys.get(name);
    if (first === undefined) {
      keys.set(name, key);
      return;
    }
    const at = where(first);
    diagnostics.push(diagnostic("XO_CONFIG_YAML_SYNTAX", { detail: `duplicate key ${JSON.stringify(name)} (first at line ${at.line}, column ${at.column})` }, where(key, spell(path))));
  };

  /** A leaf's height (levels of collections it adds), or undefined when `node` is a collection now on the stack. */
  const visit = (node: unknown, path: PathLink | undefined, depth: number): number | undefined => {
    if (isAlias(node)) {
      const target = anchors.get(node.source);
      if (target === undefined) return 0; // the composer reports unknown anchors
      if (open.has(target)) {
        diagnostics.push(diagnostic("XO_CONFIG_YAML_SYNTAX", { detail: `alias *${node.source} refers to a list or mapping that contains it` }, where(node, spell(path))));
        return 0;
      }
      const height = heights.get(target) ?? 0;
      if (depth + height > YAML_LIMITS.depth) diagnostics.push(diagnostic("XO_CONFIG_DEPTH_LIMIT", { limit: YAML_LIMITS.depth, alias: node.source }, where(node, spell(path))));
      return height;
    }
    if (isNode(node) && node.anchor) anchors.set(node.anchor, node);
    if (!isMap(node) && !isSeq(node)) return 0;
    if (node.anchor) open.add(node);
    stack.push({ node, path, depth: depth + 1, keys: isMap(node) ? new Map() : undefined, next: 0, height: 1 });
    return undefined;
  };

  visit(doc.contents, undefined, 0);
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const index = top.keys ? top.next >> 1 : top.next;
    if (index < top.node.items.length) {
      let child: unknown;
      let path: PathLink;
      if (top.keys) {
        const pair = top.node.items[index];
        if (!isPair(pair)) {
          top.next += 2;
          continue;
        }
        const name = keyName(pair.key);
        path = { up: top.path, segment: name ?? `[key ${index}]` };
        if (top.next % 2 === 0) {
          child = pair.key;
          if (name !== undefined) checkKey(pair.key as Node, name, path, top.keys);
        } else child = pair.value;
      } else {
        child = top.node.items[index];
        path = { up: top.path, segment: index };
      }
      top.next++;
      const height = visit(child, path, top.depth);
      if (height !== undefined) top.height = Math.max(top.height, 1 + height);
      continue;
    }
    stack.pop();
    if (top.node.anchor) {
      open.delete(top.node);
      heights.set(top.node, top.height);
    }
    const parent = stack[stack.length - 1];
    if (parent) parent.height = Math.max(parent.height, 1 + top.height);
  }
  return diagnostics;
}

/**
 * The position of `path` in the document: the key for `mode: "key"` (unknown
 * keys), else the value. Walks up to the nearest existing ancestor when the
 * path is missing (a missing key is reported at its parent mapping).
 */
export function locate(parsed: ParsedYaml, path: readonly PathSegment[], mode: "key" | "value" = "value"): { line: number; column: number } | undefined {
  let node: Node | null | undefined = parsed.doc.contents as Node | null;
  let keyNode: Node | null | undefined;
  let complete = true;
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) {
        complete = false;
        break;
      }
      keyNode = pair.key as Node;
      node = pair.value as Node | null;
    } else if (isSeq(node) && typeof segment === "number" && node.items[segment]) {
      keyNode = undefined;
      node = node.items[segment] as Node;
    } else {
      complete = false;
      break;
    }
  }
  // A missing key is reported at the key of its parent mapping.
  const target = (mode === "key" || !complete) && keyNode ? keyNode : (node ?? keyNode);
  const offset = target?.range?.[0];
  if (offset === undefined) return undefined;
  const pos = parsed.lines.linePos(offset);
  return { line: pos.line, column: pos.col };
}

/** Whether `path` exists in the parsed document (used to decide which file set a value). */
export function hasPath(parsed: ParsedYaml, path: readonly PathSegment[]): boolean {
  return parsed.doc.hasIn(path);
}
