/**
 * Every plugin hook is called through here (sources, sinks, steps, templates, landing
 * zones, observers), so any failure names the plugin, the hook and the task. Expected
 * errors (XoError) pass through untouched, and a plugin's own error codes survive
 * with the plugin's name instead of being flattened into XO_STEP_FAILED.
 */
import { isXoError, pluginDiagnostic, pluginErrorParts, redact, xoError, XoError, type Logger, type XoPlugin } from "@xo-foundry/core";

export async function callHook<T>(plugin: XoPlugin, hook: string, task: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw hookError(plugin, hook, task, e);
  }
}

export function callHookSync<T>(plugin: XoPlugin, hook: string, task: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw hookError(plugin, hook, task, e);
  }
}

/** Observers watch and notifiers alert; a failing one is logged and never fails the task it watched. Resolves whether it succeeded. */
export async function notify(plugin: XoPlugin, hook: string, task: string, log: Logger, fn: () => void | Promise<void>): Promise<boolean> {
  try {
    await fn();
    return true;
  } catch (e) {
    log.warn(`${plugin.name} failed in ${hook}: ${redact(e instanceof Error ? e.message : String(e))}`);
    return false;
  }
}

function hookError(plugin: XoPlugin, hook: string, task: string, e: unknown): XoError {
  if (isXoError(e)) return e;
  const label = `${plugin.name}@${plugin.version}`;
  const own = pluginErrorParts(plugin.errors, e);
  if (own) {
    return new XoError(
      pluginDiagnostic({
        code: own.code,
        message: redact(`task ${JSON.stringify(task)} failed in ${label} (${hook}): ${own.message}`),
        hint: redact(own.hint ?? "") || undefined,
        plugin: label,
        task,
      }),
    );
  }
  const raw = e instanceof Error ? e.message : String(e);
  return xoError("XO_STEP_FAILED", { plugin: label, hook, task, detail: redact(raw) });
}
