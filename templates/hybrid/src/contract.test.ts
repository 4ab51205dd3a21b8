/**
 * The hybrid template against the testkit's template contract: the suite's default
 * pipeline, and one with two sources, which hybrid puts in task groups of their own.
 */
import { describeTemplate, testPipelineConfig } from "@xo-foundry/testkit";
import { hybrid } from "./index.js";

const oneSource = testPipelineConfig({ stream: { name: "orders" } });
const twoSources = testPipelineConfig({
  stream: { name: "orders" },
  pipeline: {
    template: "hybrid",
    sources: {
      main: { plugin: "test", streams: [{ name: "orders", target: {} }] },
      rates: { plugin: "test", streams: [{ name: "fx_rates", target: {} }] },
    },
  },
});

describeTemplate({ plugin: hybrid(), pipelines: [{ ...oneSource, template: "hybrid" }, twoSources] });
