/**
 * `xo-foundry state show|set|reset`: read and change the saved stream state
 * (cursors, watermarks) that incremental extracts start from, and the state steps keep for
 * themselves (an export's watermark `export__<task>`, a delivery's ledger `upload__<task>`).
 */
import pc from "picocolors";
import { pipelineStreams, suggestName, xoError, type JsonObject, type StreamState } from "@xo-foundry/core";
import { landingStateStore, openLanding } from "@xo-foundry/runtime";
import { output } from "../output.js";
import { Projects } from "../projects.js";

export interface StateCommandOptions {
  readonly json?: boolean;
  readonly all?: boolean;
}

type Action = "show" | "set" | "reset";

export async function stateCommand(action: Action, file: string, stream: string | undefined, value: string | undefined, options: StateCommandOptions): Promise<number> {
  const out = output(Boolean(options.json));
  const { pipeline, project, diagnostics } = await new Projects().load(file);
  if (!pipeline) {
    out.diagnostics(diagnostics);
    out.document({ ok: false, diagnostics });
    return 1;
  }
  const landing = openLanding(pipeline, project);
  const store = landingStateStore(landing.store, landing.root, pipeline.config.pipeline.name);
  // Steps' own state has no stream to name it: what is saved is what there is.
  const saved = await store.list();
  const streams = [...new Set([...pipelineStreams(pipeline.config).map((r) => r.stream.name), ...saved])];
  if (stream !== undefined && !streams.includes(stream)) {
    throw xoError("XO_CONFIG_INVALID_VALUE", {
      detail: `pipeline ${pipeline.config.pipeline.name} has no stream or saved state ${JSON.stringify(stream)}`,
      suggestion: suggestName(stream, streams),
      expected: `one of ${streams.map((s) => JSON.stringify(s)).join(", ")}`,
    });
  }

  switch (action) {
    case "show": {
      const names = stream !== undefined ? [stream] : streams;
      const states: Record<string, StreamState | null> = {};
      for (const name of names) states[name] = (await store.get(name)) ?? null;
      for (const [name, state] of Object.entries(states)) {
        out.line(
          state
            ? `${pc.bold(name)}  ${JSON.stringify(state.value)}  ${pc.dim(`saved ${state.savedAt} by run ${state.runId} (${state.logicalDate})`)}`
            : `${pc.bold(name)}  ${pc.dim("no saved state: the next extract starts from the stream's initial value")}`,
        );
      }
      out.document({ pipeline: pipeline.config.pipeline.name, states });
      return 0;
    }
    case "set": {
      if (stream === undefined || value === undefined) throw xoError("XO_STATE_INVALID", { stream: stream ?? "(none)", detail: "give a stream and a JSON object" });
      let parsed: unknown;
      try {
        parsed = JSON.parse(value);
      } catch (e) {
        throw xoError("XO_STATE_INVALID", { stream, detail: `not JSON: ${(e as Error).message}` });
      }
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw xoError("XO_STATE_INVALID", { stream, detail: "expected a JSON object" });
      await store.set(stream, parsed as JsonObject, { runId: "manual__state-set", logicalDate: "" });
      out.line(`${stream}: state set to ${JSON.stringify(parsed)}`);
      out.document({ ok: true, stream, value: parsed });
      return 0;
    }
    case "reset": {
      if (stream === undefined && !options.all) {
        throw xoError("XO_STATE_INVALID", { stream: "(none)", detail: "name the stream to reset, or pass --all to reset every stream of the pipeline" });
      }
      const names = stream !== undefined ? [stream] : streams;
      for (const name of names) await store.delete(name);
      out.line(`reset ${names.join(", ")}: the next extract of each starts from its initial value`);
      out.document({ ok: true, reset: names });
      return 0;
    }
  }
}
