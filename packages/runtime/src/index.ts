export { runTask, pipelineTasks, type TaskRequest, type TaskOutcome } from "./task.js";
export { runPipeline, localRunId, decide, type RunOptions, type RunSummary, type TaskReport, type TaskState } from "./run.js";
export { runExtract, type ExtractInput } from "./extract.js";
export { publishPartition, readPartition } from "./partition.js";
export { fileLanding } from "./file-landing.js";
export { landingStateStore, stateRoot } from "./state.js";
export {
  progressInterval,
  progressLine,
  progressReporter,
  progressText,
  elapsedText,
  type ProgressListener,
  type ProgressPhase,
  type ProgressReporter,
  type ProgressReporterOptions,
  type TaskProgress,
} from "./progress.js";
export { consoleLogger, type ConsoleLoggerOptions } from "./log.js";
export { callHook } from "./driver.js";
export { checkWhen, type Verdict } from "./when.js";
export { openLanding, type OpenLanding } from "./landing.js";
export { alertMessage, alertTitle, failureLines, sendAlerts, wantsAlert, type AlertContext, type AlertFacts } from "./alerts.js";
export { StepFailure } from "./task.js";
