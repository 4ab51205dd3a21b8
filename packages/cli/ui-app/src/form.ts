/**
 * The form view of a pipeline, generated from the project's JSON Schema: the `pipeline`
 * block, and the source and sink with their plugin's options. It reads values from, and
 * writes them into, the YAML with the `yaml` Document API, so comments and everything
 * the form does not show stay as they were.
 */
import { isMap, isScalar, parseDocument, type Document } from "yaml";
import type { Schema, SchemaWalker } from "./schema.js";

export interface FormHost {
  text(): string;
  /** The form changed the YAML. */
  update(text: string): void;
}

type Path = readonly (string | number)[];

export function renderForm(form: HTMLFormElement, note: HTMLElement, walker: SchemaWalker | undefined, host: FormHost): void {
  const focused = document.activeElement instanceof HTMLElement && form.contains(document.activeElement) ? document.activeElement.id : "";
  form.replaceChildren();
  note.textContent = "";
  if (!walker) return;
  const doc = parseDocument(host.text());
  if (doc.errors.length) {
    note.textContent = "The YAML has a syntax error: fix it in the YAML tab, then come back to the form.";
    return;
  }
  if (doc.contents !== null && !isMap(doc.contents)) {
    note.textContent = "This file is not a mapping of sections; edit it in the YAML tab.";
    return;
  }
  const write = (path: Path, value: unknown, rerender = false) => {
    const d = parseDocument(host.text());
    if (d.errors.length) return;
    if (value === undefined || value === "") d.deleteIn(path);
    else d.setIn(path, value);
    host.update(d.toString());
    if (rerender) renderForm(form, note, walker, host);
  };

  const pipeline = walker.resolve(walker.root.properties?.pipeline);
  form.append(section("Pipeline", "f-pipeline", fields(walker, doc, ["pipeline"], pipeline?.properties ?? {}, pipeline?.required ?? [], [], write)));
  for (const part of ["source", "sink"] as const) {
    const node = walker.root.properties?.[part];
    const variants = walker.variants(node).filter((v) => walker.resolve(v.properties?.plugin)?.const !== undefined);
    const plugins = variants.map((v) => String(walker.resolve(v.properties!.plugin)!.const));
    const current = scalar(doc, [part, "plugin"]);
    const chosen = variants.find((v) => String(walker.resolve(v.properties!.plugin)!.const) === current);
    const body: HTMLElement[] = [
      control(`f-${part}-plugin`, "plugin", { kind: "choice", values: plugins }, current, part === "source", (v) => write([part, "plugin"], v, true), "Which plugin reads (source) or loads (sink).", walker.resolve(node)?.description),
    ];
    if (chosen) body.push(...fields(walker, doc, [part], chosen.properties ?? {}, chosen.required ?? [], ["plugin", "streams", "sink"], write));
    else if (current) body.push(text("p", `No installed plugin is called "${current}".`, "muted"));
    if (part === "source" && chosen) body.push(text("p", "Streams are edited in the YAML tab.", "muted small"));
    form.append(section(part === "source" ? "Source" : "Sink", `f-${part}`, body));
  }
  if (focused) document.getElementById(focused)?.focus();
}

function fields(walker: SchemaWalker, doc: Document, base: readonly string[], properties: Readonly<Record<string, Schema>>, required: readonly string[], skip: readonly string[], write: (path: Path, value: unknown, rerender?: boolean) => void): HTMLElement[] {
  const out: HTMLElement[] = [];
  for (const [key, s] of Object.entries(properties)) {
    if (skip.includes(key)) continue;
    const node = walker.resolve(s);
    const kind = walker.kind(node);
    if (!kind) continue;
    const path = [...base, key];
    const raw = doc.getIn(path, true);
    const id = `f-${path.join("-")}`;
    if (raw !== undefined && !isScalar(raw)) {
      out.push(control(id, key, { kind: "string" }, "(set in YAML)", false, () => {}, node?.description, undefined, true));
      continue;
    }
    const value = scalar(doc, path);
    out.push(
      control(id, key, kind, value, required.includes(key), (v) => write(path, v), node?.description, node?.default),
    );
  }
  return out;
}

/** A scalar's value as the form shows it; undefined when the key is not there. */
function scalar(doc: Document, path: Path): string | undefined {
  const v = doc.getIn(path);
  if (v === undefined || v === null) return undefined;
  return typeof v === "object" ? undefined : String(v);
}

type Kind = NonNullable<ReturnType<SchemaWalker["kind"]>>;

function control(id: string, name: string, kind: Kind, value: string | undefined, required: boolean, set: (v: unknown) => void, description?: string, fallback?: unknown, readOnly = false): HTMLElement {
  const row = document.createElement("div");
  row.className = `field field-${kind.kind}`;
  const label = document.createElement("label");
  label.htmlFor = id;
  label.textContent = name;
  if (required) label.append(text("span", " (required)", "req"));
  let input: HTMLInputElement | HTMLSelectElement;
  if (kind.kind === "choice") {
    const select = document.createElement("select");
    const none = new Option(fallback === undefined ? "— not set —" : `— default: ${String(fallback)} —`, "");
    select.append(none, ...kind.values.map((v) => new Option(String(v), String(v))));
    if (value !== undefined && !kind.values.map(String).includes(value)) select.append(new Option(value, value));
    select.value = value ?? "";
    select.addEventListener("change", () => {
      const picked = kind.values.find((v) => String(v) === select.value);
      set(select.value === "" ? undefined : (picked ?? select.value));
    });
    input = select;
  } else if (kind.kind === "boolean") {
    const box = document.createElement("input");
    box.type = "checkbox";
    box.checked = value === undefined ? fallback === true : value === "true";
    box.addEventListener("change", () => set(box.checked));
    input = box;
    row.classList.add("check");
  } else {
    const field = document.createElement("input");
    field.type = kind.kind === "string" ? "text" : "number";
    if (kind.kind === "integer") field.step = "1";
    field.value = value ?? "";
    if (fallback !== undefined && typeof fallback !== "object") field.placeholder = String(fallback);
    field.readOnly = readOnly;
    field.addEventListener("input", () => {
      if (field.value === "") return set(undefined);
      if (kind.kind === "string") return set(field.value);
      const n = Number(field.value);
      if (Number.isFinite(n)) set(n);
    });
    input = field;
  }
  input.id = id;
  input.name = name;
  if (description) {
    const help = text("p", description, "help");
    help.id = `${id}-help`;
    input.setAttribute("aria-describedby", help.id);
    if (kind.kind === "boolean") row.append(input, label, help);
    else row.append(label, input, help);
  } else if (kind.kind === "boolean") row.append(input, label);
  else row.append(label, input);
  return row;
}

function section(title: string, id: string, children: readonly HTMLElement[]): HTMLElement {
  const fs = document.createElement("fieldset");
  fs.id = id;
  const legend = document.createElement("legend");
  legend.textContent = title;
  fs.append(legend, ...children);
  return fs;
}

function text(tag: string, content: string, className: string): HTMLElement {
  const el = document.createElement(tag);
  el.textContent = content;
  el.className = className;
  return el;
}
