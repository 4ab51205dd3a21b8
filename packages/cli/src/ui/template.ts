/**
 * The text of a new pipeline: the smallest file that validates with the project's own
 * plugins, so the first thing a person sees is a graph and a DAG, not a page of errors.
 */

/** Source plugins the project's schema offers, in its order. */
function sourcePlugins(schema: Record<string, unknown>): string[] {
  const source = (schema.properties as Record<string, { oneOf?: { properties?: { plugin?: { const?: unknown } } }[] }> | undefined)?.source;
  return (source?.oneOf ?? []).flatMap((o) => (typeof o.properties?.plugin?.const === "string" ? [o.properties.plugin.const] : []));
}

export function newPipelineYaml(name: string, schema: Record<string, unknown>): string {
  const plugins = sourcePlugins(schema);
  const head = `# ${name}: a new pipeline. Change the source, add streams, then Save & generate.\npipeline:\n  name: ${name}\n  schedule: "@daily"\n  start_date: 2026-01-01\n\n`;
  if (plugins.includes("api") || plugins.length === 0) {
    return `${head}source:\n  plugin: api\n  base_url: https://api.example.com/v1\n  streams:\n    - name: items\n      path: items\n`;
  }
  return `${head}source:\n  plugin: ${plugins[0]}\n  streams:\n    - name: items\n`;
}

/** A pipeline name as core accepts it: lower case letter first, then [a-z0-9_]. */
export const PIPELINE_NAME = /^[a-z][a-z0-9_]{0,62}$/;
