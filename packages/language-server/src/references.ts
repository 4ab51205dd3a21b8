/**
 * Completion of what only the project knows: the names a pipeline refers to (its
 * streams, sources, sinks and task ids), the connection ids the project already uses,
 * and the installed plugins' source, sink, step and template ids with what they do.
 * Names come from the validated pipeline (`Workspace.tasks`); while the text is not
 * valid, from its last valid version, so a typo elsewhere does not take them away.
 * Where a reference may be written mirrors what core checks as one (config/load.ts,
 * graph.ts): `checks:` keys and `with: stream` name streams, `after:` names tasks.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { isScalar, isSeq, type Node, type Scalar } from "yaml";
import { BUILTIN_STEPS, pipelineConnections, pipelineStreams, type Project, type Registry, type ResolvedPipeline, type TaskSpec } from "@xo-foundry/core";
import type { Workspace } from "@xo-foundry/cli/workspace";
import { CompletionItemKind, MarkupKind, type CompletionItem, type Position, type Range } from "vscode-languageserver";
import { keyInsert, yamlScalar, type CompletionOptions } from "./completion.js";
import { cursorContext, parentPath, tokenize } from "./cursor.js";
import { nodeAt, pairsOf, positionOf } from "./nodes.js";
import { isPipelineText, parseText, type ParsedText } from "./ranges.js";
import type { PathSegment } from "./schema.js";

export type ReferenceKind = "stream" | "source" | "sink" | "task" | "connection" | "step" | "sourcePlugin" | "sinkPlugin" | "template";

/** What a valid version of the pipeline declares, for the references written in it. */
export interface PipelineFacts {
  readonly streams: readonly { readonly name: string; readonly source: string; readonly sink: string }[];
  readonly sources: readonly string[];
  readonly sinks: readonly string[];
  readonly tasks: readonly Pick<TaskSpec, "id" | "step" | "description" | "stream">[];
  /** Connection ids the pipeline uses, project defaults merged in. */
  readonly connections: readonly string[];
}

export function pipelineFacts(pipeline: ResolvedPipeline, tasks: readonly TaskSpec[]): PipelineFacts {
  const { config } = pipeline;
  return {
    streams: pipelineStreams(config).map((r) => ({ name: r.stream.name, source: r.source, sink: r.sink })),
    sources: Object.keys(config.sources),
    sinks: Object.keys(config.sinks),
    tasks: tasks.map((t) => ({ id: t.id, step: t.step, stream: t.stream, description: t.description })),
    connections: pipelineConnections(config),
  };
}

/**
 * What the text itself names, for a file that has not been valid since it was opened:
 * its streams, sources, sinks, steps and connections as written. Without a valid
 * version there is no task graph, so the template's tasks are missing.
 */
export function writtenFacts(parsed: ParsedText): PipelineFacts {
  const top = new Map(pairsOf(parsed.doc.contents).map((p) => [p.name, p.value]));
  const sources = top.has("source") ? [["main", top.get("source")] as const] : pairsOf(top.get("sources")).map((p) => [p.name, p.value] as const);
  const sinks = top.has("sink") ? ["main"] : pairsOf(top.get("sinks")).map((p) => p.name);
  const text = (node: unknown, key: string) => {
    const value = pairsOf(node).find((p) => p.name === key)?.value;
    return isScalar(value) && typeof value.value === "string" ? value.value : undefined;
  };
  const listOf = (node: unknown) => (isSeq(node) ? node.items : []);
  const streams = sources.flatMap(([source, block]) =>
    listOf(pairsOf(block).find((p) => p.name === "streams")?.value).flatMap((stream) => {
      const name = text(stream, "name");
      return name === undefined ? [] : [{ name, source, sink: text(block, "sink") ?? sinks[0] ?? "main" }];
    }),
  );
  const tasks = listOf(top.get("steps")).flatMap((step) => {
    const id = text(step, "id");
    return id === undefined ? [] : [{ id, step: text(step, "uses") ?? "?", ...(text(step, "description") ? { description: text(step, "description") } : {}) }];
  });
  return { streams, sources: sources.map(([name]) => name), sinks, tasks, connections: [...new Set(connectionsIn(safeJs(parsed)))] };
}

/** `#` is a list index, `*` any key. */
const SLOTS: readonly (readonly [ReferenceKind, readonly string[], "key" | "value"])[] = [
  ["stream", ["checks", "*"], "key"],
  ["stream", ["steps", "#", "with", "stream"], "value"],
  ["stream", ["steps", "#", "with", "streams", "#"], "value"],
  ["source", ["steps", "#", "with", "source"], "value"],
  ["sink", ["steps", "#", "with", "sink"], "value"],
  ["sink", ["source", "sink"], "value"],
  ["sink", ["sources", "*", "sink"], "value"],
  ["task", ["steps", "#", "after", "#"], "value"],
  ["task", ["steps", "#", "when", "summary", "#", "task"], "value"],
  ["step", ["steps", "#", "uses"], "value"],
  ["sourcePlugin", ["source", "plugin"], "value"],
  ["sourcePlugin", ["sources", "*", "plugin"], "value"],
  ["sinkPlugin", ["sink", "plugin"], "value"],
  ["sinkPlugin", ["sinks", "*", "plugin"], "value"],
  ["template", ["template"], "value"],
];

