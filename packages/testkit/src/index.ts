export { testdir, type TestDir } from "./testdir.js";
export { stepContext, type StepContextOverrides } from "./context.js";
export { recordingLogger, rejectionOf, type RecordingLogger } from "./log.js";
