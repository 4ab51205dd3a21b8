/**
 * The page of `xo-foundry ui`: pipelines on the left, the pipeline as a form or as YAML in
 * the middle, and on the right what the CLI would say about it: its problems, its task
 * graph, the DAG it generates and how that differs from the file on disk, and local runs.
 */
import { call, serverEvents, type CheckResult, type WireDiagnostic } from "./api.js";
import { createEditor } from "./editor.js";
import { SchemaForm } from "./form.js";
import { drawGraph } from "./graph.js";
import { SchemaWalker, type Schema } from "./schema.js";

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

interface Open {
  readonly path: string;
  /** The text on disk; undefined for a pipeline not saved yet. */
  saved: string | undefined;
}

let walker: SchemaWalker | undefined;
let schemaText = "";
let current: Open | undefined;
let checkTimer: ReturnType<typeof setTimeout> | undefined;
let checkSeq = 0;
let running = false;
let formTimer: ReturnType<typeof setTimeout> | undefined;
const CHECK_DELAY_MS = 250;
/** The form follows YAML typed elsewhere after a pause, so it is not redrawn on every key. */
const FORM_DELAY_MS = 300;

const editor = createEditor($("editor"), { onChange: typed, schema: () => walker });
const form = new SchemaForm($<HTMLFormElement>("form"), $("form-note"), {
  text: () => editor.text(),
  update: (text) => {
    editor.setText(text, { keepHistory: true });
    edited();
  },
});

/** A change made in the YAML editor (not by the form). */
function typed(): void {
  edited();
  if ($("panel-form").hidden) return;
  clearTimeout(formTimer);
  formTimer = setTimeout(() => form.sync(), FORM_DELAY_MS);
}

function edited(): void {
  markDirty();
  scheduleCheck();
}

function markDirty(): void {
  const dirty = current !== undefined && editor.text() !== current.saved;
  $("dirty").hidden = !dirty;
}

function scheduleCheck(): void {
  clearTimeout(checkTimer);
  checkTimer = setTimeout(() => void check(), CHECK_DELAY_MS);
}

async function check(): Promise<void> {
  if (!current) return;
  const seq = ++checkSeq;
  const answer = await call<CheckResult>("POST", "/api/check", { path: current.path, text: editor.text() });
  if (seq !== checkSeq) return;
  if (!answer.ok) return showFailure(answer.data.error ?? "the check failed");
  const r = answer.data;
  showDiagnostics(r.diagnostics);
  editor.showDiagnostics(r.diagnostics);
  form.showDiagnostics(r.diagnostics);
  drawGraph($("graph"), r.graph, r.valid ? "No tasks." : "Fix the problems to see the task graph.");
  showDag(r);
  $<HTMLButtonElement>("save").disabled = !r.valid || Boolean(r.dag?.conflict);
  document.body.dataset.checked = String(seq);
}

function showFailure(message: string): void {
  const p = document.createElement("p");
  p.className = "error";
  p.textContent = message;
  $("errors").replaceChildren(p);
}

function showDiagnostics(ds: readonly WireDiagnostic[]): void {
  const box = $("errors");
  if (ds.length === 0) {
    const ok = document.createElement("p");
    ok.className = "ok";
    ok.textContent = "No problems: validate-config accepts this file.";
    box.replaceChildren(ok);
    return;
  }
  const list = document.createElement("ul");
  list.className = "diagnostics";
  for (const d of ds) {
    const item = document.createElement("li");
    item.className = `diagnostic ${d.severity}`;
    const pre = document.createElement("pre");
    pre.className = "diagnostic-text";
    pre.textContent = d.text;
    item.append(pre);
    if (d.line) {
      const go = document.createElement("button");
      go.type = "button";
      go.className = "link";
      go.textContent = `Go to line ${d.line}`;
      go.addEventListener("click", () => {
        selectTab("yaml");
        editor.goTo(d.line ?? 1, d.column ?? 1);
      });
      item.append(go);
    }
    list.append(item);
  }
  box.replaceChildren(list);
}

