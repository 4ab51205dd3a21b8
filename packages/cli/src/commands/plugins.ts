import { openProject } from "@xo-foundry/core";
import { output } from "../output.js";

export async function pluginsCommand(options: { json?: boolean; project?: string }): Promise<number> {
  const out = output(Boolean(options.json));
  const project = await openProject(options.project ?? process.cwd());
  const plugins = project.registry.plugins().map((p) => ({
    name: p.name,
    version: p.version,
    apiVersion: p.apiVersion,
    sources: (p.sources ?? []).map((s) => s.id),
    sinks: (p.sinks ?? []).map((s) => s.id),
    templates: (p.templates ?? []).map((t) => t.id),
    landings: (p.landings ?? []).map((l) => l.scheme),
    steps: (p.steps ?? []).map((s) => s.id),
    observers: (p.observers ?? []).map((o) => o.id),
    errors: p.errors ?? {},
  }));
  out.diagnostics(project.diagnostics);
  out.line(`project: ${project.dir}`);
  if (plugins.length === 0) out.line("no plugins found: add plugin packages (e.g. @xo-foundry/plugin-api) to the project's package.json dependencies");
  for (const p of plugins) {
    const provides = [
      ...p.sources.map((s) => `source:${s}`),
      ...p.sinks.map((s) => `sink:${s}`),
      ...p.templates.map((t) => `template:${t}`),
      ...p.landings.map((l) => `landing:${l}`),
      ...p.steps.map((s) => `step:${s}`),
      ...p.observers.map((o) => `observer:${o}`),
    ];
    out.line(`${p.name} ${p.version}  ${provides.join(" ")}`);
    for (const [code, meaning] of Object.entries(p.errors).sort(([a], [b]) => (a < b ? -1 : 1))) out.line(`  ${code}  ${meaning}`);
  }
  out.document({ project: project.dir, plugins, diagnostics: project.diagnostics });
  return project.diagnostics.some((d) => d.severity === "error") ? 1 : 0;
}
