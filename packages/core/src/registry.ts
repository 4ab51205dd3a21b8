/**
 * The registry holds the loaded plugins and answers "who provides source `api`?".
 * It refuses anything that is not a plugin of our API version, and duplicate names,
 * with errors that name the plugin, so a broken install fails at load time.
 */
import { closest, distance } from "fastest-levenshtein";
import { diagnostic, XoError, type Diagnostic } from "./errors.js";
import {
  BUILTIN_STEPS,
  PLUGIN_API_VERSION,
  PLUGIN_KIND,
  type LandingDefinition,
  type NotifierDefinition,
  type Observer,
  type OptionsSchema,
  type SinkDefinition,
  type SourceDefinition,
  type StepType,
  type TemplateDefinition,
  type XoPlugin,
} from "./plugin.js";
import { RESERVED_SINK_KEYS, RESERVED_SOURCE_KEYS, RESERVED_STREAM_KEYS } from "./config/types.js";

export type ComponentKind = "source" | "sink" | "template" | "landing" | "step" | "observer" | "notifier";

interface Owned<T> {
  readonly definition: T;
  readonly plugin: XoPlugin;
}

export class Registry {
  readonly #plugins = new Map<string, XoPlugin>();
  readonly #sources = new Map<string, Owned<SourceDefinition>>();
  readonly #sinks = new Map<string, Owned<SinkDefinition>>();
  readonly #templates = new Map<string, Owned<TemplateDefinition>>();
  readonly #landings = new Map<string, Owned<LandingDefinition>>();
  readonly #steps = new Map<string, Owned<StepType>>();
  readonly #observers = new Map<string, Owned<Observer>>();
  readonly #notifiers = new Map<string, Owned<NotifierDefinition>>();

  constructor(plugins: readonly unknown[] = []) {
    for (const p of plugins) this.register(p);
  }