function showDag(r: CheckResult): void {
  const info = $("dag-info");
  const python = $("python");
  const diff = $("diff");
  if (!r.dag) {
    info.textContent = r.valid ? "" : "No DAG while the file has problems.";
    python.textContent = "";
    diff.replaceChildren();
    return;
  }
  const d = r.dag;
  info.textContent = d.conflict ?? `${d.target} (dag_id ${d.dagId}) — ${d.same ? "the file on disk is up to date" : d.exists ? "differs from the file on disk" : "not generated yet"}`;
  info.classList.toggle("error", Boolean(d.conflict));
  python.textContent = d.content;
  diff.replaceChildren(
    ...(d.diff === "" ? ["No difference."] : d.diff.split("\n")).map((line) => {
      const span = document.createElement("span");
      span.textContent = `${line}\n`;
      if (line.startsWith("+") && !line.startsWith("+++")) span.className = "add";
      else if (line.startsWith("-") && !line.startsWith("---")) span.className = "del";
      else if (line.startsWith("@@")) span.className = "hunk";
      return span;
    }),
  );
}

interface PipelineItem {
  readonly path: string;
  readonly valid: boolean;
  readonly dagId: string | null;
  readonly errors: number;
}

async function loadPipelines(): Promise<void> {
  const answer = await call<{ project: string; pipelines: PipelineItem[]; error?: string }>("GET", "/api/pipelines");
  if (!answer.ok) return showFailure(answer.data.error ?? "could not list the pipelines");
  $("project").textContent = answer.data.project;
  const list = $("pipelines");
  list.replaceChildren();
  if (answer.data.pipelines.length === 0) {
    const li = document.createElement("li");
    li.className = "muted";
    li.textContent = "No pipelines yet: create one below.";
    list.append(li);
  }
  for (const p of answer.data.pipelines) {
    const li = document.createElement("li");
    const b = document.createElement("button");
    b.type = "button";
    b.className = "pipeline";
    b.dataset.path = p.path;
    if (current?.path === p.path) b.setAttribute("aria-current", "true");
    const name = document.createElement("span");
    name.textContent = p.path;
    const state = document.createElement("span");
    state.className = p.valid ? "badge ok" : "badge bad";
    state.textContent = p.valid ? `valid · ${p.dagId ?? ""}` : `${p.errors} error${p.errors === 1 ? "" : "s"}`;
    b.append(name, state);
    b.addEventListener("click", () => void openFile(p.path));
    li.append(b);
    list.append(li);
  }
}

async function openFile(path: string): Promise<void> {
  const answer = await call<{ path: string; text: string; error?: string }>("GET", `/api/file?path=${encodeURIComponent(path)}`);
  if (!answer.ok) return showFailure(answer.data.error ?? "could not open the file");
  show({ path: answer.data.path, saved: answer.data.text }, answer.data.text);
}

function show(open: Open, text: string): void {
  current = open;
  $("file-title").textContent = open.path;
  document.title = `${open.path} — xo-foundry`;
  editor.setText(text);
  markDirty();
  $<HTMLButtonElement>("run").disabled = false;
  $("save-status").textContent = "";
  for (const b of document.querySelectorAll<HTMLButtonElement>("#pipelines button.pipeline")) {
    if (b.dataset.path === open.path) b.setAttribute("aria-current", "true");
    else b.removeAttribute("aria-current");
  }
  if (!$("panel-form").hidden) drawForm();
  void check();
}

function drawForm(): void {
  form.render(current ? walker : undefined);
  if (!current) $("form-note").textContent = "Open or create a pipeline first.";
}

/**
 * Reads the project's schema again: `xo-foundry ui` notices a plugin installed while it
 * runs, and the form should offer it without a reload of the page.
 */
async function loadSchema(): Promise<"same" | "changed" | "failed"> {
  const schema = await call<Schema & { error?: string }>("GET", "/api/schema");
  if (!schema.ok) {
    showFailure(schema.data.error ?? "could not read the schema");
    return "failed";
  }
  const text = JSON.stringify(schema.data);
  if (text === schemaText) return "same";
  schemaText = text;
  walker = new SchemaWalker(schema.data);
  return "changed";
}

