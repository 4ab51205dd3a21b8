/**
 * The edits the form makes to a pipeline file, on the `yaml` Document (never on plain
 * data), so comments, key order and the style of everything else stay as the person wrote
 * them. Each edit is small: set one value, update a list in place, add, move or remove one
 * item.
 */
import { isMap, isScalar, isSeq, type Document, type Node } from "yaml";

export type Path = readonly (string | number)[];

/** The dotted path core's diagnostics use: `source.streams[1].name`. */
export function dotted(path: Path): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}

/** The path one level up in dotted form, or undefined at the top. */
export function parentDotted(p: string): string | undefined {
  const m = /^(.*)(\[\d+\]|\.[^.[\]]+)$/.exec(p);
  return m ? m[1] : undefined;
}

/** Whether the value at `path` is absent, or an empty `key:` (null). */
export function isEmpty(node: unknown): boolean {
  return node === undefined || node === null || (isScalar(node) && (node.value === null || node.value === undefined));
}

/**
 * Sets one value. On the way down, a `key:` with nothing after it becomes a mapping, and
 * an empty `{}` becomes a block mapping, so a new key is written the way the rest of the
 * file is, not as `{ name: x }`.
 */
export function setValue(doc: Document, path: Path, value: unknown): void {
  for (let i = 1; i < path.length; i++) {
    const prefix = path.slice(0, i);
    const node = doc.getIn(prefix, true);
    if (node !== undefined && isEmpty(node)) doc.setIn(prefix, doc.createNode(typeof path[i] === "number" ? [] : {}));
    else if ((isMap(node) || isSeq(node)) && node.flow && node.items.length === 0) node.flow = false;
  }
  doc.setIn(path, value);
}

export function removeValue(doc: Document, path: Path): void {
  doc.deleteIn(path);
}

/** A list of scalars, updated item by item so the comments of unchanged items stay. */
export function setList(doc: Document, path: Path, values: readonly unknown[]): void {
  const node = doc.getIn(path, true);
  if (values.length === 0) return removeValue(doc, path);
  if (!isSeq(node)) return setValue(doc, path, doc.createNode(values));
  values.forEach((v, i) => {
    const item = node.items[i];
    if (isScalar(item)) {
      if (item.value !== v) item.value = v;
    } else if (i < node.items.length) node.items[i] = doc.createNode(v);
    else node.items.push(doc.createNode(v));
  });
  node.items.splice(values.length);
}

/** Appends an empty mapping to the list at `path` (creating the list); returns its index. */
export function appendItem(doc: Document, path: Path): number {
  const node = doc.getIn(path, true);
  if (isSeq(node)) {
    node.flow = false;
    node.items.push(doc.createNode({}) as Node);
    return node.items.length - 1;
  }
  setValue(doc, path, doc.createNode([{}]));
  return 0;
}

export function moveItem(doc: Document, path: Path, from: number, to: number): void {
  const node = doc.getIn(path, true);
  if (!isSeq(node) || to < 0 || to >= node.items.length) return;
  const [item] = node.items.splice(from, 1);
  node.items.splice(to, 0, item);
}

export function removeItem(doc: Document, path: Path, index: number): void {
  const node = doc.getIn(path, true);
  if (!isSeq(node)) return;
  node.items.splice(index, 1);
  if (node.items.length === 0) removeValue(doc, path);
}
