/**
 * The shape every contract suite shares: a list of named checks, each a plain async
 * function that throws a `ContractViolation` naming the plugin, the check, what went
 * wrong and what to fix. `describeX` registers them with vitest; the testkit's own tests
 * run them directly against broken plugins, which a registered `it` would not allow.
 */
import type { XoPlugin } from "@xo-foundry/core";

/** What a suite checks, for messages: `@xo-foundry/plugin-api@0.1.0 source "api"`. */
export interface Subject {
  /** `name@version` of the plugin, or of the package that provides a built-in component. */
  readonly plugin: string;
  readonly kind: "source" | "sink" | "step" | "template" | "landing store";
  readonly id: string;
}

export interface ContractCheck {
  readonly name: string;
  run(): Promise<void>;
}

/** A failed check. `message` says who, which check, what happened and the fix. */
export class ContractViolation extends Error {
  override readonly name = "ContractViolation";

  constructor(
    readonly subject: Subject,
    readonly check: string,
    readonly problem: string,
    readonly fix: string,
    options?: { cause?: unknown },
  ) {
    super(`${describeSubject(subject)} fails the contract check "${check}": ${problem}\n  fix: ${fix}`, options);
  }
}

export function describeSubject(subject: Subject): string {
  return `${subject.plugin} ${subject.kind} ${JSON.stringify(subject.id)}`;
}

export function subjectOf(plugin: XoPlugin | string, kind: Subject["kind"], id: string): Subject {
  return { plugin: typeof plugin === "string" ? plugin : `${plugin.name}@${plugin.version}`, kind, id };
}

/** Ends a check: `fail("it yielded 3 records, expected 4", "yield every page")`. */
export type Fail = (problem: string, fix: string) => never;

/**
 * One named check. Anything the body throws that is not a violation (a plugin's own
 * crash, a fixture's error) becomes one too, so every failure names the plugin and check.
 */
export function check(subject: Subject, name: string, body: (fail: Fail) => Promise<void>): ContractCheck {
  const fail: Fail = (problem, fix) => {
    throw new ContractViolation(subject, name, problem, fix);
  };
  return {
    name,
    async run() {
      try {
        await body(fail);
      } catch (e) {
        if (e instanceof ContractViolation) throw e;
        throw new ContractViolation(subject, name, `it threw ${errorText(e)}`, "see the error above; the check expected this call to succeed", { cause: e });
      }
    },
  };
}

/** `TypeError: boom (code XO_X)`, one line, for messages. */
export function errorText(e: unknown): string {
  if (!(e instanceof Error)) return JSON.stringify(e) ?? String(e);
  const code = (e as { code?: unknown }).code;
  const first = e.message.split("\n")[0] ?? "";
  return `${e.name}: ${first}${typeof code === "string" && !first.includes(code) ? ` (code ${code})` : ""}`;
}

/** Runs one check of a list by name; for tests that expect a check to fail. */
export async function runCheck(checks: readonly ContractCheck[], name: string): Promise<void> {
  const found = checks.find((c) => c.name === name);
  if (!found) throw new Error(`no check named ${JSON.stringify(name)}; the checks are: ${checks.map((c) => JSON.stringify(c.name)).join(", ")}`);
  await found.run();
}

/**
 * Checks a suite knows the plugin fails today, by name, with the reason (an issue link).
 * They are registered as `it.fails`, so they still run and the test turns red the day the
 * plugin is fixed, which is the signal to delete the entry. Nothing is skipped.
 */
export type KnownViolations = Readonly<Record<string, string>>;

export interface SuiteOptions {
  readonly knownViolations?: KnownViolations;
  /** Per-check timeout in milliseconds (the project's vitest default otherwise). */
  readonly timeout?: number;
}