async function save(): Promise<void> {
  if (!current) return;
  const text = editor.text();
  const status = $("save-status");
  status.textContent = "Saving…";
  const answer = await call<{ saved: boolean; diagnostics: WireDiagnostic[]; files: { file: string; change: string }[]; error?: string }>("POST", "/api/save", { path: current.path, text, base: current.saved ?? null });
  if (!answer.data.saved) {
    status.textContent = answer.data.error ?? "Not saved: fix the problems first.";
    if (answer.data.diagnostics) showDiagnostics(answer.data.diagnostics);
    return;
  }
  current.saved = text;
  markDirty();
  status.textContent = `Saved: ${answer.data.files.map((f) => `${f.file} (${f.change})`).join(", ")}`;
  await loadPipelines();
  await check();
}

interface RunEvent {
  readonly type: "start" | "task" | "progress" | "log" | "summary";
  readonly line?: string;
  readonly phase?: string;
  readonly rows?: number;
  readonly pages?: number;
  readonly bytes?: number;
  readonly files?: number;
  readonly task?: string;
  readonly state?: string;
  readonly durationMs?: number;
  readonly detail?: string;
  readonly ok?: boolean;
  readonly counts?: Record<string, number>;
  readonly errors?: string[];
  readonly logicalDate?: string;
  readonly pipeline?: string;
}

async function run(): Promise<void> {
  if (!current || running) return;
  const list = $("run-events");
  list.replaceChildren();
  for (const old of document.querySelectorAll(".run-log-box")) old.remove();
  const line = (text: string, className: string) => {
    const li = document.createElement("li");
    li.className = className;
    li.textContent = text;
    list.append(li);
    return li;
  };
  if (current.saved === undefined) return void line("Save the pipeline first: a run uses the saved file.", "error");
  if (editor.text() !== current.saved) line("Unsaved changes are not part of this run.", "muted");
  const date = $<HTMLInputElement>("run-date").value;
  const started = await call<{ id?: string; error?: string; diagnostics?: WireDiagnostic[] }>("POST", "/api/run", { path: current.path, ...(date ? { date } : {}) });
  if (!started.ok || !started.data.id) return void line(started.data.error ?? "the run did not start", "error");
  running = true;
  $<HTMLButtonElement>("run").disabled = true;
  const rows = new Map<string, HTMLLIElement>();
  // The steps' log, as `xo-foundry run` prints it, folded under the task list.
  const logBox = document.createElement("details");
  const logSummary = document.createElement("summary");
  const logText = document.createElement("pre");
  logSummary.textContent = "Log";
  logBox.className = "run-log-box";
  logText.className = "run-log";
  // Scrollable, so reachable by keyboard.
  logText.tabIndex = 0;
  logText.setAttribute("aria-label", "Log of the run");
  logBox.append(logSummary, logText);
  let logLines = 0;
  try {
    for await (const { data } of serverEvents(`/api/run/${started.data.id}/events`)) {
      const e = data as RunEvent;
      if (e.type === "start") line(`${e.pipeline ?? ""}: logical date ${e.logicalDate ?? ""}`, "muted");
      else if (e.type === "task" && e.task) {
        const text = `${mark(e.state)} ${e.task} — ${e.state === "running" ? "running…" : (e.detail ?? e.state ?? "")}${e.durationMs !== undefined ? ` (${e.durationMs} ms)` : ""}`;
        const row = rows.get(e.task) ?? line("", "");
        row.textContent = text;
        row.className = `task-${e.state ?? ""}`;
        rows.set(e.task, row as HTMLLIElement);
      } else if (e.type === "progress" && e.task) {
        const row = rows.get(e.task);
        if (row?.className === "task-running") row.textContent = `${mark("running")} ${e.task} — ${e.phase ?? "running"}: ${counters(e)}`;
      } else if (e.type === "log" && e.line !== undefined) {
        if (logLines++ === 0) list.after(logBox);
        logSummary.textContent = `Log (${logLines} line${logLines === 1 ? "" : "s"})`;
        logText.append(`${e.line}\n`);
      } else if (e.type === "summary") {
        const counts = Object.entries(e.counts ?? {}).map(([k, n]) => `${n} ${k}`).join(", ");
        line(`${e.ok ? "✓ succeeded" : "✗ failed"}${counts ? `: ${counts}` : ""} in ${e.durationMs ?? 0} ms`, e.ok ? "summary ok" : "summary error");
        for (const err of e.errors ?? []) line(err, "error pre");
      }
    }
  } finally {
    running = false;
    $<HTMLButtonElement>("run").disabled = false;
  }
}

