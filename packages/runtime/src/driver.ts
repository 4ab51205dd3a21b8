/**
 * Every plugin hook is called through here, so any failure names the plugin,
 * the hook and the task, and expected errors (XoError) pass through untouched.
 */
import { isXoError, redact, xoError, type XoPlugin } from "@xo-foundry/core";

export async function callHook<T>(plugin: XoPlugin, hook: string, task: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (isXoError(e)) throw e;
    const detail = redact(e instanceof Error ? e.message : String(e));
    throw xoError("XO_STEP_FAILED", { plugin: `${plugin.name}@${plugin.version}`, hook, task, detail });
  }
}
