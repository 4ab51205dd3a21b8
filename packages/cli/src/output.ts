import { createRequire } from "node:module";
import type * as CliProgress from "cli-progress";
import pc from "picocolors";
import { formatDiagnostic, redact, type Diagnostic } from "@xo-foundry/core";
import { elapsedText, progressReporter, progressText, type ProgressListener, type TaskProgress } from "@xo-foundry/runtime";

export interface Output {
  readonly json: boolean;
  /** A human line on stdout (suppressed in --json mode). */
  line(text?: string): void;
  /** A machine document on stdout (only in --json mode). */
  document(value: unknown): void;
  diagnostics(ds: readonly Diagnostic[]): void;
}

/** Human lines and diagnostics go through `progress`, so that a live display is not torn by them. */
export function output(json: boolean, progress: Pick<ProgressDisplay, "write"> = direct): Output {
  return {
    json,
    line(text = "") {
      if (!json) progress.write("stdout", redact(text));
    },
    document(value) {
      if (json) process.stdout.write(`${redact(JSON.stringify(value, null, 2))}\n`);
    },
    diagnostics(ds) {
      if (json) return;
      for (const d of ds) progress.write("stderr", redact(colorize(formatDiagnostic(d), d)));
    },
  };
}

// ---------------------------------------------------------------- progress

/**
 * `live`: one line per running task, redrawn in place on stderr (a terminal);
 * `lines`: a plain line per running task every interval on stderr (logs, CI);
 * `off`: nothing (`--json`, or an interval of 0).
 */
export type ProgressMode = "live" | "lines" | "off";

export function progressMode(json: boolean, intervalMs: number, env: NodeJS.ProcessEnv = process.env, stderr: { isTTY?: boolean } = process.stderr): ProgressMode {
  if (json || intervalMs <= 0) return "off";
  return stderr.isTTY === true && !env.CI && env.TERM !== "dumb" ? "live" : "lines";
}

export interface ProgressDisplay {
  /** For the runtime; absent when progress is off. */
  readonly listener: ProgressListener | undefined;
  /** Writes a finished line to stdout or stderr; on a terminal with a live display, above it. */
  write(to: "stdout" | "stderr", line: string): void;
  /** Ends the display: erases the live lines, stops the timers. */
  stop(): void;
}

const direct: ProgressDisplay = {
  listener: undefined,
  write: (to, line) => void process[to].write(`${line}\n`),
  stop: () => {},
};

export function progressDisplay(mode: ProgressMode, options: { intervalMs: number; taskWidth: number }): ProgressDisplay {
  if (mode === "off") return direct;
  if (mode === "lines") {
    const reporter = progressReporter({ intervalMs: options.intervalMs, write: (line) => process.stderr.write(`${line}\n`) });
    return { ...direct, listener: reporter, stop: () => reporter.stop() };
  }
  return liveProgress(options.taskWidth);
}

const require = createRequire(import.meta.url);

/** cli-progress draws and redraws the lines; we give it only their text. Loaded only for a live display, not at every start. */
function liveProgress(taskWidth: number): ProgressDisplay {
  const { MultiBar } = require("cli-progress") as typeof CliProgress;
  const bars = new Map<Readonly<TaskProgress>, CliProgress.SingleBar>();
  let multibar: CliProgress.MultiBar | undefined;
  // The display hides the cursor: show it again before a signal ends the process.
  const onSignal = (signal: NodeJS.Signals) => {
    stop();
    process.kill(process.pid, signal);
  };
  const open = (): CliProgress.MultiBar => {
    if (multibar) return multibar;
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    return (multibar = new MultiBar({
      stream: process.stderr,
      fps: 4,
      // Elapsed time changes every second anyway, and a line printed above must not leave a hole.
      forceRedraw: true,
      hideCursor: true,
      clearOnComplete: true,
      // Wrapping stays on, so long lines printed above the display wrap instead of being cut; liveLine fits its own width.
      linewrap: true,
      format: (_options, params, payload: { progress: Readonly<TaskProgress> }) => liveLine(payload.progress, taskWidth, params.maxWidth),
    }));
  };
  function stop() {
    if (!multibar) return;
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    multibar.update(); // prints what is still buffered above the display
    multibar.stop();
    multibar = undefined;
    bars.clear();
  }
  return {
    listener: {
      taskStarted: (p) => void bars.set(p, open().create(0, 0, { progress: p })),
      taskEnded: (p) => {
        const bar = bars.get(p);
        bars.delete(p);
        if (bar) multibar?.remove(bar);
      },
    },
    write(to, line) {
      if (multibar && process[to].isTTY) multibar.log(`${line}\n`);
      else process[to].write(`${line}\n`);
    },
    stop,
  };
}

/**
 * Lined up with the task lines `run` prints when a task ends, and cut to the terminal's
 * width: cli-progress cuts at that many characters, colour codes included, so a line
 * that has to be cut loses its colours first.
 */
export function liveLine(p: Readonly<TaskProgress>, taskWidth: number, columns: number, now = performance.now()): string {
  const elapsed = elapsedText(now - p.startedAt).padStart(7);
  const body = `${p.task.padEnd(taskWidth)} ${progressText(p, now).padEnd(40)}`;
  const colored = `${pc.cyan("›")} ${body} ${pc.dim(elapsed)}`;
  if (colored.length < columns) return redact(colored);
  const room = Math.max(1, columns - elapsed.length - 4);
  return redact(`› ${body.length > room ? `${body.slice(0, room - 1)}…` : body} ${elapsed}`);
}

function colorize(text: string, d: Diagnostic): string {
  const [head, ...rest] = text.split("\n");
  const color = d.severity === "error" ? pc.red : pc.yellow;
  const styled = head!.replace(`${d.severity} ${d.code}`, color(`${d.severity} ${pc.bold(d.code)}`));
  return [styled, ...rest.map((l) => (l.startsWith("  hint:") ? pc.dim(l) : l))].join("\n");
}

export const symbols = {
  ok: pc.green("✔"),
  fail: pc.red("✖"),
  skip: pc.yellow("◌"),
  stale: pc.yellow("~"),
};

export function duration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)}ms` : `${(ms / 1000).toFixed(1)}s`;
}
