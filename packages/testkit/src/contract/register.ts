import { describe, it } from "vitest";
import type { ContractCheck, SuiteOptions } from "./check.js";

/** Registers each check as an `it` inside `describe(title)`; known violations as `it.fails`. */
export function registerChecks(title: string, checks: readonly ContractCheck[], options: SuiteOptions = {}): void {
  const known = options.knownViolations ?? {};
  const unknown = Object.keys(known).filter((name) => !checks.some((c) => c.name === name));
  if (unknown.length > 0) {
    throw new Error(`knownViolations names no check of ${title}: ${unknown.map((n) => JSON.stringify(n)).join(", ")}; the checks are: ${checks.map((c) => JSON.stringify(c.name)).join(", ")}`);
  }
  describe(title, () => {
    for (const c of checks) {
      const reason = known[c.name];
      if (reason === undefined) it(c.name, () => c.run(), options.timeout);
      else it.fails(`${c.name} (known violation: ${reason})`, () => c.run(), options.timeout);
    }
  });
}
