/**
 * The lineage graph as one self-contained HTML page: laid out here, in Node, by dagre
 * (columns left to right by kind of dataset), drawn as inline SVG, with a little inline
 * script for what a person does with it: hover or click a node to see everything upstream
 * and downstream of it, search, zoom. No network: no fonts, scripts or styles from
 * elsewhere. The same graph gives the same bytes.
 */
import { Graph, layout } from "@dagrejs/dagre";
import { LINEAGE_KINDS, type LineageGraph, type LineageKind, type LineageNode } from "@xo-foundry/core";

/** The column a kind of node leans to; edges ask dagre for at least that many ranks between columns. */
const COLUMN: Readonly<Record<LineageKind, number>> = { source: 0, pipeline: 0, landing: 1, table: 2, dataset: 2, model: 3, destination: 4 };

const KIND_TITLE: Readonly<Record<LineageKind, string>> = {
  source: "Source",
  landing: "Landing",
  table: "Table",
  model: "Model",
  dataset: "Dataset",
  destination: "Destination",
  pipeline: "Pipeline",
};

const NODE_HEIGHT = 46;
const MIN_WIDTH = 140;
const MAX_WIDTH = 300;
/** Rough advance of a character of the label (13px) and of the second line (11px) in a system UI font. */
const LABEL_EM = 7.8;
const SUB_EM = 6.3;

interface Placed {
  readonly node: LineageNode;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly label: string;
  readonly sub: string;
}

