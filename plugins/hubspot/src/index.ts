import { definePlugin, type XoPlugin } from "@xo-foundry/core";
import { HUBSPOT_ERRORS } from "./errors.js";
import { hubspotSync } from "./sync.js";
import { VERSION } from "./version.js";

export { hubspotSync } from "./sync.js";
export { HUBSPOT_ERRORS, HubSpotError, type HubSpotErrorCode } from "./errors.js";
export { syncOptions, MAX_BATCH_SIZE, DEFAULT_REQUESTS_PER_SECOND, type SyncOptions } from "./options.js";

/** HubSpot: reverse ETL of a warehouse model into CRM objects (the `hubspot.sync` step). */
export function hubspot(): XoPlugin {
  return definePlugin({ name: "@xo-foundry/plugin-hubspot", version: VERSION, steps: [hubspotSync], errors: HUBSPOT_ERRORS });
}
