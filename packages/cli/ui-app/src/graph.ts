/** Draws the task graph the server laid out: boxes and lines only, no layout here. */
import type { TaskGraph } from "./api.js";

const SVG = "http://www.w3.org/2000/svg";

function el<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

export function drawGraph(box: HTMLElement, graph: TaskGraph | undefined, empty: string): void {
  if (!graph || graph.nodes.length === 0) {
    const p = document.createElement("p");
    p.className = "muted";
    p.textContent = empty;
    box.replaceChildren(p);
    return;
  }
  const svg = el("svg", { viewBox: `0 0 ${graph.width} ${graph.height}`, width: graph.width, height: graph.height, role: "img", "aria-labelledby": "graph-title" });
  const title = el("title", { id: "graph-title" });
  title.textContent = `Task graph: ${graph.nodes.length} tasks, ${graph.edges.length} dependencies. ${graph.edges.map((e) => `${e.from} then ${e.to}`).join("; ")}`;
  const defs = el("defs", {});
  const marker = el("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 8, markerHeight: 8, orient: "auto-start-reverse", markerUnits: "userSpaceOnUse" });
  marker.append(el("path", { d: "M0,0 L10,5 L0,10 z", class: "arrow" }));
  defs.append(marker);
  svg.append(title, defs);
  for (const e of graph.edges) {
    const path = el("path", { d: e.d, class: "edge", "marker-end": "url(#arrow)" });
    path.dataset.from = e.from;
    path.dataset.to = e.to;
    svg.append(path);
  }
  for (const n of graph.nodes) {
    const g = el("g", { class: `task step-${n.step.replace(/[^a-z0-9]/gi, "-")}`, transform: `translate(${n.x},${n.y})` });
    g.dataset.id = n.id;
    g.append(el("rect", { width: n.width, height: n.height, rx: 7 }));
    const label = el("text", { x: 12, y: 19, class: "label" });
    label.textContent = n.id;
    const sub = el("text", { x: 12, y: 34, class: "sub" });
    sub.textContent = n.step;
    g.append(label, sub);
    svg.append(g);
  }
  box.replaceChildren(svg);
}
