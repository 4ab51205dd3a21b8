/**
 * Pipeline fixtures for `xo-foundry test` (docs/adr/0013): `<pipeline>.test.yaml` next to
 * `<pipeline>.yaml` says on which logical dates to run the pipeline, with which
 * environment and helper processes, and how many rows each table must then hold.
 *
 * ```yaml
 * services:
 *   sample_api:
 *     command: [node, sample-api/server.mjs]     # in this file's folder
 *     env: { TOKEN: fixture-token }
 *     ready: "listening on (?<url>\\S+)"          # named groups become ${sample_api.url}
 * env:
 *   XO_CONN_SAMPLE_SHOP: '{"host": "${sample_api.url}", "password": "fixture-token"}'
 * tests:
 *   - name: mid_january
 *     dates: [2026-01-15]
 *     expect:
 *       tables: { main.orders: 23 }              # `<sink>/<table>` when there are several sinks
 *       tasks: { archive_orders: skipped }
 * ```
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readdir } from "node:fs/promises";
import path from "node:path";
import {
  diagnostic,
  dottedPath,
  locate,
  parseDate,
  readYamlFile,
  type Diagnostic,
  type Location,
  type ParsedYaml,
  type PathSegment,
} from "@xo-foundry/core";

export const FIXTURE_SUFFIX = /\.test\.ya?ml$/i;

export const TASK_STATES = ["success", "skipped", "failed", "upstream_failed"] as const;
export type ExpectedState = (typeof TASK_STATES)[number];

export interface ServiceSpec {
  readonly name: string;
  readonly command: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly ready: RegExp;
  readonly timeoutMs: number;
  readonly where: Location;
}

export interface FixtureCase {
  readonly name: string;
  readonly dates: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** `[sink/]table` -> rows, as written. */
  readonly tables: Readonly<Record<string, number>>;
  readonly tasks: Readonly<Record<string, ExpectedState>>;
  /** Where the case's keys are, for diagnostics: `expect.tables.<key>` and `expect.tasks.<key>`. */
  readonly at: (path: readonly PathSegment[]) => Location;
}

export interface Fixture {
  /** Absolute path of the fixture file. */
  readonly file: string;
  /** Absolute path of the pipeline file it tests, when one is there. */
  readonly pipeline: string | undefined;
  readonly services: readonly ServiceSpec[];
  readonly env: Readonly<Record<string, string>>;
  readonly cases: readonly FixtureCase[];
}

const SKIP_DIRS = new Set(["node_modules", "dist", "expected", "__fixtures__"]);

/** Every `*.test.yaml` under `dir`, in path order (folders as pipeline discovery walks them). */
export async function findFixtures(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (at: string) => {
    for (const entry of await readdir(at, { withFileTypes: true })) {
      if (entry.name.startsWith(".")) continue;
      const full = path.join(at, entry.name);
      if (entry.isDirectory()) {
        if (!SKIP_DIRS.has(entry.name)) await walk(full);
      } else if (FIXTURE_SUFFIX.test(entry.name)) found.push(full);
    }
  };
  await walk(dir);
  return found.sort();
}

