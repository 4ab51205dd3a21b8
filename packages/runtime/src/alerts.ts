/**
 * Alerts sent by xo-foundry itself: every event of a local run (`xo-foundry run`), and
 * `check_warning` from any task, Airflow's included (Airflow has no "succeeded with
 * warnings" state its callbacks could react to). In generated DAGs the other events go
 * through Airflow's own notifiers (core/airflow.ts), with the same titles.
 *
 * A channel that cannot be reached is logged and never fails the run: an alert is about
 * the run, not part of it.
 */
import {
  redact,
  resolveConnection,
  type AlertEvent,
  type AlertMessage,
  type Diagnostic,
  type Logger,
  type PipelineConfig,
  type Project,
} from "@xo-foundry/core";
import { notify } from "./driver.js";

export interface AlertContext {
  readonly config: PipelineConfig;
  readonly project: Project;
  readonly env: NodeJS.ProcessEnv;
  readonly log: Logger;
  readonly signal?: AbortSignal;
}

export interface AlertFacts {
  readonly event: AlertEvent;
  readonly task?: string;
  readonly logicalDate: string;
  readonly runId: string;
  /** The error summary, the warnings, or the run's outcome; redacted here. */
  readonly lines: readonly string[];
  readonly logUrl?: string;
}

/** Titles say what happened to what, and when; the same words as in generated DAGs. */
export function alertTitle(event: AlertEvent, pipeline: string, task: string | undefined, date: string): string {
  switch (event) {
    case "failure":
      return `${pipeline}: task ${task ?? "?"} failed (${date})`;
    case "retry":
      return `${pipeline}: task ${task ?? "?"} is up for retry (${date})`;
    case "pipeline_failure":
      return `${pipeline}: run failed (${date})`;
    case "success":
      return `${pipeline}: run succeeded (${date})`;
    case "check_warning":
      return `${pipeline}: checks warned in task ${task ?? "?"} (${date})`;
    case "deadline_missed":
      return `${pipeline}: run missed its deadline (${date})`;
  }
}

export function alertMessage(config: PipelineConfig, facts: AlertFacts): AlertMessage {
  const text = facts.lines.map((line) => redact(line)).join("\n");
  return {
    event: facts.event,
    pipeline: config.pipeline.name,
    dagId: config.pipeline.dag_id,
    ...(facts.task !== undefined ? { task: facts.task } : {}),
    logicalDate: facts.logicalDate,
    runId: facts.runId,
    title: alertTitle(facts.event, config.pipeline.name, facts.task, facts.logicalDate),
    text: text === "" ? "(no details)" : text,
    ...(facts.logUrl !== undefined && facts.logUrl !== "" ? { logUrl: facts.logUrl } : {}),
  };
}

/** Whether any `alerts:` entry listens for the event. */
export function wantsAlert(config: PipelineConfig, event: AlertEvent): boolean {
  return config.alerts.some((a) => a.on.includes(event));
}

/** Sends the event to every channel that listens for it, at once; returns how many were sent. */
export async function sendAlerts(ctx: AlertContext, facts: AlertFacts): Promise<number> {
  const entries = ctx.config.alerts.filter((a) => a.on.includes(facts.event));
  if (entries.length === 0) return 0;
  const message = alertMessage(ctx.config, facts);
  const signal = ctx.signal ?? AbortSignal.timeout(60_000);
  let sent = 0;
  await Promise.all(
    entries.map(async (entry) => {
      const notifier = ctx.project.registry.notifier(entry.channel);
      const owner = ctx.project.registry.ownerOf("notifier", entry.channel);
      if (!notifier || !owner) return void ctx.log.warn(`alert not sent: no notifier ${JSON.stringify(entry.channel)} is installed`);
      const ok = await notify(owner, `notifier ${entry.channel}`, facts.task ?? "(run)", ctx.log, async () => {
        const connection = entry.connection ? resolveConnection(entry.connection, ctx.env) : undefined;
        await notifier.send({ options: entry.options, connection, message, log: ctx.log, signal });
      });
      if (ok) {
        sent += 1;
        ctx.log.info(`sent ${facts.event} alert through ${entry.channel}${entry.connection ? ` (${entry.connection})` : ""}`);
      }
    }),
  );
  return sent;
}

/** The lines of a failure: each diagnostic's message and hint, or the error text. */
export function failureLines(error: readonly Diagnostic[] | string | undefined): string[] {
  if (error === undefined) return [];
  if (typeof error === "string") return [error];
  return error.flatMap((d) => [`${d.code}: ${d.message}`, ...(d.hint ? [`hint: ${d.hint}`] : [])]);
}