  /** Adds a plugin after checking its brand, API version and names. Throws XoError. */
  register(candidate: unknown, origin = "(inline)"): XoPlugin {
    const plugin = checkPlugin(candidate, origin);
    if (this.#plugins.has(plugin.name)) {
      throw new XoError(diagnostic("XO_PLUGIN_DUPLICATE", { plugin: plugin.name, what: `plugin ${JSON.stringify(plugin.name)}` }));
    }
    const add = <T extends { id?: string; scheme?: string }>(map: Map<string, Owned<T>>, kind: ComponentKind, defs: readonly T[] | undefined) => {
      for (const definition of defs ?? []) {
        const key = (definition.id ?? definition.scheme)!;
        if (map.has(key)) {
          throw new XoError(diagnostic("XO_PLUGIN_DUPLICATE", { plugin: plugin.name, what: `${kind} ${JSON.stringify(key)}` }));
        }
        map.set(key, { definition, plugin });
      }
    };
    add(this.#sources, "source", plugin.sources);
    add(this.#sinks, "sink", plugin.sinks);
    add(this.#templates, "template", plugin.templates);
    add(this.#landings, "landing", plugin.landings);
    add(this.#steps, "step", plugin.steps);
    add(this.#observers, "observer", plugin.observers);
    add(this.#notifiers, "notifier", plugin.notifiers);
    this.#plugins.set(plugin.name, plugin);
    const checkers = [...this.#steps.values()].filter((o) => o.definition.handles === "checks");
    if (checkers.length > 1) {
      throw new XoError(
        diagnostic("XO_PLUGIN_DUPLICATE", {
          plugin: plugin.name,
          what: `the step type that runs checks (${checkers.map((o) => `${JSON.stringify(o.definition.id)} of ${o.plugin.name}`).join(", ")})`,
        }),
      );
    }
    for (const [kind, map] of [["template", this.#templates], ["sink", this.#sinks]] as const) {
      const defaults = [...map.values()].filter((o) => (o.definition as { isDefault?: boolean }).isDefault);
      if (defaults.length > 1) {
        throw new XoError(
          diagnostic("XO_PLUGIN_DUPLICATE", {
            plugin: plugin.name,
            what: `the default ${kind} (${defaults.map((o) => `${JSON.stringify(o.definition.id)} of ${o.plugin.name}`).join(", ")})`,
          }),
        );
      }
    }
    return plugin;
  }

  plugins(): readonly XoPlugin[] {
    return sortById([...this.#plugins.values()], (p) => p.name);
  }
  sources(): readonly SourceDefinition[] {
    return definitions(this.#sources);
  }
  sinks(): readonly SinkDefinition[] {
    return definitions(this.#sinks);
  }
  templates(): readonly TemplateDefinition[] {
    return definitions(this.#templates);
  }
  landings(): readonly LandingDefinition[] {
    return definitions(this.#landings);
  }
  steps(): readonly StepType[] {
    return definitions(this.#steps);
  }
  observers(): readonly Observer[] {
    return definitions(this.#observers);
  }
  notifiers(): readonly NotifierDefinition[] {
    return definitions(this.#notifiers);
  }

  source(id: string): SourceDefinition | undefined {
    return this.#sources.get(id)?.definition;
  }
  sink(id: string): SinkDefinition | undefined {
    return this.#sinks.get(id)?.definition;
  }
  template(id: string): TemplateDefinition | undefined {
    return this.#templates.get(id)?.definition;
  }
  landing(scheme: string): LandingDefinition | undefined {
    return this.#landings.get(scheme)?.definition;
  }
  step(id: string): StepType | undefined {
    return this.#steps.get(id)?.definition;
  }
  notifier(id: string): NotifierDefinition | undefined {
    return this.#notifiers.get(id)?.definition;
  }
  /** The step type that runs `checks:` (StepType.handles), if one is installed. */
  checksStep(): StepType | undefined {
    return [...this.#steps.values()].find((o) => o.definition.handles === "checks")?.definition;
  }

  /** The template a pipeline gets when it names none. */
  defaultTemplate(): TemplateDefinition | undefined {
    return [...this.#templates.values()].find((o) => o.definition.isDefault)?.definition;
  }
  /** The sink a pipeline gets when it names none. */
  defaultSink(): SinkDefinition | undefined {
    return [...this.#sinks.values()].find((o) => o.definition.isDefault)?.definition;
  }

  /** The plugin that provides a component, for error messages and DAG headers. */
  ownerOf(kind: ComponentKind, id: string): XoPlugin | undefined {
    return this.#map(kind).get(id)?.plugin;
  }

  /** Ids of the installed components of one kind, and the closest match to `id`. */
  suggest(kind: ComponentKind, id: string): { available: string[]; suggestion: string | undefined } {
    const available = [...this.#map(kind).keys(), ...(kind === "step" ? BUILTIN_STEPS : [])].sort();
    return { available, suggestion: suggestName(id, available) };
  }

  #map(kind: ComponentKind): Map<string, Owned<unknown>> {
    const maps: Record<ComponentKind, Map<string, Owned<unknown>>> = {
      source: this.#sources,
      sink: this.#sinks,
      template: this.#templates,
      landing: this.#landings,
      step: this.#steps,
      observer: this.#observers,
      notifier: this.#notifiers,
    };
    return maps[kind];
  }
}

/** The closest candidate when it is near enough to be a typo. */
export function suggestName(input: string, candidates: readonly string[]): string | undefined {
  if (candidates.length === 0 || input.length === 0) return undefined;
  const best = closest(input, [...candidates]);
  return distance(input, best) <= Math.max(2, Math.floor(input.length / 3)) ? best : undefined;
}

function definitions<T>(map: Map<string, Owned<T>>): readonly T[] {
  return [...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, o]) => o.definition);
}

function sortById<T>(items: T[], key: (t: T) => string): T[] {
  return items.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

function checkPlugin(candidate: unknown, origin: string): XoPlugin {
  const fail = (detail: string): never => {
    throw new XoError(diagnostic("XO_PLUGIN_INVALID", { plugin: origin, detail }));
  };
  if (typeof candidate !== "object" || candidate === null) return fail("expected an object");
  const p = candidate as Partial<XoPlugin> & Record<string, unknown>;
  const label = typeof p.name === "string" ? p.name : origin;
  if (p.kind !== PLUGIN_KIND) {
    throw new XoError(diagnostic("XO_PLUGIN_INVALID", { plugin: label, detail: `missing kind: "${PLUGIN_KIND}"` }));
  }
  if (typeof p.apiVersion !== "number" || !Number.isInteger(p.apiVersion)) {
    throw new XoError(diagnostic("XO_PLUGIN_INVALID", { plugin: label, detail: "apiVersion must be an integer" }));
  }
  if (p.apiVersion !== PLUGIN_API_VERSION) {
    throw new XoError(diagnostic("XO_PLUGIN_API_VERSION", { plugin: label, found: p.apiVersion, expected: PLUGIN_API_VERSION }));
  }
  if (typeof p.name !== "string" || p.name === "") return fail("name must be a non-empty string");
  if (typeof p.version !== "string" || p.version === "") return fail(`${p.name}: version must be a non-empty string`);
  const problems: string[] = [];
  for (const kind of ["sources", "sinks", "templates", "landings", "steps", "observers", "notifiers"] as const) {
    const list = p[kind];
    if (list !== undefined && !Array.isArray(list)) problems.push(`${kind} must be an array`);
  }
  for (const s of p.sources ?? []) {
    problems.push(...reserved(`source ${s.id}`, s.options, RESERVED_SOURCE_KEYS));
    problems.push(...reserved(`source ${s.id} stream`, s.stream, RESERVED_STREAM_KEYS));
    if (typeof s.extract !== "function") problems.push(`source ${s.id} has no extract()`);
  }
  for (const s of p.sinks ?? []) {
    problems.push(...reserved(`sink ${s.id}`, s.options, RESERVED_SINK_KEYS));
    if (typeof s.load !== "function") problems.push(`sink ${s.id} has no load()`);
  }
  for (const t of p.templates ?? []) {
    if (typeof t.tasks !== "function") problems.push(`template ${t.id} has no tasks()`);
  }
  for (const step of p.steps ?? []) {
    if ((BUILTIN_STEPS as readonly string[]).includes(step.id)) problems.push(`step ${JSON.stringify(step.id)} is a built-in step type`);
    if (!step.options || typeof step.options !== "object" || !("shape" in step.options)) problems.push(`step ${step.id} options must be a zod object schema`);
    if (typeof step.run !== "function") problems.push(`step ${step.id} has no run()`);
  }
  for (const n of p.notifiers ?? []) {
    if (!n.options || typeof n.options !== "object" || !("shape" in n.options)) problems.push(`notifier ${n.id} options must be a zod object schema`);
    else if ("connection" in n.options.shape) problems.push(`notifier ${n.id} declares the reserved key "connection"`);
    if (typeof n.send !== "function") problems.push(`notifier ${n.id} has no send()`);
    if (typeof n.airflow !== "function") problems.push(`notifier ${n.id} has no airflow()`);
  }
  for (const o of p.observers ?? []) {
    if (typeof o.id !== "string" || o.id === "") problems.push("every observer needs an id");
  }
  if (p.errors !== undefined && (typeof p.errors !== "object" || p.errors === null || Array.isArray(p.errors))) {
    problems.push("errors must map error codes to descriptions");
  }
  if (problems.length) fail(problems.join("; "));
  return candidate as XoPlugin;
}

function reserved(what: string, schema: OptionsSchema | undefined, keys: readonly string[]): string[] {
  if (!schema || typeof schema !== "object" || !("shape" in schema)) return [`${what} options must be a zod object schema`];
  return Object.keys(schema.shape)
    .filter((k) => keys.includes(k))
    .map((k) => `${what} declares the reserved key "${k}"`);
}

export type { Diagnostic };
