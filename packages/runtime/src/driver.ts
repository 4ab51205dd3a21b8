/**
 * Every plugin hook is called through here (sources, sinks, steps, templates, landing
 * zones, observers), so any failure names the plugin, the hook and the task. Expected
 * errors (XoError) pass through untouched, and a plugin's own error codes survive
 * with the plugin's name instead of being flattened into XO_STEP_FAILED.
 */
import { isXoError, pluginDiagnostic, redact, xoError, XoError, type Logger, type XoPlugin } from "@xo-foundry/core";

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

/** Observers watch; a failing one is logged and never fails the task it watched. */
export async function notify(plugin: XoPlugin, hook: string, task: string, log: Logger, fn: () => void | Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    log.warn(`observer ${plugin.name} failed in ${hook}: ${redact(e instanceof Error ? e.message : String(e))}`);
  }
}

function hookError(plugin: XoPlugin, hook: string, task: string, e: unknown): XoError {
  if (isXoError(e)) return e;
  const label = `${plugin.name}@${plugin.version}`;
  const code = (e as { code?: unknown } | null)?.code;
  const raw = e instanceof Error ? e.message : String(e);
  if (typeof code === "string" && (code.startsWith("XO_") || plugin.errors?.[code] !== undefined)) {
    // Plugin errors often carry their hint in the message too; keep it once, as the hint.
    const [message, inlineHint] = raw.split(/\n\s*hint: /);
    const hint = (e as { hint?: unknown }).hint;
    return new XoError(
      pluginDiagnostic({
        code,
        message: redact(`task ${JSON.stringify(task)} failed in ${label} (${hook}): ${message!.trim()}`),
        hint: redact(typeof hint === "string" ? hint : (inlineHint ?? plugin.errors?.[code] ?? "")) || undefined,
        plugin: label,
        task,
      }),
    );
  }
  return xoError("XO_STEP_FAILED", { plugin: label, hook, task, detail: redact(raw) });
}
