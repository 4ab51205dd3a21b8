import { definePlugin, type XoPlugin } from "@xo-foundry/core";
import { QUALITY_ERRORS } from "./errors.js";
import { qualityCheck } from "./step.js";
import { VERSION } from "./version.js";

export { qualityCheck } from "./step.js";
export { checkStepOptions, type CheckOptions } from "./options.js";
export { QUALITY_ERRORS, QualityError, type QualityErrorCode } from "./errors.js";
export { familyOf, type ColumnFamily } from "./families.js";

/** Data quality checks: the `quality.check` step type, which runs every pipeline's `checks:`. */
export function quality(): XoPlugin {
  return definePlugin({ name: "@xo-foundry/plugin-quality", version: VERSION, steps: [qualityCheck], errors: QUALITY_ERRORS });
}
