export { testdir, type TestDir } from "./testdir.js";
export {
  extractContext,
  kubernetesRunner,
  loadContext,
  memoryStateStore,
  stepContext,
  streamContext,
  testPipelineConfig,
  type ExtractContextInput,
  type LoadContextInput,
  type StepContextOverrides,
  type StreamContextOverrides,
} from "./context.js";
export { recordingLogger, rejectionOf, type RecordingLogger } from "./log.js";
export { scriptedWarehouse, type ScriptedWarehouse, type ScriptedWarehouseInput } from "./warehouse.js";

// Mock data
export { DEFAULT_FIELDS, generatePages, generateRecords, hostileRecords, mulberry32, rng, type FieldType, type RecordSpec, type Rng } from "./generate.js";
export { BROKEN_UTF16, HOSTILE_COLUMN_NAMES, HOSTILE_JINJA, HOSTILE_STRINGS, HOSTILE_TEXT } from "./hostile.js";
export { manifest, ndjsonText, writeManifestFile, writeNdjsonManifest, type ManifestInput } from "./files.js";
export {
  startScriptedServer,
  useScriptedServer,
  type PathMatcher,
  type RecordedRequest,
  type Route,
  type ScriptedResponse,
  type ScriptedServer,
} from "./http.js";

// Contract suites
export { ContractViolation, runCheck, type ContractCheck, type KnownViolations, type Subject, type SuiteOptions } from "./contract/check.js";
export { registerChecks } from "./contract/register.js";
export { describeSource, sourceChecks, type SourceContractInput, type SourceExample, type SourceScenario } from "./contract/source.js";
export { describeSink, sinkChecks, type SinkContractInput, type SinkExample, type SinkPlace } from "./contract/sink.js";
export { describeStep, stepChecks, type StepContractInput, type StepEnvironment } from "./contract/step.js";
export { describeLandingStore, landingChecks, type LandingContractInput, type LandingPlace } from "./contract/landing.js";
export { describeTemplate, templateChecks, type TemplateContractInput } from "./contract/template.js";
export { dagsTest, importDags, type AirflowInput, type DagsTestInput, type DagsTestResult, type ImportedDags } from "./airflow.js";
export { startOAuthServer, type OAuthClient, type OAuthServer, type OAuthServerOptions, type ServiceAccountKeyFile, type TokenCheck, type TokenRequestRecord } from "./oauth.js";
export { freePort } from "./net.js";
export { airflowNotify, airflowPython, pythonValue, requireVenv, type CallbackContext, type NotifyInput, type NotifyResult } from "./notifier.js";
