/**
 * The form view of a pipeline, built from the project's JSON Schema: every section, nested
 * objects (optional ones folded in <details>), lists of objects (streams, steps, alerts)
 * with add / move / remove, lists of scalars, and unions chosen by their discriminator
 * (`plugin:`, `type:`, `uses:`). The YAML stays the one source of truth: the form reads
 * it, and writes each change into it through the Document API (doc.ts), so comments and
 * whatever the form does not show stay as they were. Keys the chosen branch does not know
 * are kept and flagged, never dropped behind the person's back. The CLI's diagnostics are
 * shown next to the field their `path` names.
 */
import { isMap, isScalar, isSeq, parseDocument, stringify, type Document, type YAMLMap } from "yaml";
import type { WireDiagnostic } from "./api.js";
import { appendItem, dotted, isEmpty, moveItem, parentDotted, removeItem, removeValue, setList, setValue, type Path } from "./doc.js";
import type { ScalarKind, Schema, SchemaWalker, Shape } from "./schema.js";

export interface FormHost {
  text(): string;
  /** The form changed the YAML. */
  update(text: string): void;
}

/** Where a path's problems are shown: the control (if any) and the element to put them after. */
interface Field {
  readonly id: string;
  readonly control?: HTMLElement;
  readonly after: HTMLElement;
  /** A folded <details> whose summary says it holds a problem. */
  readonly summary?: HTMLElement;
}

/** Sections in the order a person builds a pipeline; any others follow in the schema's order. */
const SECTIONS = ["pipeline", "source", "sink", "steps", "checks", "alerts", "landing", "runner", "deadline", "template", "sources", "sinks"];

/**
 * Names of values that are secrets. A pipeline file is committed; secrets belong in a
 * connection, so the form never offers an input for them.
 */
const SECRET = /(^|_)(password|passwd|secret|token|api_?key|apikey|private_key|credentials?|access_key|secret_key)$/i;

export class SchemaForm {
  #walker: SchemaWalker | undefined;
  /** The YAML the form shows (it rendered it, or wrote it). */
  #shown = "";
  #doc: Document | undefined;
  /** Folded sections a person opened or closed, by dotted path. */
  readonly #open = new Map<string, boolean>();
  #fields = new Map<string, Field>();
  #diagnostics: readonly WireDiagnostic[] = [];
  /** Optional sections drawn, and whether they were in the YAML then. */
  #summaries: { path: Path; present: boolean }[] = [];

  constructor(
    readonly form: HTMLFormElement,
    readonly note: HTMLElement,
    readonly host: FormHost,
  ) {}

