/**
 * `xo-foundry ui` as a person uses it, in a real headless Chromium (Debian's `chromium`,
 * driven by playwright-core): in an empty project, create a pipeline, edit it in the form
 * and in the YAML editor, see a typo reported with validate-config's own words and
 * cleared when fixed, see the task graph and the generated Python, save, and compare the
 * files on disk with what `generate-dag` writes. Also: API calls without the token or
 * from another origin are refused, axe-core finds no serious accessibility problem, and a
 * local run streams its progress. Nothing is emulated; the pipeline's API source points
 * at a closed port on 127.0.0.1, so its run fails fast and for sure.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { request } from "node:http";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { cliBin, repo, sandbox, xo } from "./helpers.js";

const CHROMIUM = "/usr/bin/chromium";
const artifacts = path.join(repo, "e2e/artifacts");

let project: Awaited<ReturnType<typeof sandbox>>;
let other: Awaited<ReturnType<typeof sandbox>>;
let tmp: string;
let ui: ChildProcess | undefined;
let url: string;
let browser: Browser | undefined;

beforeAll(async () => {
  project = await sandbox();
  other = await sandbox();
  tmp = await mkdtemp(path.join(os.tmpdir(), "xo-ui-"));
  await mkdir(artifacts, { recursive: true });
  ui = spawn(process.execPath, [cliBin, "ui"], { cwd: project.dir, env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
  url = await new Promise<string>((resolve, reject) => {
    let out = "";
    let err = "";
    ui!.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      const m = /http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]+/.exec(out);
      if (m) resolve(m[0]);
    });
    ui!.stderr!.on("data", (c: Buffer) => (err += c.toString()));
    ui!.on("exit", (code) => reject(new Error(`xo-foundry ui exited (${code}): ${err}`)));
  });
  browser = await chromium.launch({ executablePath: CHROMIUM });
});
afterAll(async () => {
  await browser?.close();
  if (ui && ui.exitCode === null) {
    const exited = new Promise((r) => ui!.once("exit", r));
    ui.kill("SIGTERM");
    await exited;
  }
  await Promise.all([project?.remove(), other?.remove(), rm(tmp, { recursive: true, force: true })]);
});

/** The editor's text, line by line as CodeMirror shows it (a short file is drawn whole). */
function editorText(page: Page): Promise<string> {
  return page.locator(".cm-content .cm-line").evaluateAll((lines) => lines.map((l) => l.textContent ?? "").join("\n"));
}

/** Replaces a YAML key in the editor by double-clicking it and typing, as a person would. */
async function retype(page: Page, word: string, replacement: string): Promise<void> {
  await page.locator(".cm-line span", { hasText: new RegExp(`^${word}$`) }).first().dblclick();
  await page.keyboard.type(replacement, { delay: 20 });
}

function raw(target: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(target, { headers }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** axe-core's serious and critical findings on the page as it is now (the page must bypass the CSP). */
async function seriousViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => "axe" in globalThis))) await page.addScriptTag({ path: createRequire(import.meta.url).resolve("axe-core/axe.min.js") });
  return page.evaluate(async () => {
    // Runs in the page; the e2e tsconfig has no DOM types, so the globals are described here.
    const g = globalThis as unknown as { axe: { run: (ctx: unknown) => Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> }; document: unknown };
    const r = await g.axe.run(g.document);
    return r.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  });
}