/** Reads and checks one fixture file: every problem, each at its line and key. */
export async function readFixture(file: string, display: string, pipelineCandidates: readonly string[]): Promise<{ fixture?: Fixture; diagnostics: Diagnostic[] }> {
  const parsed = await readYamlFile(file, display);
  if (parsed.diagnostics.some((d) => d.severity === "error")) return { diagnostics: [...parsed.diagnostics] };
  const check = new Checker(parsed, display);
  const root = check.map(parsed.value, [], ["services", "env", "tests"]);
  const services: ServiceSpec[] = [];
  for (const [name, value] of Object.entries(check.map(root?.services, ["services"]) ?? {})) {
    const p = ["services", name];
    const s = check.map(value, p, ["command", "env", "ready", "timeout_seconds"]);
    if (!s) continue;
    check.name(name, p, "a service name");
    const command = check.strings(s.command, [...p, "command"], true);
    const ready = check.regex(s.ready, [...p, "ready"]);
    const timeout = s.timeout_seconds === undefined ? 30 : check.positive(s.timeout_seconds, [...p, "timeout_seconds"]);
    if (command && ready && timeout !== undefined) {
      services.push({ name, command, env: check.env(s.env, [...p, "env"]), ready, timeoutMs: timeout * 1000, where: check.at(p) });
    }
  }
  const env = check.env(root?.env, ["env"]);
  const cases: FixtureCase[] = [];
  const tests = root ? check.list(root.tests, ["tests"]) : undefined;
  const names = new Map<string, string>();
  for (const [i, value] of (tests ?? []).entries()) {
    const p = ["tests", i];
    const t = check.map(value, p, ["name", "date", "dates", "env", "expect"]);
    if (!t) continue;
    const name = typeof t.name === "string" && check.name(t.name, [...p, "name"], "a test name") ? t.name : undefined;
    if (t.name === undefined) check.missing("name", p, "a short name such as `mid_january`");
    else if (name === undefined && typeof t.name !== "string") check.type("a string", t.name, [...p, "name"]);
    if (name !== undefined) {
      const first = names.get(name);
      if (first) check.problem(diagnostic("XO_CONFIG_DUPLICATE_NAME", { what: "test name", value: name, firstPath: first }, check.at([...p, "name"])));
      else names.set(name, `${display}:${dottedPath([...p, "name"])}`);
    }
    const dates = check.dates(t, p);
    const expect = check.map(t.expect, [...p, "expect"], ["tables", "tasks"]);
    if (t.expect === undefined) check.missing("expect", p, "`tables:` (rows per table) and/or `tasks:` (state per task)");
    const tables: Record<string, number> = {};
    for (const [key, rows] of Object.entries(check.map(expect?.tables, [...p, "expect", "tables"]) ?? {})) {
      if (typeof rows === "number" && Number.isInteger(rows) && rows >= 0) tables[key] = rows;
      else check.type("a row count (an integer, 0 or more)", rows, [...p, "expect", "tables", key]);
    }
    const tasks: Record<string, ExpectedState> = {};
    for (const [key, state] of Object.entries(check.map(expect?.tasks, [...p, "expect", "tasks"]) ?? {})) {
      if (typeof state === "string" && (TASK_STATES as readonly string[]).includes(state)) tasks[key] = state as ExpectedState;
      else {
        check.problem(
          diagnostic(
            "XO_CONFIG_INVALID_VALUE",
            { detail: `${JSON.stringify(state)} is not a task state`, expected: TASK_STATES.map((s) => `\`${s}\``).join(", ") },
            check.at([...p, "expect", "tasks", key]),
          ),
        );
      }
    }
    if (expect && !Object.keys(tables).length && !Object.keys(tasks).length && !check.failed) {
      check.missing("tables", [...p, "expect"], "the rows each table must hold after the run, e.g. `tables: { main.orders: 23 }`");
    }
    if (name !== undefined && dates) cases.push({ name, dates, env: check.env(t.env, [...p, "env"]), tables, tasks, at: (q) => check.at([...p, ...q]) });
  }
  if (root && root.tests === undefined) check.missing("tests", [], "a list of test cases, each with `name`, `dates` and `expect`");
  const base = file.replace(FIXTURE_SUFFIX, "");
  const pipeline = pipelineCandidates.find((c) => c === `${base}.yaml` || c === `${base}.yml`);
  if (!pipeline) {
    check.problem(
      diagnostic(
        "XO_CONFIG_INVALID_VALUE",
        {
          detail: `${display} tests no pipeline: there is no ${path.basename(base)}.yaml next to it`,
          expected: "a fixture named after its pipeline file: `orders.test.yaml` tests `orders.yaml` in the same folder",
        },
        { file: display },
      ),
    );
  }
  if (check.diagnostics.length) return { diagnostics: check.diagnostics };
  return { fixture: { file, pipeline, services, env, cases }, diagnostics: [] };
}

/** Collects problems at their path, line and column; values that fail a check come back undefined. */
class Checker {
  readonly diagnostics: Diagnostic[] = [];

  constructor(
    readonly parsed: ParsedYaml,
    readonly display: string,
  ) {}