/** `1,234 rows, 3 pages, 12.1 KB` — only the counters that moved. */
function counters(e: RunEvent): string {
  const parts: string[] = [];
  if (e.rows) parts.push(`${e.rows.toLocaleString("en")} rows`);
  if (e.pages) parts.push(`${e.pages.toLocaleString("en")} page${e.pages === 1 ? "" : "s"}`);
  if (e.files) parts.push(`${e.files} file${e.files === 1 ? "" : "s"}`);
  if (e.bytes) parts.push(e.bytes < 1024 ? `${e.bytes} B` : e.bytes < 1024 ** 2 ? `${(e.bytes / 1024).toFixed(1)} KB` : `${(e.bytes / 1024 ** 2).toFixed(1)} MB`);
  return parts.join(", ") || "starting…";
}

function mark(state: string | undefined): string {
  return state === "success" ? "✓" : state === "failed" ? "✗" : state === "running" ? "…" : "–";
}

function selectTab(which: "form" | "yaml"): void {
  for (const t of ["form", "yaml"] as const) {
    const tab = $(`tab-${t}`);
    tab.setAttribute("aria-selected", String(t === which));
    tab.tabIndex = t === which ? 0 : -1;
    $(`panel-${t}`).hidden = t !== which;
  }
  if (which === "form") {
    drawForm();
    void loadSchema().then((r) => r === "changed" && !$("panel-form").hidden && drawForm());
  } else editor.view.requestMeasure();
}

function setUp(): void {
  $("tab-form").addEventListener("click", () => selectTab("form"));
  $("tab-yaml").addEventListener("click", () => selectTab("yaml"));
  for (const id of ["tab-form", "tab-yaml"]) {
    $(id).addEventListener("keydown", (e) => {
      if (e.key !== "ArrowLeft" && e.key !== "ArrowRight") return;
      const next = id === "tab-form" ? "yaml" : "form";
      selectTab(next);
      $(`tab-${next}`).focus();
    });
  }
  $("save").addEventListener("click", () => void save());
  $("run").addEventListener("click", () => void run());
  const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
  $<HTMLInputElement>("run-date").value = yesterday;
  $("new-form").addEventListener("submit", (e) => {
    e.preventDefault();
    void createPipeline();
  });
}

async function createPipeline(): Promise<void> {
  const input = $<HTMLInputElement>("new-name");
  const error = $("new-error");
  error.textContent = "";
  const answer = await call<{ path: string; text: string; error?: string }>("POST", "/api/new", { name: input.value.trim() });
  if (!answer.ok) {
    error.textContent = answer.data.error ?? "could not create it";
    return;
  }
  input.value = "";
  show({ path: answer.data.path, saved: undefined }, answer.data.text);
  $("save-status").textContent = `${answer.data.path} is new: Save & generate writes it.`;
}

async function start(): Promise<void> {
  setUp();
  if ((await loadSchema()) === "failed") return;
  await loadPipelines();
  const first = document.querySelector<HTMLButtonElement>("#pipelines button.pipeline");
  if (first?.dataset.path) await openFile(first.dataset.path);
  else drawGraph($("graph"), undefined, "Open or create a pipeline.");
  document.body.dataset.ready = "true";
}

void start();
