/**
 * The task graph of a pipeline, laid out in Node by dagre (left to right, as Airflow's
 * graph view reads), so the page only draws boxes and lines it is given. Rounded numbers:
 * the same tasks give the same layout.
 */
import { Graph, layout } from "@dagrejs/dagre";
import type { TaskSpec } from "@xo-foundry/core";

export interface LaidOutGraph {
  readonly width: number;
  readonly height: number;
  readonly nodes: readonly { id: string; step: string; group?: string; x: number; y: number; width: number; height: number }[];
  readonly edges: readonly { from: string; to: string; d: string }[];
}

const NODE_HEIGHT = 44;
/** Rough advance of a 13px character in a system UI font. */
const CHAR = 7.6;

export function layoutTasks(tasks: readonly TaskSpec[]): LaidOutGraph {
  const g = new Graph();
  g.setGraph({ rankdir: "LR", nodesep: 16, ranksep: 56, marginx: 16, marginy: 16 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const t of tasks) g.setNode(t.id, { width: Math.min(320, Math.max(120, Math.ceil(Math.max(t.id.length, t.step.length) * CHAR) + 24)), height: NODE_HEIGHT });
  for (const t of tasks) for (const u of t.upstream) if (g.hasNode(u)) g.setEdge(u, t.id);
  layout(g);
  const nodes = tasks.map((t) => {
    const at = g.node(t.id);
    return { id: t.id, step: t.step, ...(t.group ? { group: t.group } : {}), x: r(at.x - at.width / 2), y: r(at.y - at.height / 2), width: at.width, height: at.height };
  });
  const edges = g.edges().map((e: { v: string; w: string }) => {
    const points = (g.edge(e) as { points?: { x: number; y: number }[] }).points ?? [];
    return { from: e.v, to: e.w, d: points.length ? `M${points.map((p) => `${r(p.x)},${r(p.y)}`).join(" L")}` : "" };
  });
  const { width = 0, height = 0 } = g.graph() as { width?: number; height?: number };
  return { width: Math.ceil(width), height: Math.ceil(height), nodes, edges };
}

function r(n: number): number {
  return Math.round(n * 10) / 10;
}
