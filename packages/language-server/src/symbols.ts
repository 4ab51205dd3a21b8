/**
 * The outline of a pipeline file (`textDocument/documentSymbol`): the pipeline, its
 * sources with their streams, sinks, steps, checks and alerts, each spanning exactly its
 * YAML nodes. Read from the parsed document, so a file with errors still has one.
 */
import { isNode, isScalar, isSeq, type Node } from "yaml";
import { SymbolKind, type DocumentSymbol, type SymbolInformation } from "vscode-languageserver";
import { nodeAt, pairsOf, rangeOfNode, rangeOfPair } from "./nodes.js";
import type { ParsedText } from "./ranges.js";

export function documentSymbols(parsed: ParsedText): DocumentSymbol[] {
  return pairsOf(parsed.doc.contents).map(({ key, name, value }) => {
    const symbol = (kind: SymbolKind, detail?: string, children?: DocumentSymbol[]) => make(parsed, name, kind, key, value, detail, children);
    switch (name) {
      case "pipeline":
        return symbol(SymbolKind.Module, scalarIn(parsed, ["pipeline", "name"]));
      case "source":
      case "sink":
        return block(parsed, name, key, value, name === "source");
      case "sources":
      case "sinks":
        return symbol(
          SymbolKind.Namespace,
          undefined,
          pairsOf(value).map((p) => block(parsed, p.name, p.key, p.value, name === "sources")),
        );
      case "steps":
        return symbol(SymbolKind.Namespace, undefined, items(value).map((step, i) => item(parsed, step, textOf(step, "id") ?? `step ${i + 1}`, SymbolKind.Function, textOf(step, "uses"))));
      case "checks":
        return symbol(
          SymbolKind.Namespace,
          undefined,
          pairsOf(value).map((p) =>
            make(parsed, p.name, SymbolKind.Field, p.key, p.value, undefined, items(p.value).map((check) => item(parsed, check, checkLabel(check), SymbolKind.Event, textOf(check, "at")))),
          ),
        );
      case "alerts":
        return symbol(
          SymbolKind.Namespace,
          undefined,
          items(value).map((alert, i) => item(parsed, alert, pairsOf(alert).find((p) => p.name !== "on")?.name ?? `alert ${i + 1}`, SymbolKind.Event, onEvents(alert))),
        );
      default:
        return symbol(SymbolKind.Property, isScalar(value) && value.value !== null ? String(value.value) : undefined);
    }
  });
}

/** For clients without hierarchical symbols: the same outline, flat, each with its parent's name. */
export function flatSymbols(symbols: readonly DocumentSymbol[], uri: string, container?: string): SymbolInformation[] {
  return symbols.flatMap((s) => [
    { name: s.name, kind: s.kind, location: { uri, range: s.range }, ...(container !== undefined ? { containerName: container } : {}) },
    ...flatSymbols(s.children ?? [], uri, s.name),
  ]);
}

/** A source or sink block: its plugin as detail; a source's streams as children. */
function block(parsed: ParsedText, name: string, key: Node, value: unknown, isSource: boolean): DocumentSymbol {
  const streams = isSource ? items(pairsOf(value).find((p) => p.name === "streams")?.value) : [];
  return make(
    parsed,
    name,
    isSource ? SymbolKind.Class : SymbolKind.Interface,
    key,
    value,
    textOf(value, "plugin"),
    streams.map((stream, i) => item(parsed, stream, textOf(stream, "name") ?? `stream ${i + 1}`, SymbolKind.Field, textOf(stream, "mode"))),
  );
}

function make(parsed: ParsedText, name: string, kind: SymbolKind, key: Node, value: unknown, detail?: string, children?: DocumentSymbol[]): DocumentSymbol {
  return {
    name: name || " ",
    kind,
    range: rangeOfPair(parsed, key, value),
    selectionRange: rangeOfNode(parsed, key),
    ...(detail ? { detail } : {}),
    ...(children?.length ? { children } : {}),
  };
}

/** A list item: it spans its mapping; its name is the value that names it (`id`, `name`), else the whole item. */
function item(parsed: ParsedText, node: Node, name: string, kind: SymbolKind, detail?: string): DocumentSymbol {
  const naming = pairsOf(node).find((p) => (p.name === "id" || p.name === "name") && isScalar(p.value) && String(p.value.value) === name)?.value as Node | undefined;
  return { name, kind, range: rangeOfNode(parsed, node), selectionRange: rangeOfNode(parsed, naming ?? node), ...(detail ? { detail } : {}) };
}

function items(node: unknown): Node[] {
  return isSeq(node) ? node.items.filter((n): n is Node => isNode(n) && !!n.range) : [];
}

function textOf(node: unknown, key: string): string | undefined {
  const value = pairsOf(node).find((p) => p.name === key)?.value;
  return isScalar(value) && value.value !== null && value.value !== undefined ? String(value.value) : undefined;
}

function scalarIn(parsed: ParsedText, path: readonly string[]): string | undefined {
  const node = nodeAt(parsed, path);
  return isScalar(node) && node.value !== null ? String(node.value) : undefined;
}

/** A check is named by its `name:`, else by its kind (the one key that is not a setting). */
function checkLabel(check: Node): string {
  const pairs = pairsOf(check);
  return textOf(check, "name") ?? pairs.find((p) => !["name", "severity", "at"].includes(p.name))?.name ?? "check";
}

function onEvents(alert: Node): string | undefined {
  const on = pairsOf(alert).find((p) => p.name === "on")?.value;
  return isSeq(on) ? on.items.map((n) => (isScalar(n) ? String(n.value) : "")).filter(Boolean).join(", ") : undefined;
}