/** What the key or value at `path` refers to, if it is a reference. */
export function referenceKind(path: readonly PathSegment[], isKey: boolean): ReferenceKind | undefined {
  // A connection is named the same way in every block that has one (sources, sinks, landing, steps, alerts).
  if (!isKey && path.length >= 2 && path[path.length - 1] === "connection") return "connection";
  const at = isKey ? "key" : "value";
  return SLOTS.find(([, pattern, where]) => where === at && matches(path, pattern))?.[0];
}

function matches(path: readonly PathSegment[], pattern: readonly string[]): boolean {
  return path.length === pattern.length && pattern.every((p, i) => (p === "#" ? typeof path[i] === "number" : p === "*" ? typeof path[i] === "string" : path[i] === p));
}

/** A reference being typed at the cursor: its kind, where it sits, and the range its completion replaces. */
export interface ReferenceSlot {
  readonly kind: ReferenceKind;
  readonly path: readonly PathSegment[];
  readonly isKey: boolean;
  readonly range: Range;
  /** Right after a colon: a value needs a space before it. */
  readonly before: string;
}

export function referenceSlot(parsed: ParsedText, at: Position): ReferenceSlot | undefined {
  const lines = parsed.text.split(/\r?\n/);
  const context = cursorContext(lines, at.line, at.character);
  if (!context) return undefined;
  const range = { start: { line: at.line, character: context.column }, end: at };
  if (context.kind === "value") {
    const path = [...context.path, context.key];
    const kind = referenceKind(path, false);
    return kind && { kind, path, isKey: false, range, before: context.needsSpace ? " " : "" };
  }
  // `- ‸` in a list of names is a value; a key being typed is a new key of its mapping.
  const path = context.listItem ? context.path : [...context.path, context.partial];
  const kind = referenceKind(path, !context.listItem);
  return kind && { kind, path, isKey: !context.listItem, range, before: "" };
}

/** What the items are made from; each part is looked up only for the slots that need it. */
export interface Known {
  /** The last valid version of this pipeline's facts. */
  readonly facts?: PipelineFacts;
  readonly registry?: Registry;
  /** Connection ids used in the project, with where. */
  readonly connections?: ReadonlyMap<string, readonly string[]>;
}

interface Candidate {
  readonly name: string;
  readonly kind: CompletionItemKind;
  readonly detail?: string;
  readonly description?: string;
}

export function referenceItems(parsed: ParsedText, slot: ReferenceSlot, known: Known, options: CompletionOptions): CompletionItem[] {
  const taken = takenNames(parsed, slot);
  const lines = parsed.text.split(/\r?\n/);
  return candidates(parsed, slot, known)
    .filter((c) => !taken.has(c.name))
    .map((c, i): CompletionItem => {
      const text = slot.isKey ? c.name : `${slot.before}${yamlScalar(c.name)}`;
      return {
        label: c.name,
        kind: c.kind,
        ...(c.detail ? { detail: c.detail } : {}),
        ...(c.description ? { documentation: { kind: MarkupKind.Markdown, value: c.description } } : {}),
        // Before the schema's keys and values, in the order the project has them.
        sortText: `0${String(i).padStart(4, "0")}`,
        filterText: text,
        // A stream's checks are a list.
        ...(slot.isKey ? keyInsert(c.name, "array", slot.range, lines, options) : { textEdit: { range: slot.range, newText: text } }),
      };
    });
}

function candidates(parsed: ParsedText, slot: ReferenceSlot, known: Known): Candidate[] {
  const { facts, registry } = known;
  switch (slot.kind) {
    case "stream":
      return (facts?.streams ?? []).map((s) => ({ name: s.name, kind: CompletionItemKind.Field, detail: `stream of source ${s.source}, loaded into sink ${s.sink}` }));
    case "source":
      return (facts?.sources ?? []).map((name) => ({ name, kind: CompletionItemKind.Class, detail: "source" }));
    case "sink":
      return (facts?.sinks ?? []).map((name) => ({ name, kind: CompletionItemKind.Class, detail: "sink" }));
    case "task": {
      const own = ownStepId(parsed, slot);
      return (facts?.tasks ?? [])
        .filter((t) => t.id !== own)
        .map((t) => ({ name: t.id, kind: CompletionItemKind.Function, detail: `task (${t.step})`, ...(t.description ? { description: t.description } : {}) }));
    }
    case "connection":
      return [...(known.connections ?? [])].map(([name, where]) => ({ name, kind: CompletionItemKind.Value, detail: "connection", description: `Used in ${where.join(", ")}.` }));
    case "step":
      return [
        ...BUILTIN_STEPS.map((id) => ({ name: id, kind: CompletionItemKind.Module, detail: "built-in step", description: BUILTIN_DESCRIPTIONS[id] })),
        ...(registry?.steps() ?? []).map((s) => plugin(registry!, "step", s)),
      ];
    case "sourcePlugin":
      return (registry?.sources() ?? []).map((s) => plugin(registry!, "source", s));
    case "sinkPlugin":
      return (registry?.sinks() ?? []).map((s) => plugin(registry!, "sink", s));
    case "template":
      return (registry?.templates() ?? []).map((t) => plugin(registry!, "template", t));
  }
}