  /** Draws the form anew; the focused control (or `focus`, an element id) keeps the focus. */
  render(walker: SchemaWalker | undefined, focus?: string): void {
    this.#walker = walker;
    const active = document.activeElement;
    const keep = focus ?? (active instanceof HTMLElement && this.form.contains(active) ? active.id : "");
    const selection = (active instanceof HTMLInputElement || active instanceof HTMLTextAreaElement) && active.selectionStart !== null ? { start: active.selectionStart, end: active.selectionEnd ?? active.selectionStart } : undefined;
    this.form.replaceChildren();
    this.#fields = new Map();
    this.#summaries = [];
    this.note.textContent = "";
    this.#shown = this.host.text();
    if (!walker) return;
    const doc = parseDocument(this.#shown);
    this.#doc = doc;
    if (doc.errors.length) {
      this.note.textContent = "The YAML has a syntax error: fix it in the YAML tab, then come back to the form.";
      return;
    }
    if (doc.contents !== null && !isMap(doc.contents)) {
      this.note.textContent = "This file is not a mapping of sections; edit it in the YAML tab.";
      return;
    }
    const root = walker.root;
    const keys = Object.keys(root.properties ?? {}).sort((a, b) => rank(a) - rank(b));
    for (const key of keys) this.#property(this.form, [key], root.properties![key]!, (root.required ?? []).includes(key));
    this.#paint();
    // A section asked for (an item added, a key removed) gives the focus to its first control.
    const found = keep ? document.getElementById(keep) : null;
    const target = found?.matches("input, select, textarea, button, summary") ? found : found?.querySelector<HTMLElement>("summary, input, select, textarea, button:not(:disabled)");
    if (target && this.form.contains(target)) {
      target.focus();
      if (selection && (target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement)) {
        try {
          target.setSelectionRange(selection.start, selection.end);
        } catch {
          // number inputs have no selection
        }
      }
    }
  }

  /** Re-draws only when the YAML changed from elsewhere (the YAML tab, another file), not for the form's own edits. */
  sync(): void {
    if (this.host.text() !== this.#shown) this.render(this.#walker);
  }

  /** The check's diagnostics, each next to the field its path names (or the nearest section shown). */
  showDiagnostics(ds: readonly WireDiagnostic[]): void {
    this.#diagnostics = ds;
    this.#paint();
  }

  /** Applies one edit to the current YAML; `redraw` for edits that change what the form shows. */
  #edit(change: (doc: Document) => void, redraw?: { focus?: string }): void {
    const doc = parseDocument(this.host.text());
    if (doc.errors.length) return;
    change(doc);
    const text = doc.toString();
    this.#shown = text;
    this.#doc = doc;
    this.host.update(text);
    // A section that appeared or went away (its first value typed) gets or loses its Remove button.
    const flipped = this.#summaries.some((s) => s.present !== isMap(doc.getIn(s.path, true)));
    if (redraw || flipped) this.render(this.#walker, redraw?.focus);
  }

  #node(path: Path): unknown {
    return this.#doc?.getIn(path, true);
  }

  // ---- one property: the control its schema and its YAML call for ----

  #property(parent: HTMLElement, path: Path, schema: Schema, required: boolean, one?: string): void {
    const walker = this.#walker!;
    const node = walker.resolve(schema);
    const name = String(path.at(-1));
    const value = this.#node(path);
    if (SECRET.test(name)) return void parent.append(this.#secret(path, name));
    const shape = walker.shape(node);
    const fits =
      isEmpty(value) ||
      (shape.kind === "scalar" && isScalar(value)) ||
      (shape.kind === "list" && isSeq(value)) ||
      ((shape.kind === "object" || shape.kind === "map" || shape.kind === "union" || shape.kind === "keyed") && isMap(value));
    if (!fits || shape.kind === "opaque") return void parent.append(this.#opaque(path, name, node, value, required));
    switch (shape.kind) {
      case "scalar":
        return void parent.append(this.#scalar(path, name, shape.control, node, required));
      case "list":
        return void parent.append(this.#list(path, name, node, walker.resolve(shape.item), required, one));
      case "map":
        return void parent.append(this.#map(path, name, node, walker.resolve(shape.value), required));
      case "object":
      case "union":
      case "keyed":
        return void parent.append(this.#group(path, name, node, shape, required));
    }
  }

  #scalar(path: Path, name: string, kind: ScalarKind, node: Schema | undefined, required: boolean, onInput?: (v: string) => void): HTMLElement {
    const id = idOf(path);
    const raw = this.#node(path);
    const value = isScalar(raw) && raw.value !== null && raw.value !== undefined ? String(raw.value) : undefined;
    const set = (v: unknown) => this.#edit((d) => (v === undefined ? removeValue(d, path) : setValue(d, path, v)));
    const row = div(`field field-${kind.kind}`);
    const label = labelFor(id, name, required);
    let input: HTMLInputElement | HTMLSelectElement;
    if (kind.kind === "choice") {
      const select = document.createElement("select");
      const fallback = node?.default;
      select.append(new Option(fallback === undefined ? (required ? "— choose —" : "— not set —") : `— default: ${String(fallback)} —`, ""));
      select.append(...kind.values.map((v) => new Option(String(v), String(v))));
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
      box.checked = value === undefined ? node?.default === true : value === "true";
      box.addEventListener("change", () => set(box.checked));
      input = box;
      row.classList.add("check");
    } else {
      const field = document.createElement("input");
      field.type = kind.kind === "string" ? "text" : "number";
      if (kind.kind === "integer") field.step = "1";
      if (kind.kind === "number") field.step = "any";
      field.value = value ?? "";
      field.autocomplete = "off";
      field.spellcheck = false;
      const fallback = node?.default;
      if (fallback !== undefined && typeof fallback !== "object") field.placeholder = String(fallback);
      field.addEventListener("input", () => {
        onInput?.(field.value);
        if (field.value === "") return set(undefined);
        const n = Number(field.value);
        if (kind.kind === "string") return set(kind.numeric && field.value.trim() !== "" && Number.isFinite(n) ? n : field.value);
        if (Number.isFinite(n)) set(n);
      });
      input = field;
    }
    input.id = id;
    input.name = dotted(path);
    if (required) input.setAttribute("aria-required", "true");
    const help = helpFor(id, node?.description);
    if (kind.kind === "boolean") row.append(input, label);
    else row.append(label, input);
    if (help) {
      describe(input, help.id);
      row.append(help);
    }
    this.#fields.set(dotted(path), { id: idOf(path), control: input, after: row.lastElementChild as HTMLElement });
    return row;
  }

  /** A value the form cannot edit (a map of any keys, or a shape the schema does not expect): shown, and left to the YAML tab. */
  #opaque(path: Path, name: string, node: Schema | undefined, value: unknown, required: boolean): HTMLElement {
    const id = idOf(path);
    const row = div("field field-opaque");
    const key = document.createElement("span");
    key.className = "key";
    key.id = `${id}-key`;
    key.textContent = name;
    if (required) key.append(text("span", " (required)", "req"));
    const shown = document.createElement("span");
    shown.className = "opaque-value";
    if (isEmpty(value)) shown.append(text("span", "not set — edit it in the YAML tab", "muted small"));
    else {
      const code = text("code", stringify(value).trimEnd(), "yaml-value");
      shown.append(code, text("span", " edit it in the YAML tab", "muted small"));
    }
    row.append(key, shown);
    const help = helpFor(id, node?.description);
    if (help) row.append(help);
    this.#fields.set(dotted(path), { id: idOf(path), after: row.lastElementChild as HTMLElement });
    return row;
  }

  #secret(path: Path, name: string): HTMLElement {
    const row = div("field field-secret");
    const key = text("span", name, "key");
    const hint = text("p", "", "help");
    hint.append(
      "A secret is never written in a pipeline file, which is committed. Name a connection in ",
      text("code", "connection:", ""),
      " and keep the secret there (an Airflow connection, or XO_CONN_<ID> locally).",
    );
    const value = this.#node(path);
    if (!isEmpty(value)) hint.append(text("strong", " This file has a value here: remove it in the YAML tab.", "error"));
    row.append(key, hint);
    this.#fields.set(dotted(path), { id: idOf(path), after: hint });
    return row;
  }

  // ---- objects, unions and lists ----

  /** An object: a fieldset when it must be there, a <details> (folded until it is in the YAML) when it may be. */
  #group(path: Path, name: string, node: Schema | undefined, shape: Shape, required: boolean): HTMLElement {
    const id = idOf(path);
    const present = isMap(this.#node(path));
    const fill = (body: HTMLElement) => {
      const help = helpFor(id, node?.description);
      if (help) body.append(help);
      this.#body(body, path, shape);
      if (!required && present) body.append(this.#button(`${id}-remove`, `Remove ${name}`, `Remove ${name}`, () => this.#edit((d) => removeValue(d, path), { focus: `${id}-summary` }), "danger"));
    };
    if (required) {
      const { fs, legend } = fieldset(id, "group", name, true);
      fill(fs);
      this.#fields.set(dotted(path), { id: idOf(path), after: legend });
      return fs;
    }
    const details = document.createElement("details");
    details.id = id;
    details.className = "group";
    const summary = document.createElement("summary");
    summary.id = `${id}-summary`;
    summary.textContent = name;
    summary.append(text("span", present ? "" : " (optional, not set)", "muted small"));
    const body = div("group-body");
    details.append(summary, body);
    const key = dotted(path);
    let filled = false;
    let open = this.#open.get(key) ?? present;
    if (open) {
      details.open = true;
      fill(body);
      filled = true;
    }
    this.#summaries.push({ path, present });
    // Folded sections are drawn when opened: a pipeline's schema has hundreds of fields.
    details.addEventListener("toggle", () => {
      // Setting `open` above fires a toggle too; only a person's toggle is remembered.
      if (details.open === open) return;
      open = details.open;
      this.#open.set(key, open);
      if (details.open && !filled) {
        filled = true;
        fill(body);
        this.#paint();
      }
    });
    this.#fields.set(key, { id, after: summary, summary });
    return details;
  }

  /** The fields of an object; for a union, the discriminator first and then its branch's fields. */
  #body(into: HTMLElement, path: Path, shape: Shape): void {
    const walker = this.#walker!;
    const map = this.#node(path);
    const present = isMap(map) ? (map as YAMLMap).items.map((p) => String(isScalar(p.key) ? p.key.value : p.key)) : [];
    let properties: Readonly<Record<string, Schema>> = {};
    let required: readonly string[] = [];
    let skip: string[] = [];
    let branch = "";
    if (shape.kind === "object") ({ properties, required } = shape);
    else if (shape.kind === "union") {
      const key = shape.key;
      const current = this.#node([...path, key]);
      const chosen = isScalar(current) ? String(current.value) : "";
      const variant = shape.variants.find((v) => String(v.value) === chosen);
      into.append(this.#scalar([...path, key], key, { kind: "choice", values: shape.variants.map((v) => v.value) }, { ...walker.resolve(variant?.schema.properties?.[key]), ...(variant?.schema.description ? { description: variant.schema.description } : {}) }, true));
      // A new branch: redraw with its fields; keys of the old one stay, flagged below.
      const select = into.lastElementChild!.querySelector("select")!;
      select.addEventListener("change", () => this.render(this.#walker, select.id));
      skip = [key];
      properties = variant?.schema.properties ?? {};
      required = variant?.schema.required ?? [];
      branch = variant ? `${key}: ${String(variant.value)}` : `no ${key} chosen`;
    } else if (shape.kind === "keyed") {
      const variant = shape.variants.find((v) => present.includes(v.key));
      const id = `${idOf(path)}-kind`;
      const row = div("field field-choice");
      const select = document.createElement("select");
      select.id = id;
      select.setAttribute("aria-required", "true");
      select.append(new Option("— choose —", ""), ...shape.variants.map((v) => new Option(v.key, v.key)));
      select.value = variant?.key ?? "";
      select.addEventListener("change", () => {
        if (!select.value) return;
        this.#edit((d) => setValue(d, [...path, select.value], d.createNode({})), { focus: id });
      });
      row.append(labelFor(id, "kind", true), select);
      into.append(row);
      properties = variant?.schema.properties ?? {};
      required = variant?.schema.required ?? [];
      branch = variant ? `a ${variant.key} entry` : "no kind chosen";
    }
    const order = Object.keys(properties)
      .filter((k) => !skip.includes(k))
      .sort((a, b) => weight(walker, a, properties[a]!, required.includes(a)) - weight(walker, b, properties[b]!, required.includes(b)));
    for (const k of order) this.#property(into, [...path, k], properties[k]!, required.includes(k));
    const extra = present.filter((k) => !(k in properties) && !skip.includes(k));
    for (const k of extra) into.append(this.#extra([...path, k], k, branch));
  }

  /** A key the schema (or the chosen branch) does not have: kept, flagged, and removable by the person. */
  #extra(path: Path, name: string, branch: string): HTMLElement {
    const id = idOf(path);
    const row = div("field field-extra");
    const key = text("span", name, "key");
    const value = this.#node(path);
    const shown = SECRET.test(name) ? "••• (hidden)" : stringify(value).trimEnd();
    const note = text("p", "", "help");
    const why = SECRET.test(name)
      ? " — a secret does not belong in a pipeline file: keep it in the connection that `connection:` names. "
      : ` — ${branch ? `not an option of ${branch}` : "not a key the schema knows here"}; kept so nothing is lost. `;
    note.append(text("code", shown.length > 80 ? `${shown.slice(0, 77)}…` : shown, "yaml-value"), why);
    const remove = this.#button(`${id}-remove`, "Remove", `Remove ${name}`, () => this.#edit((d) => removeValue(d, path), { focus: parentFocus(path) }), "danger");
    note.append(remove);
    row.append(key, note);
    this.#fields.set(dotted(path), { id: idOf(path), after: note });
    return row;
  }

  /**
   * A mapping of any keys (`headers`, `checks` per stream, named `sinks`): one entry per
   * key, with the control its value calls for, a Remove button, and a way to add a key.
   */
  #map(path: Path, name: string, node: Schema | undefined, value: Schema | undefined, required: boolean): HTMLElement {
    const walker = this.#walker!;
    const id = idOf(path);
    const shape = walker.shape(value);
    const map = this.#node(path);
    const keys = isMap(map) ? map.items.map((p) => String(isScalar(p.key) ? p.key.value : p.key)) : [];
    const one = singular(name);
    const { fs, legend } = fieldset(id, `group map${shape.kind === "scalar" ? " map-scalars" : ""}`, name, required, node?.description);
    for (const key of keys) {
      const at = [...path, key];
      const remove = this.#button(`${idOf(at)}-remove-key`, "Remove", `Remove ${name} ${key}`, () => this.#edit((d) => removeValue(d, at), { focus: `${id}-new` }), "danger");
      if (shape.kind === "scalar") {
        const row = this.#scalar(at, key, shape.control, value, false);
        row.classList.add("map-entry");
        row.insertBefore(remove, row.children[2] ?? null);
        fs.append(row);
      } else {
        const before = fs.children.length;
        this.#property(fs, at, value ?? {}, false, one);
        const entry = fs.children[before] as HTMLElement | undefined;
        entry?.classList.add("map-entry");
        entry?.querySelector(":scope > legend, :scope > summary")?.after(remove);
      }
    }
    if (keys.length === 0) fs.append(text("p", `No ${name} yet.`, "muted small"));
    // A new key: typed, then added (Enter works too).
    const row = div("field map-new");
    const input = document.createElement("input");
    input.id = `${id}-new`;
    input.autocomplete = "off";
    input.spellcheck = false;
    const add = this.#button(`${id}-add`, "Add", `Add to ${name}`, () => {
      const key = input.value.trim();
      if (!key) return input.focus();
      if (keys.includes(key)) {
        note.textContent = `${name} already has ${key}.`;
        return input.focus();
      }
      const at = [...path, key];
      const fresh = shape.kind === "scalar" ? null : shape.kind === "list" ? [] : {};
      this.#edit((d) => setValue(d, at, fresh === null ? null : d.createNode(fresh)), { focus: idOf(at) });
      const first = this.form.querySelector<HTMLElement>(`#${CSS.escape(idOf(at))}, #${CSS.escape(idOf(at))} :is(input, select, textarea, button)`);
      first?.focus();
    });
    input.addEventListener("keydown", (e) => {
      if (e.key !== "Enter") return;
      e.preventDefault();
      add.click();
    });
    const note = text("p", "", "help");
    note.id = `${id}-new-note`;
    note.setAttribute("role", "status");
    input.setAttribute("aria-describedby", note.id);
    row.append(labelFor(input.id, `new ${one} ${shape.kind === "scalar" ? "key" : "name"}`, false), input, add, note);
    fs.append(row);
    this.#fields.set(dotted(path), { id, after: legend });
    return fs;
  }

  #list(path: Path, name: string, node: Schema | undefined, item: Schema | undefined, required: boolean, one = singular(name)): HTMLElement {
    const walker = this.#walker!;
    const shape = walker.shape(item);
    if (shape.kind === "scalar") return shape.control.kind === "choice" ? this.#choices(path, name, node, shape.control.values, required) : this.#lines(path, name, node, shape.control, required);
    if (shape.kind === "opaque" || shape.kind === "list") return this.#opaque(path, name, node, this.#node(path), required);
    const id = idOf(path);
    const { fs, legend } = fieldset(id, "group list", name, required, node?.description);
    const seq = this.#node(path);
    const items = isSeq(seq) ? seq.items : [];
    const list = document.createElement("ol");
    list.className = "items";
    items.forEach((it, i) => {
      const at = [...path, i];
      const itemId = idOf(at);
      const li = document.createElement("li");
      const box = document.createElement("fieldset");
      box.id = itemId;
      box.className = "item";
      const title = document.createElement("legend");
      const titled = (t: string) => (title.textContent = `${one} ${i + 1}${t ? `: ${t}` : ""}`);
      titled(itemTitle(it));
      const tools = div("item-tools");
      const label = () => title.textContent ?? "";
      tools.append(
        this.#button(`${itemId}-up`, "Move up", `Move up: ${label()}`, () => this.#edit((d) => (this.#forget(path), moveItem(d, path, i, i - 1)), { focus: i - 1 === 0 ? `${idOf([...path, 0])}-down` : `${idOf([...path, i - 1])}-up` }), "", i === 0),
        this.#button(`${itemId}-down`, "Move down", `Move down: ${label()}`, () => this.#edit((d) => (this.#forget(path), moveItem(d, path, i, i + 1)), { focus: i + 1 === items.length - 1 ? `${idOf([...path, i + 1])}-up` : `${idOf([...path, i + 1])}-down` }), "", i === items.length - 1),
        this.#button(`${itemId}-remove`, "Remove", `Remove ${label()}`, () => this.#edit((d) => (this.#forget(path), removeItem(d, path, i)), { focus: i < items.length - 1 ? `${itemId}-remove` : i > 0 ? `${idOf([...path, i - 1])}-remove` : `${id}-add` }), "danger"),
      );
      box.append(title, tools);
      if (isMap(it)) this.#body(box, at, shape);
      else box.append(this.#opaque(at, `${one} ${i + 1}`, walker.resolve(item), it, false));
      // The legend follows the item's name as it is typed.
      for (const key of ["name", "id"]) {
        const input = box.querySelector<HTMLInputElement>(`#${CSS.escape(idOf([...at, key]))}`);
        input?.addEventListener("input", () => titled(input.value));
      }
      li.append(box);
      list.append(li);
      this.#fields.set(dotted(at), { id: idOf(at), after: title });
    });
    if (items.length) fs.append(list);
    else fs.append(text("p", `No ${name} yet.`, "muted small"));
    fs.append(
      this.#button(`${id}-add`, `Add ${one}`, `Add ${one}`, () => {
        let index = 0;
        this.#edit((d) => void (index = appendItem(d, path)), {});
        // The new item's first field, or its kind when it is a union.
        const first = this.form.querySelector<HTMLElement>(`#${CSS.escape(idOf([...path, index]))} :is(input, select, textarea)`);
        (first ?? document.getElementById(`${idOf([...path, index])}-remove`))?.focus();
      }),
    );
    this.#fields.set(dotted(path), { id: idOf(path), after: legend });
    return fs;
  }

  /** A list of scalars, one per line: a textarea is what a person expects for tags or columns. */
  #lines(path: Path, name: string, node: Schema | undefined, kind: ScalarKind, required: boolean): HTMLElement {
    const id = idOf(path);
    const row = div("field field-lines");
    const area = document.createElement("textarea");
    area.id = id;
    area.name = dotted(path);
    area.spellcheck = false;
    const seq = this.#node(path);
    const values = isSeq(seq) ? seq.items.map((i) => (isScalar(i) ? String(i.value) : stringify(i).trim())) : [];
    area.value = values.join("\n");
    area.rows = Math.min(Math.max(values.length + 1, 2), 8);
    if (required) area.setAttribute("aria-required", "true");
    const numeric = kind.kind === "number" || kind.kind === "integer" || (kind.kind === "string" && kind.numeric === true);
    area.addEventListener("input", () => {
      const lines = area.value
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l !== "")
        .map((l) => (numeric && Number.isFinite(Number(l)) ? Number(l) : kind.kind === "boolean" && /^(true|false)$/.test(l) ? l === "true" : l));
      this.#edit((d) => setList(d, path, lines));
    });
    const help = helpFor(id, `${node?.description ? `${node.description} ` : ""}One per line.`)!;
    describe(area, help.id);
    row.append(labelFor(id, name, required), area, help);
    this.#fields.set(dotted(path), { id: idOf(path), control: area, after: help });
    return row;
  }

  /** A list of choices (an alert's `on:`): a checkbox each, in the schema's order. */
  #choices(path: Path, name: string, node: Schema | undefined, values: readonly unknown[], required: boolean): HTMLElement {
    const id = idOf(path);
    const { fs, legend } = fieldset(id, "field-choices", name, required);
    const seq = this.#node(path);
    const chosen = new Set(isSeq(seq) ? seq.items.map((i) => (isScalar(i) ? String(i.value) : "")) : []);
    const boxes = div("choices");
    values.forEach((v, i) => {
      const boxId = `${id}-${i}`;
      const box = document.createElement("input");
      box.type = "checkbox";
      box.id = boxId;
      box.checked = chosen.has(String(v));
      box.addEventListener("change", () => {
        const picked = values.filter((_, j) => (document.getElementById(`${id}-${j}`) as HTMLInputElement).checked);
        this.#edit((d) => setList(d, path, picked));
      });
      const label = document.createElement("label");
      label.htmlFor = boxId;
      label.textContent = String(v);
      const one = div("choice");
      one.append(box, label);
      boxes.append(one);
    });
    fs.append(boxes);
    const help = helpFor(id, node?.description);
    if (help) {
      fs.append(help);
      describe(fs, help.id);
    }
    this.#fields.set(dotted(path), { id: idOf(path), after: legend });
    return fs;
  }

  /** Items moved or removed: which of their sections were opened no longer follows their index. */
  #forget(list: Path): void {
    const prefix = `${dotted(list)}[`;
    for (const key of [...this.#open.keys()]) if (key.startsWith(prefix)) this.#open.delete(key);
  }

  #button(id: string, label: string, name: string, act: () => void, className = "", disabled = false): HTMLButtonElement {
    const b = document.createElement("button");
    b.type = "button";
    b.id = id;
    b.className = `small-button ${className}`.trim();
    b.textContent = label;
    if (name !== label) b.setAttribute("aria-label", name);
    b.disabled = disabled;
    b.addEventListener("click", act);
    return b;
  }

  // ---- problems next to their fields ----

  #paint(): void {
    for (const e of this.form.querySelectorAll(".field-error, .summary-error")) e.remove();
    for (const e of this.form.querySelectorAll<HTMLElement>("[aria-invalid]")) {
      e.removeAttribute("aria-invalid");
      const base = e.dataset.describedby;
      if (base) e.setAttribute("aria-describedby", base);
      else e.removeAttribute("aria-describedby");
    }
    const byField = new Map<string, WireDiagnostic[]>();
    for (const d of this.#diagnostics) {
      let p: string | undefined = d.path;
      while (p && !this.#fields.has(p)) p = parentDotted(p);
      if (!p) continue;
      byField.set(p, [...(byField.get(p) ?? []), d]);
    }
    for (const [p, ds] of byField) {
      const field = this.#fields.get(p)!;
      const id = `${field.id}-error`;
      const box = document.createElement("div");
      box.className = "field-error";
      box.id = id;
      for (const d of ds) {
        const line = text("p", `${d.message}`, d.severity === "warning" ? "warn" : "");
        line.dataset.code = d.code;
        if (d.hint) line.append(text("span", ` — ${d.hint}`, "hint"));
        box.append(line);
      }
      if (field.summary) {
        // A folded section says it has a problem; opened, the problem is at its top.
        field.summary.append(text("span", ` — ${ds.length} problem${ds.length === 1 ? "" : "s"}`, "summary-error"));
        // Folded, the <details> hides it; opened, it is the first thing in the section.
        field.summary.after(box);
      } else field.after.after(box);
      const control = field.control;
      if (control) {
        if (ds.some((d) => d.severity === "error")) control.setAttribute("aria-invalid", "true");
        control.dataset.describedby = control.dataset.describedby ?? control.getAttribute("aria-describedby") ?? "";
        control.setAttribute("aria-describedby", `${control.dataset.describedby} ${id}`.trim());
      }
    }
  }
}