  get failed(): boolean {
    return this.diagnostics.length > 0;
  }

  at(p: readonly PathSegment[], mode: "key" | "value" = "value"): Location {
    return { file: this.display, ...(p.length ? { path: dottedPath(p) } : {}), ...(locate(this.parsed, p, mode) ?? {}) };
  }

  problem(d: Diagnostic): void {
    this.diagnostics.push(d);
  }

  type(expected: string, value: unknown, p: readonly PathSegment[]): undefined {
    this.problem(diagnostic("XO_CONFIG_INVALID_TYPE", { expected, found: found(value) }, this.at(p)));
    return undefined;
  }

  missing(key: string, p: readonly PathSegment[], expected: string): void {
    this.problem(diagnostic("XO_CONFIG_MISSING_KEY", { key, expected }, this.at(p)));
  }

  map(value: unknown, p: readonly PathSegment[], allowed?: readonly string[]): Record<string, unknown> | undefined {
    if (value === undefined) return undefined;
    if (value === null || typeof value !== "object" || Array.isArray(value)) return this.type("a mapping", value, p);
    const map = value as Record<string, unknown>;
    for (const key of Object.keys(map)) {
      if (allowed && !allowed.includes(key)) {
        this.problem(diagnostic("XO_CONFIG_UNKNOWN_KEY", { key, allowed, suggestion: allowed.find((a) => a.startsWith(key.slice(0, 3))) }, this.at([...p, key], "key")));
      }
    }
    return map;
  }

  list(value: unknown, p: readonly PathSegment[]): unknown[] | undefined {
    if (value === undefined) return undefined;
    if (!Array.isArray(value) || value.length === 0) return this.type("a list with at least one entry", value, p);
    return value;
  }

  strings(value: unknown, p: readonly PathSegment[], required: boolean): string[] | undefined {
    if (value === undefined) {
      if (required) this.missing(String(p[p.length - 1]), p.slice(0, -1), "a list of strings, the program and its arguments");
      return undefined;
    }
    if (!Array.isArray(value) || value.length === 0 || value.some((v) => typeof v !== "string" || v === "")) {
      return this.type("a list of non-empty strings, the program and its arguments", value, p);
    }
    return value as string[];
  }

  regex(value: unknown, p: readonly PathSegment[]): RegExp | undefined {
    if (value === undefined) {
      this.missing("ready", p.slice(0, -1), "a regular expression matching the line the service prints once it serves, e.g. \"listening on (?<url>\\\\S+)\"");
      return undefined;
    }
    if (typeof value !== "string") return this.type("a regular expression (a string)", value, p);
    try {
      return new RegExp(value);
    } catch (e) {
      this.problem(diagnostic("XO_CONFIG_INVALID_VALUE", { detail: `not a regular expression: ${(e as Error).message}`, expected: "a JavaScript regular expression" }, this.at(p)));
      return undefined;
    }
  }

  positive(value: unknown, p: readonly PathSegment[]): number | undefined {
    if (typeof value === "number" && value > 0 && value <= 3600) return value;
    return this.type("a number of seconds, above 0 and at most 3600", value, p);
  }

  name(value: string, p: readonly PathSegment[], what: string): boolean {
    if (/^[a-z0-9][a-z0-9_-]{0,62}$/i.test(value)) return true;
    this.problem(diagnostic("XO_CONFIG_UNSAFE_NAME", { what, value, pattern: "letters, digits, `_` and `-`, at most 63 characters" }, this.at(p)));
    return false;
  }

