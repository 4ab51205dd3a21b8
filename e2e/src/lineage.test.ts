/**
 * `xo-foundry lineage` on the examples, and its HTML page in a real headless Chromium
 * (Debian's `chromium`, driven by playwright-core): the page renders every node and edge
 * from a file:// URL without touching the network, clicking a table lights up everything
 * upstream of it, and a screenshot is kept in e2e/artifacts/lineage.png.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Browser } from "playwright-core";
import { repo, xo } from "./helpers.js";

const CHROMIUM = "/usr/bin/chromium";

interface Graph {
  readonly nodes: readonly { id: string; kind: string; label: string; pipeline?: string }[];
  readonly edges: readonly { from: string; to: string; via: string }[];
}

let dir: string;
let browser: Browser | undefined;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "xo-lineage-"));
  browser = await chromium.launch({ executablePath: CHROMIUM });
});
afterAll(async () => {
  await browser?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Every node `id` comes from, following edges backwards. */
function upstreamOf(graph: Graph, id: string): Set<string> {
  const seen = new Set<string>();
  const stack = [id];
  while (stack.length > 0) {
    const to = stack.pop()!;
    for (const e of graph.edges) {
      if (e.to !== to || e.from === id || seen.has(e.from)) continue;
      seen.add(e.from);
      stack.push(e.from);
    }
  }
  return seen;
}

describe("xo-foundry lineage", () => {
  it("prints Mermaid by default, JSON on request, and refuses what is not there", async () => {
    const mermaid = await xo(["lineage", "examples"]);
    expect(mermaid.stderr).toBe("");
    expect(mermaid.code).toBe(0);
    expect(mermaid.stdout).toMatch(/^flowchart LR\n/);
    const json = await xo(["lineage", "examples", "--json"]);
    const doc = JSON.parse(json.stdout) as Graph & { ok: boolean };
    expect(doc.ok).toBe(true);
    // The dbt step's models hang off the tables the same pipeline loads.
    const mart = doc.nodes.find((n) => n.kind === "model" && n.label.endsWith("customer_orders"))!;
    expect([...upstreamOf(doc, mart.id)].map((id) => doc.nodes.find((n) => n.id === id)!.kind).sort()).toEqual(
      expect.arrayContaining(["landing", "model", "source", "table"]),
    );
    const missing = await xo(["lineage", "no-such-folder"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("XO_CONFIG_NOT_FOUND");
    expect(missing.stderr).not.toMatch(/\n\s+at /);
  });

  it("writes a page that renders in Chromium, offline, and lights up a table's upstream on click", async () => {
    const file = path.join(dir, "lineage.html");
    const r = await xo(["lineage", "examples", "--output", file]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const graph = JSON.parse((await xo(["lineage", "examples", "--format", "json"])).stdout) as Graph;
    const html = await readFile(file, "utf8");
    // Self-contained: nothing is loaded from elsewhere.
    expect(html).not.toMatch(/<(?:link|script)[^>]+(?:href|src)=/i);

    const page = await browser!.newPage({ viewport: { width: 1600, height: 1000 } });
    const problems: string[] = [];
    page.on("pageerror", (e) => problems.push(e.message));
    page.on("console", (m) => void (m.type() === "error" && problems.push(m.text())));
    page.on("request", (req) => void (req.url().startsWith("file:") || problems.push(`network: ${req.url()}`)));
    await page.goto(pathToFileURL(file).href);

    // Every node and every connected pair of nodes is drawn, with a size.
    const pairs = new Set(graph.edges.map((e) => `${e.from}>${e.to}`));
    await expect.poll(() => page.locator("g.node").count()).toBe(graph.nodes.length);
    expect(await page.locator("path.edge").count()).toBe(pairs.size);
    const box = await page.locator("g.node").first().boundingBox();
    expect(box!.width).toBeGreaterThan(50);
    expect(await page.locator("path.edge").first().getAttribute("d")).toMatch(/^M[\d.]+,[\d.]+ /);

    // The table with the most upstream: clicking it highlights exactly its upstream.
    const tables = graph.nodes.filter((n) => n.kind === "table").map((n) => ({ node: n, up: upstreamOf(graph, n.id) }));
    const { node: table, up } = tables.sort((a, b) => b.up.size - a.up.size)[0]!;
    expect(up.size).toBeGreaterThanOrEqual(2);
    const node = page.locator(`g.node[data-id="${table.id}"]`);
    await node.scrollIntoViewIfNeeded();
    await node.click();
    const lit = await page.locator("g.node.hl-up").evaluateAll((els) => els.map((e) => e.getAttribute("data-id")));
    expect(new Set(lit)).toEqual(up);
    await expect.poll(() => node.getAttribute("class")).toContain("hl-self");
    expect(await page.locator("path.edge.hl-up").count()).toBeGreaterThan(0);
    expect(await page.locator("#panel").isVisible()).toBe(true);
    expect(await page.locator("#panel h2").textContent()).toBe(table.label);

    // Search narrows to matches; Escape clears everything.
    await page.locator("#search").fill(table.pipeline!);
    expect(await page.locator("g.node.match").count()).toBeGreaterThan(0);

    await mkdir(path.join(repo, "e2e/artifacts"), { recursive: true });
    const png = await page.screenshot({ path: path.join(repo, "e2e/artifacts/lineage.png") });
    await page.keyboard.press("Escape");
    expect(await page.locator("g.node.hl-up, g.node.match").count()).toBe(0);
    expect(problems).toEqual([]);

    // A real picture: a PNG of the viewport's size, with more in it than one colour.
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([1600, 1000]);
    expect(png.length).toBeGreaterThan(30_000);
    // The same graph gives the same page.
    expect((await xo(["lineage", "examples", "--format", "html"])).stdout).toBe(html);
  });
});
