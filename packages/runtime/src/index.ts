export { runTask, pipelineTasks, type TaskRequest, type TaskOutcome } from "./task.js";
export { runPipeline, localRunId, type RunOptions, type RunSummary, type TaskReport, type TaskState } from "./run.js";
export { runExtract, type ExtractInput } from "./extract.js";
export { publishPartition, readPartition } from "./partition.js";
export { fileLanding } from "./file-landing.js";
export { consoleLogger, type ConsoleLoggerOptions } from "./log.js";
export { callHook } from "./driver.js";