// ---- small helpers ----

function rank(section: string): number {
  const i = SECTIONS.indexOf(section);
  return i < 0 ? SECTIONS.length : i;
}

/**
 * What a person fills first comes first: the name, then required values, other values,
 * and last the lists and sections (required ones first).
 */
function weight(walker: SchemaWalker, key: string, s: Schema, required: boolean): number {
  if (key === "name" || key === "id") return -1;
  const shape = walker.shape(walker.resolve(s));
  return (shape.kind === "scalar" ? 0 : 2) + (required ? 0 : 1);
}

/** An element id for a path: `f-source-streams-1-name`. */
function idOf(path: readonly (string | number)[]): string {
  return `f-${path.map((p) => String(p).replace(/[^A-Za-z0-9_]/g, "_")).join("-")}`;
}

function parentFocus(path: Path): string {
  return `${idOf(path.slice(0, -1))}`;
}

function singular(name: string): string {
  return name.endsWith("ies") ? `${name.slice(0, -3)}y` : name.endsWith("s") ? name.slice(0, -1) : name;
}

/** What a list item is called: its name, id or kind. */
function itemTitle(item: unknown): string {
  if (!isMap(item)) return "";
  for (const key of ["name", "id", "uses", "plugin"]) {
    const v = item.get(key);
    if (typeof v === "string" || typeof v === "number") return String(v);
  }
  return "";
}