describe("xo-foundry ui", () => {
  it("creates, checks, previews and saves a pipeline exactly as the CLI would", async () => {
    const page = await browser!.newPage({ viewport: { width: 1500, height: 1000 }, colorScheme: "light" });
    const problems: string[] = [];
    page.on("pageerror", (e) => problems.push(e.message));
    page.on("console", (m) => void (m.type() === "error" && problems.push(m.text())));
    page.on("request", (req) => void (req.url().startsWith(new URL(url).origin) || req.url().startsWith("data:") || problems.push(`network: ${req.url()}`)));
    await page.goto(url);
    await page.locator("body[data-ready=true]").waitFor();
    // The token left the address bar once the page had it.
    expect(page.url()).not.toContain("token=");
    await expect.poll(() => page.locator("#pipelines").textContent()).toContain("No pipelines yet");

    // New pipeline -> a valid starter, checked at once.
    await page.getByLabel("New pipeline").fill("orders");
    await page.getByRole("button", { name: "Create" }).click();
    await expect.poll(() => page.locator("#file-title").textContent()).toBe("orders.yaml");
    await expect.poll(() => page.locator("#errors").textContent()).toContain("No problems");

    // The form writes into the YAML, keeping its comment.
    await page.getByRole("tab", { name: "Form" }).click();
    await page.getByLabel("owner", { exact: true }).fill("analytics");
    await page.getByLabel("load_strategy").selectOption("full_refresh");
    await page.getByLabel("base_url").fill("http://127.0.0.1:9/v1");
    await page.getByLabel("max_retries").fill("0");
    expect(await page.getByLabel("plugin").first().inputValue()).toBe("api");
    await page.screenshot({ path: path.join(artifacts, "ui-form.png") });
    await page.getByRole("tab", { name: "YAML" }).click();
    let yaml = await editorText(page);
    expect(yaml).toMatch(/^# orders: a new pipeline/);
    expect(yaml).toContain("  owner: analytics\n");
    expect(yaml).toContain("  load_strategy: full_refresh\n");
    expect(yaml).toContain("  base_url: http://127.0.0.1:9/v1\n");
    expect(yaml).toContain("  max_retries: 0\n");

    // A typo: the error appears, in validate-config's words, and in the editor.
    await retype(page, "start_date", "start_dat");
    await expect.poll(() => page.locator("#errors").textContent()).toContain("XO_CONFIG_UNKNOWN_KEY");
    const shown = await page.locator("#errors pre").allTextContents();
    await mkdir(path.dirname(path.join(other.dir, "orders.yaml")), { recursive: true });
    const typo = await editorText(page);
    await import("node:fs/promises").then((fs) => fs.writeFile(path.join(other.dir, "orders.yaml"), typo));
    const cli = await xo(["validate-config", "orders.yaml"], { cwd: other.dir });
    expect(cli.code).toBe(1);
    expect(shown.length).toBeGreaterThan(0);
    for (const text of shown) expect(cli.stderr).toContain(`${text}\n`);
    expect(cli.stderr.match(/ error XO_/g)?.length).toBe(shown.length);
    expect(await page.locator(".cm-lintRange-error").count()).toBeGreaterThan(0);
    expect(await page.locator("#save").isDisabled()).toBe(true);
    await page.screenshot({ path: path.join(artifacts, "ui-error.png") });

    // Fixed: the error goes away; the graph and the Python come back.
    await retype(page, "start_dat", "start_date");
    await expect.poll(() => page.locator("#errors").textContent()).toContain("No problems");
    expect(await page.locator(".cm-lintRange-error").count()).toBe(0);
    await expect.poll(() => page.locator("#graph svg g.task").count()).toBe(2);
    expect(await page.locator("#graph svg path.edge").count()).toBe(1);
    expect(await page.locator("#graph svg g.task").evaluateAll((gs) => gs.map((g) => g.getAttribute("data-id")).sort())).toEqual(["extract_items", "load_items"]);
    const python = (await page.locator("#python").textContent()) ?? "";
    expect(python).toContain("DO NOT EDIT");
    expect(await page.locator("#dag-info").textContent()).toContain("not generated yet");
    await page.locator("#diff-box summary").click();
    expect(await page.locator("#diff").textContent()).toContain("+++ b/dags/orders.py");

    // Save & generate: the YAML as typed, and the DAG generate-dag writes for it, byte for byte.
    yaml = await editorText(page);
    await page.getByRole("button", { name: "Save & generate" }).click();
    await expect.poll(() => page.locator("#save-status").textContent()).toContain("Saved");
    expect(await page.locator("#save-status").textContent()).toContain("dags/orders.py (created)");
    expect(await readFile(path.join(project.dir, "orders.yaml"), "utf8")).toBe(yaml);
    const generated = await xo(["generate-dag", "orders.yaml", "-o", tmp], { cwd: project.dir });
    expect(generated.stderr).toBe("");
    expect(generated.code).toBe(0);
    const dag = await readFile(path.join(project.dir, "dags/orders.py"));
    expect(dag.equals(await readFile(path.join(tmp, "orders.py")))).toBe(true);
    expect(dag.toString("utf8")).toBe(python);
    await expect.poll(() => page.locator("#dag-info").textContent()).toContain("up to date");
    await expect.poll(() => page.locator("#pipelines").textContent()).toContain("valid · orders");
    await page.screenshot({ path: path.join(artifacts, "ui-saved.png"), fullPage: true });

    // A local run streams each task and a summary (the closed port makes the extract fail).
    await page.locator("#run-date").fill("2026-03-01");
    await page.getByRole("button", { name: "Run locally" }).click();
    await expect.poll(() => page.locator("#run-events").textContent(), { timeout: 60_000 }).toMatch(/✗ failed/);
    const run = await page.locator("#run-events li").allTextContents();
    expect(run[0]).toBe("orders: logical date 2026-03-01");
    expect(run.some((l) => l.startsWith("✗ extract_items — failed"))).toBe(true);
    expect(run.some((l) => l.includes("load_items — not run: upstream failed"))).toBe(true);
    await page.screenshot({ path: path.join(artifacts, "ui-run.png"), fullPage: true });

    expect(problems).toEqual([]);
    await page.close();
  });

  it("builds streams, nested options and unions through the form alone, and shows the CLI's errors at their fields", async () => {
    // The page bypasses the CSP only so that axe can run in it; the first test runs under it.
    const page = await browser!.newPage({ viewport: { width: 1500, height: 1000 }, colorScheme: "light", bypassCSP: true });
    const problems: string[] = [];
    page.on("pageerror", (e) => problems.push(e.message));
    page.on("console", (m) => void (m.type() === "error" && problems.push(m.text())));
    await page.goto(url);
    await page.locator("body[data-ready=true]").waitFor();
    await expect.poll(() => page.locator("#file-title").textContent()).toBe("orders.yaml");
    await expect.poll(() => page.locator("#errors").textContent()).toContain("No problems");
    await page.getByRole("tab", { name: "Form" }).click();
    const streams = page.getByRole("group", { name: "streams (required)" });
    expect(await streams.locator(":scope > ol > li").count()).toBe(1);

    // A second stream: its fieldset, its fields, labelled and marked required.
    await page.getByRole("button", { name: "Add stream" }).click();
    const name = page.locator("#f-source-streams-1-name");
    await expect.poll(() => name.evaluate((e) => e === (globalThis as unknown as { document: { activeElement: unknown } }).document.activeElement)).toBe(true);
    expect(await name.getAttribute("aria-required")).toBe("true");
    expect(await page.locator('label[for="f-source-streams-1-name"]').textContent()).toBe("name (required)");

    // A bad name: the CLI's own message next to the field, which clears once the name is fixed.
    await name.pressSequentially("Bad-Name", { delay: 10 });
    const error = page.locator("#f-source-streams-1-name-error");
    await expect.poll(() => error.textContent(), { timeout: 10_000 }).toContain('stream name "Bad-Name" is not a safe name');
    expect(await name.getAttribute("aria-invalid")).toBe("true");
    expect(await name.getAttribute("aria-describedby")).toContain("f-source-streams-1-name-error");
    const cliText = (await page.locator("#errors pre").allTextContents()).join("\n");
    expect(cliText).toContain("source.streams[1].name: stream name \"Bad-Name\" is not a safe name");
    expect(await page.getByRole("group", { name: "stream 2: Bad-Name" }).count()).toBe(1);
    // The path is required too: the missing key is reported at its (empty) field.
    expect(await page.locator("#f-source-streams-1-path-error").textContent()).toContain('missing required key "path"');
    await name.fill("customers");
    await page.locator("#f-source-streams-1-path").fill("customers");
    await expect.poll(() => page.locator("#errors").textContent()).toContain("No problems");
    expect(await page.locator("#f-source-streams-1-name-error").count()).toBe(0);
    expect(await name.getAttribute("aria-invalid")).toBeNull();

    // A union inside the stream: pagination's `type:` offers that branch's fields.
    await page.locator("#f-source-streams-1-pagination-summary").click();
    await page.locator("#f-source-streams-1-pagination-type").selectOption("page");
    await page.locator("#f-source-streams-1-pagination-page_size").fill("50");
    await page.locator("#f-source-streams-1-pagination-start_page").fill("0");
    // Another branch: start_page is not one of its keys; it stays in the YAML, flagged, until removed.
    await page.locator("#f-source-streams-1-pagination-type").selectOption("offset");
    await expect.poll(() => page.locator("#f-source-streams-1-pagination-start_page-error").textContent()).toContain('unknown key "start_page"');
    await page.getByRole("tab", { name: "YAML" }).click();
    expect(await editorText(page)).toContain("        type: offset\n        page_size: 50\n        start_page: 0\n");
    await page.getByRole("tab", { name: "Form" }).click();
    await page.getByRole("button", { name: "Remove start_page" }).click();
    expect(await page.locator("#f-source-streams-1-pagination-page_size").inputValue()).toBe("50");
    // An enum inside a nested object.
    await page.locator("#f-source-streams-1-target-summary").click();
    await page.locator("#f-source-streams-1-target-mode").selectOption("append");
    await expect.poll(() => page.locator("#errors").textContent()).toContain("No problems");

    // Move the new stream up and back, from the keyboard; the focus follows the item.
    await page.locator("#f-source-streams-1-up").focus();
    await page.keyboard.press("Enter");
    await expect.poll(() => page.locator("#f-source-streams-0 > legend").textContent()).toBe("stream 1: customers");
    expect(await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { id: string } } }).document.activeElement.id)).toBe("f-source-streams-0-down");
    await page.keyboard.press("Enter");
    await expect.poll(() => page.locator("#f-source-streams-1 > legend").textContent()).toBe("stream 2: customers");

    // The expanded form: no serious accessibility problem, tidy in light and dark.
    expect(await seriousViolations(page)).toEqual([]);
    await page.setViewportSize({ width: 1500, height: 2200 });
    await page.locator("#f-source-streams-1").evaluate((e) => (e as unknown as { scrollIntoView(o: unknown): void }).scrollIntoView({ block: "start" }));
    await page.screenshot({ path: path.join(artifacts, "ui-form-streams.png") });
    await page.emulateMedia({ colorScheme: "dark" });
    await page.screenshot({ path: path.join(artifacts, "ui-form-streams-dark.png") });
    await page.emulateMedia({ colorScheme: "light" });
    await page.setViewportSize({ width: 1500, height: 1000 });

    // The YAML the form wrote: the comment and the first stream as they were, the new keys in the order given.
    await page.getByRole("tab", { name: "YAML" }).click();
    let yaml = await editorText(page);
    expect(yaml).toMatch(/^# orders: a new pipeline/);
    expect(yaml).toContain(
      "    - name: items\n      path: items\n    - name: customers\n      path: customers\n      pagination:\n        type: offset\n        page_size: 50\n      target:\n        mode: append\n",
    );
    // YAML typed in the editor shows in the form.
    await page.locator(".cm-line", { hasText: "mode: append" }).click();
    await page.keyboard.press("End");
    for (let i = 0; i < "append".length; i++) await page.keyboard.press("Backspace");
    await page.keyboard.type("replace", { delay: 20 });
    await page.getByRole("tab", { name: "Form" }).click();
    expect(await page.locator("#f-source-streams-1-target-mode").inputValue()).toBe("replace");
    await page.getByRole("tab", { name: "YAML" }).click();

    // Saved: the YAML as shown, the DAG generate-dag writes for it, byte for byte.
    await expect.poll(() => page.locator("#errors").textContent()).toContain("No problems");
    yaml = await editorText(page);
    await page.getByRole("button", { name: "Save & generate" }).click();
    await expect.poll(() => page.locator("#save-status").textContent()).toContain("Saved");
    expect(await readFile(path.join(project.dir, "orders.yaml"), "utf8")).toBe(yaml);
    const out = path.join(tmp, "streams");
    const generated = await xo(["generate-dag", "orders.yaml", "-o", out], { cwd: project.dir });
    expect([generated.code, generated.stderr]).toEqual([0, ""]);
    const dag = await readFile(path.join(project.dir, "dags/orders.py"));
    expect(dag.equals(await readFile(path.join(out, "orders.py")))).toBe(true);
    expect(dag.toString("utf8")).toContain("extract_customers");
    await expect.poll(() => page.locator("#graph svg g.task").count()).toBe(4);
    expect(problems).toEqual([]);
    await page.close();
  });

  it("draws every example pipeline as a form, reading it without changing it", async () => {
    const examples = await sandbox({}, { copyExamples: true });
    const server = spawn(process.execPath, [cliBin, "ui"], { cwd: examples.dir, env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
    const page = await browser!.newPage({ viewport: { width: 1500, height: 1000 }, colorScheme: "light", bypassCSP: true });
    try {
      const at = await new Promise<string>((resolve, reject) => {
        let out = "";
        server.stdout!.on("data", (c: Buffer) => {
          out += c.toString();
          const m = /http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]+/.exec(out);
          if (m) resolve(m[0]);
        });
        server.on("exit", (code) => reject(new Error(`xo-foundry ui exited (${code})`)));
      });
      const problems: string[] = [];
      page.on("pageerror", (e) => problems.push(e.message));
      await page.goto(at);
      await page.locator("body[data-ready=true]").waitFor();
      const files = await page.locator("#pipelines button.pipeline").evaluateAll((bs) => bs.map((b) => b.getAttribute("data-path") ?? ""));
      expect(files.length).toBeGreaterThan(10);
      await page.getByRole("tab", { name: "Form" }).click();
      const seen: Record<string, unknown> = {};
      for (const file of files) {
        await page.locator(`#pipelines button[data-path="${file}"]`).click();
        await expect.poll(() => page.locator("#file-title").textContent()).toBe(file);
        await expect.poll(() => page.locator("#errors").textContent()).toContain("No problems");
        // Every key has its place in the form (none flagged as unknown), and drawing wrote nothing.
        seen[file] = {
          unsaved: await page.locator("#dirty").isVisible(),
          flagged: await page.locator("#form .field-extra .key").allTextContents(),
          errors: await page.locator("#form .field-error").count(),
          controls: (await page.locator("#form :is(input, select, textarea)").count()) > 10,
          axe: await seriousViolations(page),
        };
        expect(seen[file]).toEqual({ unsaved: false, flagged: [], errors: 0, controls: true, axe: [] });
      }
      // A pipeline with alerts, steps and checks: each alert's kind and the channels it uses.
      await page.locator('#pipelines button[data-path="orders-quality.yaml"]').click();
      await expect.poll(() => page.locator("#f-alerts-0-kind").inputValue()).toBe("slack");
      expect(await page.locator("#f-alerts-0-on-0").isChecked()).toBe(true);
      expect(problems).toEqual([]);
    } finally {
      await page.close();
      const exited = new Promise((r) => server.once("exit", r));
      server.kill("SIGTERM");
      await exited;
      await examples.remove();
    }
  });

  it("refuses API calls without the token or from another origin", async () => {
    const { origin, searchParams } = new URL(url);
    const token = searchParams.get("token")!;
    const host = new URL(url).host;
    expect((await raw(`${origin}/api/pipelines`, { "X-XO-Token": token })).status).toBe(200);
    const none = await raw(`${origin}/api/pipelines`, {});
    expect(none.status).toBe(403);
    expect(JSON.parse(none.body)).toEqual({ error: "missing or wrong token" });
    expect((await raw(`${origin}/api/file?path=orders.yaml`, { "X-XO-Token": token, Origin: "http://evil.example" })).status).toBe(403);
    expect((await raw(`${origin}/api/pipelines`, { "X-XO-Token": token, Host: `attacker.example:${host.split(":")[1]}` })).status).toBe(403);
    // And from a page of another origin in the browser: refused, and unreadable.
    const page = await browser!.newPage();
    await page.goto("about:blank");
    const status = await page.evaluate(async (target) => {
      try {
        return (await fetch(target, { method: "POST", headers: { "Content-Type": "text/plain" }, body: "{}" })).status;
      } catch {
        return "blocked";
      }
    }, `${origin}/api/save`);
    expect(status).toBe("blocked");
    await page.close();
  });

  it("has no serious accessibility problems (axe-core), in the form and in the editor", async () => {
    // The page's CSP refuses any script but its own, axe's too: this page alone bypasses it.
    const page = await browser!.newPage({ viewport: { width: 1500, height: 1000 }, colorScheme: "light", bypassCSP: true });
    await page.goto(url);
    await page.locator("body[data-ready=true]").waitFor();
    await expect.poll(() => page.locator("#errors").textContent()).toContain("No problems");
    const serious = () => seriousViolations(page);
    expect(await serious()).toEqual([]);
    await page.getByRole("tab", { name: "Form" }).click();
    expect(await page.locator("#form select, #form input").count()).toBeGreaterThan(10);
    expect(await serious()).toEqual([]);
    // Keyboard: the tabs move with the arrow keys.
    await page.getByRole("tab", { name: "Form" }).focus();
    await page.keyboard.press("ArrowRight");
    expect(await page.getByRole("tab", { name: "YAML" }).getAttribute("aria-selected")).toBe("true");
    // Completion from the project's schema: keys of the block, and the values of a choice.
    await page.locator(".cm-line", { hasText: "name: orders" }).click();
    await page.keyboard.press("End");
    await page.keyboard.press("Enter");
    await page.keyboard.type("retr");
    await expect.poll(() => page.locator(".cm-tooltip-autocomplete").textContent()).toContain("retries");
    await page.keyboard.press("Escape");
    await page.keyboard.press("Control+a");
    await page.keyboard.insertText("pipeline:\n  load_strategy: ");
    await page.keyboard.press("Control+Space");
    const options = page.locator(".cm-tooltip-autocomplete li");
    await expect.poll(() => options.allTextContents()).toEqual(expect.arrayContaining(["full_refresh", "incremental", "historical"]));
    // CodeMirror ignores Enter for a moment after the list opens (its interactionDelay).
    await page.waitForTimeout(200);
    await page.keyboard.press("Enter");
    expect(await editorText(page)).toMatch(/^pipeline:\n  load_strategy: (full_refresh|incremental|historical)/);
    await expect.poll(() => page.locator("#errors").textContent()).not.toContain("found null");
    await page.emulateMedia({ colorScheme: "dark" });
    await page.screenshot({ path: path.join(artifacts, "ui-dark.png") });
    await page.close();
  });
});