const BUILTIN_DESCRIPTIONS: Record<(typeof BUILTIN_STEPS)[number], string> = {
  extract: "Extracts one stream of a source into the landing zone (`with: { source, stream }`).",
  load: "Loads a landed stream into a sink (`with: { stream, sink, target? }`).",
};

function plugin(registry: Registry, kind: "source" | "sink" | "step" | "template", def: { readonly id: string; readonly description: string }): Candidate {
  const owner = registry.ownerOf(kind, def.id);
  return { name: def.id, kind: CompletionItemKind.Module, detail: owner ? `${kind} from ${owner.name}` : kind, ...(def.description ? { description: def.description } : {}) };
}

/** The id of the step whose `after:` or `when:` is being written: it cannot run after itself. */
function ownStepId(parsed: ParsedText, slot: ReferenceSlot): string | undefined {
  if (slot.path[0] !== "steps" || typeof slot.path[1] !== "number") return undefined;
  const id = nodeAt(parsed, ["steps", slot.path[1], "id"]);
  return isScalar(id) && typeof id.value === "string" ? id.value : undefined;
}

/**
 * Names already written where a second one would be an error or pointless: streams that
 * have checks, tasks already listed. What is on the cursor's line is being typed, not
 * written. Keys are read from the lines, as the cursor's mapping is: a half-typed key
 * above them can make the parser lose them.
 */
function takenNames(parsed: ParsedText, slot: ReferenceSlot): Set<string> {
  const parent = slot.path.slice(0, -1);
  const cursorLine = slot.range.start.line;
  if (slot.isKey) {
    const lines = parsed.text.split(/\r?\n/);
    const column = slot.range.start.character;
    const taken = new Set<string>();
    lines.forEach((line, l) => {
      const key = tokenize(line)?.key;
      if (l === cursorLine || key?.column !== column) return;
      if (JSON.stringify(parentPath(lines, l, column, tokenize(line)!.dashes)) === JSON.stringify(parent)) taken.add(key.name);
    });
    return taken;
  }
  const node = nodeAt(parsed, parent);
  if (!isSeq(node) || typeof slot.path[slot.path.length - 1] !== "number") return new Set();
  const elsewhere = (n: Node) => !!n.range && positionOf(parsed, n.range[0]).line !== cursorLine;
  return new Set(node.items.filter((n): n is Scalar => isScalar(n) && elsewhere(n)).map((n) => String(n.value)));
}

/**
 * Every connection id the project uses, with the files that use it: this pipeline (as
 * last validated, project defaults included, and as written now), the project's other
 * pipeline files (open ones as the editor has them; as written, since a file with an
 * error elsewhere still names connections the team has) and `xo-foundry.yaml` defaults.
 */
export async function projectConnections(
  workspace: Workspace,
  file: string,
  project: Project | undefined,
  own: { readonly facts?: PipelineFacts; readonly parsed: ParsedText },
  openText: (file: string) => string | undefined,
): Promise<Map<string, string[]>> {
  const dir = project?.dir ?? workspace.projectDir(file);
  const uses = new Map<string, Set<string>>();
  const add = (id: string, where: string) => uses.set(id, (uses.get(id) ?? new Set()).add(where));
  const here = path.relative(dir, file) || path.basename(file);
  for (const id of own.facts?.connections ?? []) add(id, here);
  for (const id of connectionsIn(safeJs(own.parsed))) add(id, here);
  const files = await workspace.pipelines(dir).catch(() => [] as string[]);
  for (const other of files) {
    if (other === file) continue;
    const text = openText(other) ?? (await readFile(other, "utf8").catch(() => undefined));
    if (text === undefined) continue;
    const parsed = parseText(text);
    if (!isPipelineText(parsed)) continue;
    for (const id of connectionsIn(safeJs(parsed))) add(id, path.relative(dir, other));
  }
  if (project?.file) for (const id of connectionsIn(project.defaults)) add(id, path.relative(dir, project.file));
  const ids = [...uses.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return new Map(ids.map((id) => [id, [...uses.get(id)!].sort()]));
}

/** The string values of every `connection:` key, at any depth. */
export function connectionsIn(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) connectionsIn(v, out);
  else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      if (k === "connection" && typeof v === "string" && v !== "") out.push(v);
      else connectionsIn(v, out);
    }
  }
  return out;
}

function safeJs(parsed: ParsedText): unknown {
  try {
    return parsed.doc.toJS();
  } catch {
    return undefined;
  }
}

/** The schema's items with the references added; a reference replaces the schema's item of the same name (it says more). */
export function withReferences(schemaItems: readonly CompletionItem[], references: readonly CompletionItem[]): CompletionItem[] {
  const named = new Set(references.map((r) => r.label));
  return [...references, ...schemaItems.filter((i) => !named.has(i.label))];
}