function div(className: string): HTMLDivElement {
  const d = document.createElement("div");
  d.className = className;
  return d;
}

function text(tag: string, content: string, className: string): HTMLElement {
  const el = document.createElement(tag);
  el.textContent = content;
  if (className) el.className = className;
  return el;
}

function labelFor(id: string, name: string, required: boolean): HTMLLabelElement {
  const label = document.createElement("label");
  label.htmlFor = id;
  label.textContent = name;
  if (required) label.append(text("span", " (required)", "req"));
  return label;
}

/** A fieldset with its legend (marked when required) and, for `description`, its help text. */
function fieldset(id: string, className: string, name: string, required: boolean, description?: string): { fs: HTMLFieldSetElement; legend: HTMLLegendElement } {
  const fs = document.createElement("fieldset");
  fs.id = id;
  fs.className = className;
  const legend = document.createElement("legend");
  legend.textContent = name;
  if (required) legend.append(text("span", " (required)", "req"));
  fs.append(legend);
  const help = helpFor(id, description);
  if (help) {
    fs.append(help);
    describe(fs, help.id);
  }
  return { fs, legend };
}

function helpFor(id: string, description: string | undefined): HTMLElement | undefined {
  if (!description) return undefined;
  const help = text("p", description, "help");
  help.id = `${id}-help`;
  return help;
}

function describe(el: HTMLElement, id: string): void {
  el.setAttribute("aria-describedby", id);
  el.dataset.describedby = id;
}
