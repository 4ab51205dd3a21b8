export { testdir, type TestDir } from "./testdir.js";
export {
  memoryStateStore,
  stepContext,
  streamContext,
  testPipelineConfig,
  type StepContextOverrides,
  type StreamContextOverrides,
} from "./context.js";
export { recordingLogger, rejectionOf, type RecordingLogger } from "./log.js";
