/** The pipeline's landing zone: its root URI and the store that serves its scheme. */
import { resolveConnection, resolveLandingUri, type LandingStore, type Project, type ResolvedPipeline, type XoPlugin } from "@xo-foundry/core";
import { callHookSync } from "./driver.js";
import { fileLanding } from "./file-landing.js";

export interface OpenLanding {
  readonly root: string;
  readonly store: LandingStore;
  /** The plugin that serves the scheme; undefined for the built-in `file://`. */
  readonly owner?: XoPlugin;
}

export function openLanding(pipeline: ResolvedPipeline, project: Project, env: NodeJS.ProcessEnv = process.env, task = "(landing)"): OpenLanding {
  const { landing } = pipeline.config;
  const root = resolveLandingUri(landing.uri, pipeline.projectDir, project.registry.landings().map((l) => l.scheme));
  const scheme = root.slice(0, root.indexOf(":"));
  if (scheme === "file") return { root, store: fileLanding() };
  const connection = landing.connection ? resolveConnection(landing.connection, env) : undefined;
  const definition = project.registry.landing(scheme)!;
  const owner = project.registry.ownerOf("landing", scheme)!;
  const store = callHookSync(owner, "open", task, () => definition.open(root, connection));
  return { root, store, owner };
}