export function lineageHtml(graph: LineageGraph, options: { readonly title: string }): string {
  const { placed, paths, width, height } = place(graph);
  const kinds = LINEAGE_KINDS.filter((k) => graph.nodes.some((n) => n.kind === k));
  const pipelines = [...new Set(graph.nodes.flatMap((n) => (n.pipeline ? [n.pipeline] : [])))].sort();
  const data = {
    nodes: graph.nodes.map((n) => ({ kind: n.kind, label: n.label, pipeline: n.pipeline ?? "", uri: n.uri ?? "", namespace: n.namespace ?? "", name: n.name ?? "", detail: n.detail ?? "" })),
    edges: paths.map((p) => ({ from: p.from, to: p.to, via: p.via })),
  };
  const svg = [
    `<svg id="graph" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${esc(options.title)}">`,
    "<defs>",
    ...["arrow", "arrow-up", "arrow-down"].map(
      (id) => `<marker id="${id}" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker>`,
    ),
    "</defs>",
    `<g class="edges">`,
    ...paths.map(
      (p) =>
        `<path class="edge${p.trigger ? " trigger" : ""}" data-from="${p.from}" data-to="${p.to}" d="${p.d}"><title>${esc(`${p.via} (${p.pipelines})`)}</title></path>`,
    ),
    "</g>",
    `<g class="nodes">`,
    ...placed.map(
      (p, i) =>
        `<g class="node k-${p.node.kind}" data-i="${i}" data-id="${esc(p.node.id)}" tabindex="0" transform="translate(${r(p.x - p.width / 2)},${r(p.y - NODE_HEIGHT / 2)})">` +
        `<rect width="${r(p.width)}" height="${NODE_HEIGHT}" rx="8"/><rect class="bar" width="5" height="${NODE_HEIGHT}" rx="2"/>` +
        `<text class="label" x="14" y="19">${esc(p.label)}</text><text class="sub" x="14" y="35">${esc(p.sub)}</text>` +
        `<title>${esc([p.node.label, p.node.pipeline, p.node.uri, p.node.detail].filter(Boolean).join("\n"))}</title></g>`,
    ),
    "</g>",
    "</svg>",
  ].join("\n");

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="xo-foundry lineage">
<title>${esc(options.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
  <div class="title"><h1>${esc(options.title)}</h1><span class="stats">${graph.nodes.length} nodes · ${graph.edges.length} edges · ${pipelines.length} pipeline${pipelines.length === 1 ? "" : "s"}</span></div>
  <div class="tools">
    <input id="search" type="search" placeholder="Search datasets, pipelines, URIs…" aria-label="Search" autocomplete="off">
    <button type="button" id="zoom-out" title="Zoom out">−</button><button type="button" id="zoom-fit" title="Fit to the window">Fit</button><button type="button" id="zoom-in" title="Zoom in">+</button>
  </div>
  <div class="legend">${kinds.map((k) => `<span class="chip k-${k}" data-kind="${k}"><i></i>${KIND_TITLE[k]} <b>${graph.nodes.filter((n) => n.kind === k).length}</b></span>`).join("")}<span class="sep"></span>${pipelines
    .map((p) => `<button type="button" class="chip pipe" data-pipeline="${esc(p)}">${esc(p)}</button>`)
    .join("")}</div>
</header>
<main>
<div id="canvas">${graph.nodes.length === 0 ? '<p class="empty">No datasets: these pipelines name no source, table or step dataset.</p>' : svg}</div>
<aside id="panel" hidden><button type="button" id="close" title="Close">×</button><div id="panel-body"></div></aside>
</main>
<footer>Hover a node to see what it comes from and what it feeds; click to keep it; Esc to clear.</footer>
<script type="application/json" id="lineage-data">${jsonForScript(data)}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

/** Node sizes from their text, positions and edge routes from dagre, rounded so the page is the same every time. */
function place(graph: LineageGraph) {
  const g = new Graph({ multigraph: false });
  g.setGraph({ rankdir: "LR", nodesep: 14, ranksep: 72, edgesep: 10, marginx: 24, marginy: 24 });
  g.setDefaultEdgeLabel(() => ({}));
  const index = new Map(graph.nodes.map((n, i) => [n.id, i]));
  const subs = graph.nodes.map((n) => [n.pipeline, shortDetail(n)].filter(Boolean).join(" · "));
  // One width per kind, so each column's boxes line up.
  const widths = new Map<LineageKind, number>();
  graph.nodes.forEach((n, i) => {
    const wanted = Math.ceil(Math.max(n.label.length * LABEL_EM, subs[i]!.length * SUB_EM)) + 28;
    widths.set(n.kind, Math.min(MAX_WIDTH, Math.max(MIN_WIDTH, wanted, widths.get(n.kind) ?? 0)));
  });
  const texts = graph.nodes.map((n, i) => {
    const width = widths.get(n.kind)!;
    return { width, label: fit(n.label, (width - 28) / LABEL_EM), sub: fit(subs[i]!, (width - 28) / SUB_EM) };
  });
  graph.nodes.forEach((_, i) => g.setNode(`n${i}`, { width: texts[i]!.width, height: NODE_HEIGHT }));
  // One route per pair of nodes, whatever the number of tasks between them.
  const pairs = new Map<string, { from: number; to: number; via: string[]; pipelines: Set<string>; trigger: boolean }>();
  for (const e of graph.edges) {
    const from = index.get(e.from);
    const to = index.get(e.to);
    if (from === undefined || to === undefined) continue;
    const key = `${from}>${to}`;
    const pair = pairs.get(key) ?? { from, to, via: [], pipelines: new Set<string>(), trigger: e.kind === "trigger" };
    pair.via.push(e.via);
    pair.pipelines.add(e.pipeline);
    pairs.set(key, pair);
  }
  for (const p of pairs.values()) {
    const span = COLUMN[graph.nodes[p.to]!.kind] - COLUMN[graph.nodes[p.from]!.kind];
    g.setEdge(`n${p.from}`, `n${p.to}`, { minlen: Math.max(1, span), weight: p.trigger ? 1 : 2 });
  }
  layout(g);
  const placed: Placed[] = graph.nodes.map((node, i) => {
    const at = g.node(`n${i}`);
    return { node, x: at.x, y: at.y, ...texts[i]! };
  });
  const paths = [...pairs.values()].map((p) => {
    const points = (g.edge(`n${p.from}`, `n${p.to}`) as { points?: { x: number; y: number }[] }).points ?? [];
    return { from: p.from, to: p.to, via: p.via.join(", "), pipelines: [...p.pipelines].join(", "), trigger: p.trigger, d: basis(points) };
  });
  const { width = 0, height = 0 } = g.graph() as { width?: number; height?: number };
  return { placed, paths, width: Math.ceil(width), height: Math.ceil(height) };
}

/** What the second line says besides the pipeline: where a source reads, the end of a table's namespace. */
function shortDetail(n: LineageNode): string {
  if (n.kind === "source") return n.detail ?? "";
  if (n.kind === "table" || n.kind === "model" || n.kind === "dataset") return (n.namespace ?? "").replace(/^.*\/(?=[^/]+$)/, "");
  return "";
}

/** `text` cut to about `chars` characters, with an ellipsis. */
function fit(text: string, chars: number): string {
  const max = Math.max(4, Math.floor(chars));
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * A smooth path through dagre's route: a uniform cubic B-spline that starts and ends on the
 * route's end points (the curve d3 calls `curveBasis`).
 */
function basis(points: readonly { x: number; y: number }[]): string {
  if (points.length === 0) return "";
  const p = points.map((q) => [r(q.x), r(q.y)] as const);
  if (p.length < 3) return `M${p.map(([x, y]) => `${x},${y}`).join(" L")}`;
  const parts = [`M${p[0]![0]},${p[0]![1]}`];
  const at = (i: number) => p[Math.min(Math.max(i, 0), p.length - 1)]!;
  parts.push(`L${r((5 * p[0]![0] + p[1]![0]) / 6)},${r((5 * p[0]![1] + p[1]![1]) / 6)}`);
  for (let i = 2; i <= p.length; i++) {
    const [x0, y0] = at(i - 2);
    const [x1, y1] = at(i - 1);
    const [x, y] = at(i);
    parts.push(`C${r((2 * x0 + x1) / 3)},${r((2 * y0 + y1) / 3)} ${r((x0 + 2 * x1) / 3)},${r((y0 + 2 * y1) / 3)} ${r((x0 + 4 * x1 + x) / 6)},${r((y0 + 4 * y1 + y) / 6)}`);
  }
  const [xn, yn] = p[p.length - 1]!;
  parts.push(`L${xn},${yn}`);
  return parts.join(" ");
}

function r(n: number): number {
  return Math.round(n * 10) / 10;
}

/** Text and attribute values of HTML and SVG. */
function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** JSON inside a <script> element: nothing in it can close the element or start a comment. */
function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

const STYLE = `
:root{color-scheme:light dark;--bg:#f8fafc;--panel:#ffffff;--fg:#0f172a;--muted:#64748b;--line:#cbd5e1;--edge:#94a3b8;--up:#0ea5e9;--down:#f97316;--node:#ffffff;
--source:#2563eb;--landing:#d97706;--table:#16a34a;--model:#7c3aed;--dataset:#64748b;--destination:#db2777;--pipeline:#0284c7}
@media (prefers-color-scheme:dark){:root{--bg:#0b1120;--panel:#111827;--fg:#e2e8f0;--muted:#94a3b8;--line:#334155;--edge:#475569;--up:#38bdf8;--down:#fb923c;--node:#111827;
--source:#60a5fa;--landing:#fbbf24;--table:#4ade80;--model:#a78bfa;--dataset:#94a3b8;--destination:#f472b6;--pipeline:#38bdf8}}
*{box-sizing:border-box}
html,body{margin:0;height:100%}
body{display:flex;flex-direction:column;background:var(--bg);color:var(--fg);font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
header{padding:12px 18px 8px;border-bottom:1px solid var(--line);background:var(--panel);display:grid;grid-template-columns:1fr auto;gap:8px 16px;align-items:center}
.title{display:flex;gap:12px;align-items:baseline;flex-wrap:wrap}
h1{font-size:18px;margin:0;font-weight:650}
.stats{color:var(--muted);font-size:13px}
.tools{display:flex;gap:6px}
#search{width:300px;max-width:40vw;padding:6px 10px;border:1px solid var(--line);border-radius:8px;background:var(--bg);color:var(--fg);font:inherit}
button{font:inherit;color:var(--fg);background:var(--bg);border:1px solid var(--line);border-radius:8px;padding:4px 10px;cursor:pointer}
button:hover{border-color:var(--muted)}
.legend{grid-column:1/-1;display:flex;flex-wrap:wrap;gap:6px;align-items:center}
.chip{display:inline-flex;align-items:center;gap:6px;font-size:12px;padding:2px 10px;border:1px solid var(--line);border-radius:999px;background:var(--bg)}
.chip i{width:10px;height:10px;border-radius:3px;background:var(--c)}
.chip b{font-weight:600;color:var(--muted)}
.chip.pipe.on{border-color:var(--up);box-shadow:0 0 0 1px var(--up) inset}
.sep{width:1px;height:18px;background:var(--line);margin:0 4px}
main{flex:1;display:flex;min-height:0}
#canvas{flex:1;overflow:auto;position:relative}
#graph{display:block}
.empty{padding:40px;color:var(--muted)}
.k-source{--c:var(--source)}.k-landing{--c:var(--landing)}.k-table{--c:var(--table)}.k-model{--c:var(--model)}.k-dataset{--c:var(--dataset)}.k-destination{--c:var(--destination)}.k-pipeline{--c:var(--pipeline)}
.node{cursor:pointer;outline:none}
.node rect{fill:var(--node);stroke:var(--c);stroke-width:1.2}
.node rect.bar{fill:var(--c);stroke:none}
.node .label{font-size:13px;font-weight:600;fill:var(--fg)}
.node .sub{font-size:11px;fill:var(--muted)}
.node:hover rect:first-child,.node:focus rect:first-child{stroke-width:2.2}
.edge{fill:none;stroke:var(--edge);stroke-width:1.4;marker-end:url(#arrow)}
.edge.trigger{stroke-dasharray:5 4}
marker path{fill:var(--edge)}#arrow-up path{fill:var(--up)}#arrow-down path{fill:var(--down)}
svg.focus .node,svg.focus .edge{opacity:.16;transition:opacity .12s}
svg.focus .node.hl-self,svg.focus .node.hl-up,svg.focus .node.hl-down,svg.focus .node.match{opacity:1}
svg.focus .edge.hl-up{opacity:1;stroke:var(--up);stroke-width:2.4;marker-end:url(#arrow-up)}
svg.focus .edge.hl-down{opacity:1;stroke:var(--down);stroke-width:2.4;marker-end:url(#arrow-down)}
.node.hl-self rect:first-child{stroke-width:3}
.node.hl-up rect:first-child{stroke:var(--up);stroke-width:2.2}
.node.hl-down rect:first-child{stroke:var(--down);stroke-width:2.2}
.node.match rect:first-child{stroke-width:3;stroke-dasharray:4 2}
aside{width:340px;border-left:1px solid var(--line);background:var(--panel);padding:14px 16px;overflow:auto;position:relative}
aside h2{font-size:15px;margin:0 0 2px;word-break:break-all}
aside .kind{display:inline-block;font-size:11px;text-transform:uppercase;letter-spacing:.06em;color:var(--c);font-weight:700}
aside dl{margin:10px 0;display:grid;grid-template-columns:auto 1fr;gap:4px 10px;font-size:12px}
aside dt{color:var(--muted)}aside dd{margin:0;word-break:break-all}
aside h3{font-size:12px;margin:14px 0 4px;color:var(--muted);text-transform:uppercase;letter-spacing:.06em}
aside ul{margin:0;padding-left:16px;font-size:12px}
aside li{margin:2px 0}aside li a{color:inherit;cursor:pointer;text-decoration:underline dotted}
aside li span{color:var(--muted)}
#close{position:absolute;right:10px;top:8px;padding:0 8px}
footer{padding:4px 18px;font-size:11px;color:var(--muted);border-top:1px solid var(--line);background:var(--panel)}
`;

const SCRIPT = `
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("lineage-data").textContent);
  var svg = document.getElementById("graph");
  if (!svg) return;
  var nodes = Array.prototype.slice.call(svg.querySelectorAll("g.node"));
  var edges = Array.prototype.slice.call(svg.querySelectorAll("path.edge"));
  var out = data.nodes.map(function () { return []; }), inc = data.nodes.map(function () { return []; });
  data.edges.forEach(function (e) { out[e.from].push(e.to); inc[e.to].push(e.from); });
  var pinned = null;
  function walk(start, next) {
    var seen = new Set(), stack = next[start].slice();
    while (stack.length) { var n = stack.pop(); if (seen.has(n) || n === start) continue; seen.add(n); stack.push.apply(stack, next[n]); }
    return seen;
  }
  function show(i) {
    var up = walk(i, inc), down = walk(i, out);
    svg.classList.add("focus");
    nodes.forEach(function (n, k) { n.classList.toggle("hl-self", k === i); n.classList.toggle("hl-up", up.has(k)); n.classList.toggle("hl-down", down.has(k)); });
    edges.forEach(function (e, k) {
      var d = data.edges[k];
      e.classList.toggle("hl-up", up.has(d.from) && (up.has(d.to) || d.to === i));
      e.classList.toggle("hl-down", down.has(d.to) && (down.has(d.from) || d.from === i));
    });
  }
  function clear() {
    svg.classList.remove("focus");
    nodes.forEach(function (n) { n.classList.remove("hl-self", "hl-up", "hl-down"); });
    edges.forEach(function (e) { e.classList.remove("hl-up", "hl-down"); });
    if (matches().length) svg.classList.add("focus");
  }
  function matches() { return nodes.filter(function (n) { return n.classList.contains("match"); }); }
  function restore() { if (pinned === null) clear(); else show(pinned); }
  var panel = document.getElementById("panel"), body = document.getElementById("panel-body");
  function el(tag, text, cls) { var e = document.createElement(tag); if (text !== undefined) e.textContent = text; if (cls) e.className = cls; return e; }
  function list(title, items) {
    if (!items.length) return;
    body.appendChild(el("h3", title));
    var ul = el("ul");
    items.forEach(function (it) {
      var li = el("li"), a = el("a", data.nodes[it.node].label);
      a.addEventListener("click", function () { pin(it.node, true); });
      li.appendChild(a); li.appendChild(el("span", " via " + it.via)); ul.appendChild(li);
    });
    body.appendChild(ul);
  }
  function details(i) {
    var n = data.nodes[i];
    body.textContent = "";
    body.className = "k-" + n.kind;
    body.appendChild(el("span", n.kind, "kind"));
    body.appendChild(el("h2", n.label));
    var dl = el("dl");
    [["pipeline", n.pipeline], ["uri", n.uri], ["namespace", n.namespace], ["name", n.name], ["detail", n.detail]].forEach(function (f) {
      if (!f[1]) return; dl.appendChild(el("dt", f[0])); dl.appendChild(el("dd", f[1]));
    });
    body.appendChild(dl);
    list("Upstream", data.edges.filter(function (e) { return e.to === i; }).map(function (e) { return { node: e.from, via: e.via }; }));
    list("Downstream", data.edges.filter(function (e) { return e.from === i; }).map(function (e) { return { node: e.to, via: e.via }; }));
    panel.hidden = false;
  }
  function pin(i, scroll) {
    pinned = i; show(i); details(i);
    if (scroll) nodes[i].scrollIntoView({ block: "center", inline: "center", behavior: "smooth" });
  }
  function unpin() { pinned = null; panel.hidden = true; restore(); }
  nodes.forEach(function (n, i) {
    n.addEventListener("mouseenter", function () { show(i); });
    n.addEventListener("mouseleave", restore);
    n.addEventListener("focus", function () { show(i); });
    n.addEventListener("blur", restore);
    n.addEventListener("click", function (ev) { ev.stopPropagation(); if (pinned === i) unpin(); else pin(i, false); });
    n.addEventListener("keydown", function (ev) { if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); pin(i, false); } });
  });
  document.getElementById("canvas").addEventListener("click", function (ev) { if (ev.target === svg || ev.target === this) unpin(); });
  document.getElementById("close").addEventListener("click", unpin);
  document.addEventListener("keydown", function (ev) { if (ev.key === "Escape") { search.value = ""; filter(""); unpin(); } });
  var search = document.getElementById("search");
  function filter(q, test) {
    q = q.trim().toLowerCase();
    nodes.forEach(function (n, i) {
      var d = data.nodes[i];
      var hit = test ? test(d) : q !== "" && [d.label, d.pipeline, d.uri, d.detail, d.kind].join(" ").toLowerCase().indexOf(q) >= 0;
      n.classList.toggle("match", hit);
    });
    restore();
  }
  search.addEventListener("input", function () { pipeChips.forEach(function (c) { c.classList.remove("on"); }); filter(search.value); });
  search.addEventListener("keydown", function (ev) { if (ev.key === "Enter") { var m = matches()[0]; if (m) pin(nodes.indexOf(m), true); } });
  var pipeChips = Array.prototype.slice.call(document.querySelectorAll(".chip.pipe"));
  pipeChips.forEach(function (chip) {
    chip.addEventListener("click", function () {
      var on = !chip.classList.contains("on");
      pipeChips.forEach(function (c) { c.classList.remove("on"); });
      chip.classList.toggle("on", on);
      search.value = "";
      var p = chip.getAttribute("data-pipeline");
      filter("", on ? function (d) { return d.pipeline === p; } : function () { return false; });
    });
  });
  var scale = 1, width = +svg.getAttribute("width"), height = +svg.getAttribute("height");
  function zoom(to) { scale = Math.min(3, Math.max(0.2, to)); svg.setAttribute("width", String(Math.round(width * scale))); svg.setAttribute("height", String(Math.round(height * scale))); }
  document.getElementById("zoom-in").addEventListener("click", function () { zoom(scale * 1.25); });
  document.getElementById("zoom-out").addEventListener("click", function () { zoom(scale / 1.25); });
  document.getElementById("zoom-fit").addEventListener("click", function () { var c = document.getElementById("canvas"); zoom(Math.min(c.clientWidth / width, c.clientHeight / height)); });
  document.getElementById("canvas").addEventListener("wheel", function (ev) { if (!ev.ctrlKey) return; ev.preventDefault(); zoom(scale * (ev.deltaY < 0 ? 1.1 : 1 / 1.1)); }, { passive: false });
})();
`;
