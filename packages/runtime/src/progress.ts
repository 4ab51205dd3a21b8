/**
 * Progress of long tasks. The runtime adds what a task moves to a TaskProgress per
 * page or chunk (a few additions); whoever shows it reads the counters on its own
 * clock, so nothing is formatted or written until a line is due. Progress carries
 * task ids and numbers only: no URIs, options or connection fields.
 */
import { redact, xoError } from "@xo-foundry/core";

/** `waiting` covers the wait for the partition lock; plugin steps are `running` throughout. */
export type ProgressPhase = "waiting" | "extracting" | "loading" | "running";

/** The live counters of one running task. The runtime writes them; listeners only read. */
export interface TaskProgress {
  readonly task: string;
  readonly step: string;
  /** `performance.now()` when the task started. */
  readonly startedAt: number;
  phase: ProgressPhase;
  /** Records received, plus the row counts sources gave with whole files. */
  rows: number;
  /** Pages (record batches) received from the source. */
  pages: number;
  /** Bytes written to the landing zone. */
  bytes: number;
  /** Files finished in the landing zone. */
  files: number;
  /** What a load is loading, from the partition's manifest. */
  loading?: { readonly rows?: number; readonly bytes: number; readonly files: number };
}

/** Told when a task that moves data starts and ends; reads its counters in between. */
export interface ProgressListener {
  taskStarted(progress: Readonly<TaskProgress>): void;
  taskEnded(progress: Readonly<TaskProgress>): void;
}

export function taskProgress(task: string, step: string, phase: ProgressPhase): TaskProgress {
  return { task, step, startedAt: performance.now(), phase, rows: 0, pages: 0, bytes: 0, files: 0 };
}

export const DEFAULT_PROGRESS_INTERVAL_SECONDS = 5;

/** Milliseconds between plain progress lines, from `XO_PROGRESS_INTERVAL_SECONDS`; 0 turns progress off. */
export function progressInterval(env: NodeJS.ProcessEnv): number {
  const raw = env.XO_PROGRESS_INTERVAL_SECONDS;
  if (raw === undefined || raw.trim() === "") return DEFAULT_PROGRESS_INTERVAL_SECONDS * 1000;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw xoError("XO_CONFIG_INVALID_VALUE", { detail: "XO_PROGRESS_INTERVAL_SECONDS must be a number of seconds (0 turns progress off)", found: JSON.stringify(raw) });
  }
  return seconds * 1000;
}

export interface ProgressReporterOptions {
  /** Milliseconds between lines per task; 0 or less prints nothing. */
  readonly intervalMs: number;
  readonly write: (line: string) => void;
  readonly now?: () => number;
}

export interface ProgressReporter extends ProgressListener {
  /** Stops every task's timer, e.g. when the command ends early. */
  stop(): void;
}

/**
 * Plain lines for logs without a terminal (Airflow task logs, CI): one line per
 * running task every interval, counted from that task's start, so a task shorter
 * than the interval prints none and a long one is never silent.
 */
export function progressReporter(options: ProgressReporterOptions): ProgressReporter {
  const now = options.now ?? (() => performance.now());
  const timers = new Map<Readonly<TaskProgress>, ReturnType<typeof setInterval>>();
  return {
    taskStarted(progress) {
      if (options.intervalMs <= 0) return;
      const timer = setInterval(() => options.write(redact(progressLine(progress, now()))), options.intervalMs);
      // The task's own work keeps the process alive; a progress timer never should.
      timer.unref();
      timers.set(progress, timer);
    },
    taskEnded(progress) {
      clearInterval(timers.get(progress));
      timers.delete(progress);
    },
    stop() {
      for (const timer of timers.values()) clearInterval(timer);
      timers.clear();
    },
  };
}

/** `progress extract_orders: 1,250,000 rows, 250 pages, 310 MB, 41,200 rows/s, 30s elapsed` */
export function progressLine(progress: Readonly<TaskProgress>, now: number): string {
  return `progress ${progress.task}: ${progressText(progress, now)}, ${elapsedText(now - progress.startedAt)} elapsed`;
}

/** What the task is doing and how fast, without the elapsed time. */
export function progressText(p: Readonly<TaskProgress>, now: number): string {
  switch (p.phase) {
    case "waiting":
      return "waiting for the partition lock";
    case "running":
      return "running";
    case "loading":
      return p.loading ? `loading ${loadAmount(p.loading)}` : "loading";
    case "extracting": {
      if (p.rows === 0 && p.bytes === 0) return "no data yet";
      const seconds = Math.max(now - p.startedAt, 1) / 1000;
      const parts: string[] = [];
      // Record pages land as part files, an internal detail; files are news only when the source sends whole files.
      if (p.pages > 0) parts.push(countText(p.rows, "row"), countText(p.pages, "page"));
      else parts.push(...(p.rows > 0 ? [countText(p.rows, "row")] : []), countText(p.files, "file"));
      parts.push(bytesText(p.bytes), p.rows > 0 ? `${number().integer.format(p.rows / seconds)} rows/s` : `${bytesText(p.bytes / seconds)}/s`);
      return parts.join(", ");
    }
  }
}

/** `1,250,000 rows, 310 MB from 3 files`; rows only when every file's count is known. */
export function loadAmount(amount: NonNullable<TaskProgress["loading"]>): string {
  const size = `${bytesText(amount.bytes)} from ${countText(amount.files, "file")}`;
  return amount.rows !== undefined ? `${countText(amount.rows, "row")}, ${size}` : size;
}

// Built on first use: creating the first Intl formatter loads ICU data (~20 ms), which a
// task that never prints progress should not pay at start-up.
let formats: { integer: Intl.NumberFormat; decimal: Intl.NumberFormat } | undefined;
const number = () =>
  (formats ??= {
    integer: new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 }),
    decimal: new Intl.NumberFormat("en-US", { maximumFractionDigits: 1 }),
  });

function countText(n: number, noun: string): string {
  return `${number().integer.format(n)} ${noun}${n === 1 ? "" : "s"}`;
}

const BYTE_UNITS = ["B", "kB", "MB", "GB", "TB"] as const;

/** Decimal units, as disks and object stores count: `310 MB`, `3.1 GB`. */
export function bytesText(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < BYTE_UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${(unit === 0 || value >= 10 ? number().integer : number().decimal).format(value)} ${BYTE_UNITS[unit]}`;
}

/** `42s`, `20m05s`, `1h02m`. */
export function elapsedText(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const two = (n: number) => String(n).padStart(2, "0");
  if (s < 3600) return `${Math.floor(s / 60)}m${two(s % 60)}s`;
  return `${Math.floor(s / 3600)}h${two(Math.floor((s % 3600) / 60))}m`;
}
