/** The export template against the testkit's template contract, on a pipeline with a source and a step. */
import { describeTemplate, testPipelineConfig } from "@xo-foundry/testkit";
import { exportTemplatePlugin } from "./index.js";

const withSource = testPipelineConfig({ stream: { name: "orders" } });

describeTemplate({ plugin: exportTemplatePlugin(), pipelines: [{ ...withSource, template: "export" }] });