  env(value: unknown, p: readonly PathSegment[]): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [key, v] of Object.entries(this.map(value, p) ?? {})) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
        this.problem(diagnostic("XO_CONFIG_UNSAFE_NAME", { what: "an environment variable", value: key, pattern: "letters, digits and `_`, not starting with a digit" }, this.at([...p, key])));
      } else if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") out[key] = String(v);
      else this.type("a string", v, [...p, key]);
    }
    return out;
  }

  /** `date: D` or `dates: [D, ...]`, each a real YYYY-MM-DD date. */
  dates(t: Record<string, unknown>, p: readonly PathSegment[]): string[] | undefined {
    if (t.date !== undefined && t.dates !== undefined) {
      this.problem(diagnostic("XO_CONFIG_CONFLICT", { first: "date", second: "dates" }, this.at([...p, "dates"])));
      return undefined;
    }
    if (t.date === undefined && t.dates === undefined) {
      this.missing("dates", p, "the logical dates to run, in order, e.g. `dates: [2026-01-15]`");
      return undefined;
    }
    const [key, raw] = t.date !== undefined ? (["date", [t.date]] as const) : (["dates", this.list(t.dates, [...p, "dates"])] as const);
    if (!raw) return undefined;
    const dates: string[] = [];
    for (const [i, value] of raw.entries()) {
      const q = key === "date" ? [...p, "date"] : [...p, "dates", i];
      const text = value instanceof Date ? value.toISOString().slice(0, 10) : value;
      let ok = typeof text === "string" && /^\d{4}-\d{2}-\d{2}$/.test(text);
      if (ok) {
        try {
          parseDate(text as string);
        } catch {
          ok = false;
        }
      }
      if (ok) dates.push(text as string);
      else this.problem(diagnostic("XO_DATE_INVALID", { value: String(text) }, this.at(q)));
    }
    return dates.length === raw.length ? dates : undefined;
  }
}

function found(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return `${typeof value} ${JSON.stringify(value)}`;
}

// ---------------------------------------------------------------- services

export interface RunningService {
  readonly name: string;
  /** The named groups of the line that matched `ready`. */
  readonly values: Readonly<Record<string, string>>;
  stop(): Promise<void>;
}

/**
 * Starts a fixture's helper process in the fixture's folder and waits for the line that
 * says it is ready. `node` is the Node.js running xo-foundry, whatever is on PATH.
 */
export function startService(spec: ServiceSpec, cwd: string): Promise<RunningService> {
  const [program, ...args] = spec.command;
  const child = spawn(program === "node" ? process.execPath : program!, args, {
    cwd,
    env: { ...process.env, ...spec.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  let buffered = "";
  const stop = () => stopChild(child);
  return new Promise<RunningService>((resolve, reject) => {
    let settled = false;
    // A process that died says why first (an error and its stack); one that hangs, last.
    const fail = (detail: string, part: "first" | "last") => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void stop();
      const lines = output.split("\n").filter((l) => l.trim() !== "");
      const shown = (part === "first" ? lines.slice(0, 5) : lines.slice(-5)).join("\n    ");
      reject(new ServiceFailure(spec, `${detail}${shown ? `; its ${part} output:\n    ${shown}` : ""}`));
    };
    const timer = setTimeout(() => fail(`printed no line matching ${spec.ready} within ${spec.timeoutMs / 1000} s`, "last"), spec.timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      buffered += chunk.toString("utf8");
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        const match = spec.ready.exec(line);
        if (!match || settled) continue;
        settled = true;
        clearTimeout(timer);
        child.stdout?.off("data", onData);
        // Keep draining, or a chatty service blocks on a full pipe.
        child.stdout?.resume();
        resolve({ name: spec.name, values: { ...(match.groups ?? {}) }, stop });
        return;
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    child.once("error", (e) => fail(`could not start ${JSON.stringify(program)}: ${e.message}`, "first"));
    child.once("close", (code, signal) => fail(`exited (${signal ?? `code ${code}`}) before it was ready`, "first"));
  });
}

export class ServiceFailure extends Error {
  constructor(
    readonly spec: ServiceSpec,
    readonly detail: string,
  ) {
    super(`service ${spec.name} ${detail}`);
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}

/** `${service.group}` in an environment value, from the running services. */
export function fillPlaceholders(value: string, services: ReadonlyMap<string, RunningService>): { value: string; unknown: string[] } {
  const unknown: string[] = [];
  const filled = value.replace(/\$\{([A-Za-z0-9_-]+)\.([A-Za-z0-9_]+)\}/g, (whole, service: string, group: string) => {
    const v = services.get(service)?.values[group];
    if (v === undefined) {
      unknown.push(whole);
      return whole;
    }
    return v;
  });
  return { value: filled, unknown };
}
