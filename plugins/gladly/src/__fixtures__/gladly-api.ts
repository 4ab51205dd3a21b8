/**
 * Gladly's published request rules, transcribed for the loopback emulator (gladly-server.ts).
 *
 * Source: Gladly's REST API reference (developer.gladly.com/rest/, sections Reports and Export),
 * read in its OpenAPI form as published in github.com/api-evangelist/gladly:
 *   - openapi/gladly-reports-api-openapi.yml, "Gladly Agents Reports API", info.version 1.0,
 *     OpenAPI 3.0.1 (commit 4351a9ce7a2d95efda1a4179c2154f8ed7d30424);
 *   - openapi/gladly-export-api-openapi.yml, "Gladly Export API", info.version 1.0,
 *     OpenAPI 3.2.0 (commit 433529e5ed3b9040f5a30e91bebbcb0f24f8a58b).
 * The documents are read, not copied: each rule below names the part it comes from. Where the
 * description is silent the rule says ASSUMED; where it is contradictory, which side was taken.
 * Where this file is stricter than the description, it says STRICTER (ADR 0009): a request the
 * real API might accept is refused here rather than the other way round.
 */

export interface ApiError {
  readonly attr?: string;
  readonly code: string;
  readonly detail: string;
}

// ------------------------------------------------------------------ POST /api/v1/reports

/** requestBody.metricSet.enum */
export const METRIC_SETS: readonly string[] = [
  "AgentAwayTimeReport",
  "AgentAvailableTimeReportV2",
  "AgentDurationsReport",
  "AgentDurationsReportV2",
  "AgentLoginTimeReport",
  "AgentSummary",
  "AgentSummaryV2",
  "AgentSummaryGlanceReport",
  "AgentSummaryGlanceReportV2",
  "AgentTimestampsReport",
  "FirstContactResolutionByAgentV2Report",
  "PaymentsByAgentReport",
  "WorkSessionEventsReportV3",
  "WorkSessionEventsReportV4",
  "WorkSessionsReport",
  "WorkSessionsReportV3",
  "AnswerUsageReport",
  "AnswerUsageByAgentReport",
  "ChannelMixReportV2",
  "ChannelWaitTimeReport",
  "ChannelWaitTimeReportV2",
  "ContactExportReportV3",
  "ContactSummaryReport",
  "ContactSummaryReportV2",
  "ContactSummaryCountsReport",
  "ContactSummaryDurationsReport",
  "ContactSummaryDurationsReportV2",
  "ContactTimestampsReport",
  "ConversationExportReport",
  "ConversationSidekickExportReport",
  "ConversationSummaryReport",
  "ConversationTimestampsReport",
  "AbandonedCallsInIVRReport",
  "AutoThrottleMissedConversationsReport",
  "IVRExecutiveSummaryReportV2",
  "IvrEndStatesReportV2",
  "PaymentsSummaryReport",
  "ProactiveVoiceSummaryReport",
  "TopicHierarchyReport",
  "TaskExportReport",
  "TaskSummaryReport",
  "TaskTimestampsReport",
  "TopicSummaryReport",
  "AutoThrottleChangesReport",
  "ChatDisplayPctChangesReport",
  "HelpCenterAnswerSearchReport",
  "HelpCenterAnswerUsageReport",
  "QuickActionsUsageReport",
  "SelfServiceThreadsReport",
  "SidekickAssistsByClassificationTopicReport",
  "GladAppAnswerSearchReport",
  "GladAppAnswerUsageReport",
  "GladAppContactPointsReport",
  "GladlyAISessionsDetailReport",
  "GladlyAISessionsDetailWithMessagesReport",
];

/**
 * requestBody.startAtTime / endAtTime: "only applies to the following metricSets: AgentSummaryReport
 * and ContactExportReportV3". AgentSummaryReport is not in the metricSet enum, so it is refused as an
 * unknown metric set before this list is consulted (the enum is the schema; the prose names a report
 * the schema does not offer).
 */
export const TIME_RANGE_METRIC_SETS: readonly string[] = ["AgentSummaryReport", "ContactExportReportV3"];

/** requestBody.aggregationLevel.enum */
export const AGGREGATION_LEVELS: readonly string[] = ["halfHourly", "daily", "weekly", "monthly", "quarterly"];

/** requestBody.filters.channel.enum */
export const CHANNELS: readonly string[] = ["allChannels", "chat", "email", "fbMessenger", "sms", "twitter", "voice", "whatsapp", "instagramDirect"];

/** requestBody.filters.*: "Applies to the following metricSets: ..." of each filter. */
export const FILTER_METRIC_SETS: Readonly<Record<"channel" | "inboxes" | "teams" | "phoneNumber", readonly string[]>> = {
  channel: [
    "FirstContactResolutionByAgentV2Report",
    "WorkSessionsReport",
    "WorkSessionsReportV3",
    "ChannelMixReportV2",
    "ContactExportReportV3",
    "ContactSummaryReport",
    "ContactSummaryReportV2",
    "ContactSummaryCountsReport",
    "ContactSummaryDurationsReport",
    "ContactSummaryDurationsReportV2",
    "TopicHierarchyReport",
    "TopicSummaryReport",
  ],
  inboxes: [
    "FirstContactResolutionByAgentV2Report",
    "WorkSessionsReport",
    "WorkSessionsReportV3",
    "ChannelMixReportV2",
    "ChannelWaitTimeReport",
    "ChannelWaitTimeReportV2",
    "ContactExportReportV3",
    "ContactSummaryReport",
    "ContactSummaryReportV2",
    "ContactSummaryCountsReport",
    "ContactSummaryDurationsReport",
    "ContactSummaryDurationsReportV2",
    "ConversationExportReport",
    "ConversationSidekickExportReport",
    "ConversationSummaryReport",
    "TopicHierarchyReport",
    "TopicSummaryReport",
    "TaskExportReport",
    "TaskSummaryReport",
  ],
  teams: [
    "AgentAvailableTimeReportV2",
    "AgentDurationsReport",
    "AgentDurationsReportV2",
    "AgentLoginTimeReport",
    "AgentSummary",
    "AgentSummaryV2",
    "AgentSummaryGlanceReport",
    "AgentSummaryGlanceReportV2",
    "AgentTimestampsReport",
    "FirstContactResolutionByAgentV2Report",
    "WorkSessionsReport",
    "WorkSessionsReportV3",
    "AnswerUsageByAgentReport",
    "TaskExportReport",
    "TaskSummaryReport",
  ],
  // "Applies to and is **required** for the following metricSets".
  phoneNumber: ["IVRExecutiveSummaryReportV2", "IvrEndStatesReportV2"],
};

/** `YYYY-mm-dd` (startAt, endAt). */
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
/** `YYYY-mm-ddThh:mmZ`, or with an offset as in the work-session-events example (`2020-04-14T19:27-09:00`). */
const MINUTE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(Z|[+-]\d{2}:\d{2})$/;
/** E.164, as filters.phoneNumber asks. */
const E164 = /^\+[1-9]\d{1,14}$/;

const BODY_KEYS = new Set(["metricSet", "timezone", "startAt", "endAt", "startAtTime", "endAtTime", "aggregationLevel", "filters"]);

/** The interval a valid request covers: dates in a zone (both inclusive) or a time range. */
export type ReportInterval =
  | { readonly kind: "dates"; readonly timezone: string; readonly startAt: string; readonly endAt: string }
  | { readonly kind: "time"; readonly startMs: number; readonly endMs: number };

export interface ReportRequest {
  readonly metricSet: string;
  readonly interval: ReportInterval;
}

export interface Organization {
  /** "If omitted, the organization's default timezone will be used." */
  readonly timezone: string;
  /** "Passing an inbox ID for a nonexistent inbox will result in an error response." */
  readonly inboxes: ReadonlySet<string>;
  /** "Passing a team ID for a nonexistent team will result in an error response." */
  readonly teams: ReadonlySet<string>;
}

/** Validates a report request body as Gladly does: every error of the body, in Gladly's `{attr, code, detail}` form. */
export function validateReportRequest(body: unknown, org: Organization): { errors: ApiError[]; request?: ReportRequest } {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return { errors: [{ code: "invalid", detail: "the request body must be a JSON object" }] };
  const b = body as Record<string, unknown>;
  const errors: ApiError[] = [];
  const add = (attr: string, code: string, detail: string) => errors.push({ attr, code, detail });

  // STRICTER: the schema does not forbid other keys (no additionalProperties: false); a misspelt key is refused here.
  for (const key of Object.keys(b)) if (!BODY_KEYS.has(key)) add(key, "invalid", `${key} is not a parameter of this endpoint`);

  // The 400 example "missing metricSet": attr metricSet, code blank, "metricSet must be specified".
  const metricSet = typeof b.metricSet === "string" ? b.metricSet : undefined;
  if (b.metricSet === undefined || b.metricSet === "") add("metricSet", "blank", "metricSet must be specified");
  else if (!metricSet || !METRIC_SETS.includes(metricSet)) add("metricSet", "invalid", `${String(b.metricSet)} is not a valid metricSet`);
  const known = metricSet !== undefined && METRIC_SETS.includes(metricSet);

  const interval = validateInterval(b, metricSet, known, add, org);

  // aggregationLevel: its enum is enforced. Its "Applies to the following metricSets" list is not: the
  // document's own IvrEndStatesReportV2 example sends aggregationLevel for a metric set outside that list.
  if (b.aggregationLevel !== undefined && (typeof b.aggregationLevel !== "string" || !AGGREGATION_LEVELS.includes(b.aggregationLevel))) {
    add("aggregationLevel", "invalid", "the specified value is not a valid aggregation level");
  }

  validateFilters(b.filters, metricSet, known, add, org);
  return errors.length || !interval || !metricSet ? { errors } : { errors, request: { metricSet, interval } };
}

function validateInterval(
  b: Record<string, unknown>,
  metricSet: string | undefined,
  known: boolean,
  add: (attr: string, code: string, detail: string) => void,
  org: Organization,
): ReportInterval | undefined {
  const hasTime = b.startAtTime !== undefined || b.endAtTime !== undefined;
  if (hasTime) {
    // "This filter is optional and only applies to the following metricSets: AgentSummaryReport and ContactExportReportV3."
    if (known && !TIME_RANGE_METRIC_SETS.includes(metricSet!)) {
      add(b.startAtTime !== undefined ? "startAtTime" : "endAtTime", "invalid", `time ranges cannot be applied to the ${metricSet} metricSet; use startAt and endAt`);
      return undefined;
    }
    // "If startAtTime is supplied, endAtTime must also be supplied, and startAt, endAt, and timezone must not be specified."
    // (The schema's `required: [metricSet, startAt, endAt]` says otherwise; the more specific prose wins.)
    for (const attr of ["startAt", "endAt", "timezone"]) {
      if (b[attr] !== undefined) add(attr, "invalid", `${attr} must not be specified together with startAtTime and endAtTime`);
    }
    const start = minuteTime(b.startAtTime, "startAtTime", add);
    const end = minuteTime(b.endAtTime, "endAtTime", add);
    if (start === undefined || end === undefined) return undefined;
    // The work-session-events 400 example: attr startAtTime, "endAtTime must occur after startAtTime".
    if (end <= start) {
      add("startAtTime", "invalid", "endAtTime must occur after startAtTime");
      return undefined;
    }
    // ASSUMED for /reports (documented only for work-session-events): endAtTime is inclusive, the
    // report runs "up to 1min past the endAtTime".
    return { kind: "time", startMs: start, endMs: end + 60_000 };
  }

  let timezone = org.timezone;
  if (b.timezone !== undefined) {
    // "Supported timezones are those found in the IANA timezone database."
    if (typeof b.timezone !== "string" || !isTimeZone(b.timezone)) add("timezone", "invalid", `${String(b.timezone)} is not a supported timezone`);
    else timezone = b.timezone;
  }
  const startAt = date(b.startAt, "startAt", add);
  const endAt = date(b.endAt, "endAt", add);
  if (startAt === undefined || endAt === undefined) return undefined;
  // "The report will end just before midnight of the following day": endAt is inclusive, so endAt === startAt is one day.
  // ASSUMED: an endAt before startAt is refused, as the time-range form refuses an end before its start.
  if (endAt < startAt) {
    add("endAt", "invalid", "endAt must not be before startAt");
    return undefined;
  }
  return { kind: "dates", timezone, startAt, endAt };
}

function date(value: unknown, attr: string, add: (attr: string, code: string, detail: string) => void): string | undefined {
  if (value === undefined || value === "") {
    add(attr, "blank", `${attr} must be specified`);
    return undefined;
  }
  const m = typeof value === "string" ? DATE.exec(value) : null;
  if (!m || !realDate(Number(m[1]), Number(m[2]), Number(m[3]))) {
    add(attr, "invalid", `${attr} must be a date in the format YYYY-mm-dd, e.g. 2019-05-01`);
    return undefined;
  }
  return value as string;
}

function minuteTime(value: unknown, attr: string, add: (attr: string, code: string, detail: string) => void): number | undefined {
  if (value === undefined || value === "") {
    add(attr, "blank", `${attr} must be specified`);
    return undefined;
  }
  const m = typeof value === "string" ? MINUTE_TIME.exec(value) : null;
  if (!m || !realDate(Number(m[1]), Number(m[2]), Number(m[3])) || Number(m[4]) > 23 || Number(m[5]) > 59) {
    add(attr, "invalid", `${attr} must be a time in ISO 8601 format YYYY-mm-ddThh:mmZ, e.g. 2020-04-13T19:27Z`);
    return undefined;
  }
  return Date.parse(value as string);
}

function validateFilters(
  filters: unknown,
  metricSet: string | undefined,
  known: boolean,
  add: (attr: string, code: string, detail: string) => void,
  org: Organization,
): void {
  const f = filters === undefined ? {} : filters;
  if (typeof f !== "object" || f === null || Array.isArray(f)) {
    add("filters", "invalid", "filters must be an object");
    return;
  }
  const given = f as Record<string, unknown>;
  for (const [key, value] of Object.entries(given)) {
    if (!(key in FILTER_METRIC_SETS)) {
      // STRICTER: the schema lists four filters and does not forbid others.
      add(`filters.${key}`, "invalid", `${key} is not a report filter`);
      continue;
    }
    // The 400 example "invalid filter": "the phoneNumber filter cannot be applied to the SummaryReport metricSet".
    if (known && !FILTER_METRIC_SETS[key as keyof typeof FILTER_METRIC_SETS].includes(metricSet!)) {
      add(`filters.${key}`, "invalid", `the ${key} filter cannot be applied to the ${metricSet} metricSet`);
      continue;
    }
    switch (key) {
      case "channel":
        if (typeof value !== "string" || !CHANNELS.includes(value)) add("filters.channel", "invalid", "the specified value is not a valid channel");
        break;
      case "inboxes":
      case "teams": {
        const ids = org[key];
        if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) add(`filters.${key}`, "invalid", `${key} must be an array of ids`);
        // The 400 example "nonexistent inbox": attr filters.inboxes, code present, "the requested inbox does not exist".
        else if (value.some((v) => !ids.has(v as string))) add(`filters.${key}`, "present", `the requested ${key === "inboxes" ? "inbox" : "team"} does not exist`);
        break;
      }
      case "phoneNumber":
        if (typeof value !== "string" || !E164.test(value)) add("filters.phoneNumber", "invalid", "phoneNumber must be in E164 format, e.g. +15555555555");
        break;
    }
  }
  if (known && FILTER_METRIC_SETS.phoneNumber.includes(metricSet!) && given.phoneNumber === undefined) {
    add("filters.phoneNumber", "blank", `the phoneNumber filter is required for the ${metricSet} metricSet`);
  }
}

// ------------------------------------------------------------------ Export API

/** Job.status.enum, and the `status` query parameter's enum of GET /api/v1/export/jobs. */
export const JOB_STATUSES: readonly string[] = ["PENDING", "IN_PROGRESS", "COMPLETED", "FAILED"];

/** "List all jobs for the organization in any status for the last 14 days"; "jobs older than 14 days are not available from the API". */
export const JOB_RETENTION_MS = 14 * 24 * 3_600_000;

/** The Export Job schema of GET /api/v1/export/jobs/{jobId}. */
export interface ExportJob {
  readonly id: string;
  readonly scheduleId: string;
  readonly status: "PENDING" | "IN_PROGRESS" | "COMPLETED" | "FAILED";
  /** RFC 3339. */
  readonly updatedAt: string;
  readonly parameters: { readonly type: "CONVERSATIONS"; readonly startAt: string; readonly endAt: string };
  readonly files: readonly string[];
}

const JOB_QUERY_KEYS = new Set(["status", "startAt", "endAt"]);

/**
 * The query of GET /api/v1/export/jobs: `status`, and `startAt`/`endAt` that filter on `updatedAt`
 * (ISO 8601; startAt "Cannot be more than 14 days ago. Default is 14 days ago."; endAt "Cannot be
 * before 'startAt' or in the future. Default is now."). Returns the errors, or the filter.
 */
export function validateJobsQuery(query: URLSearchParams, now: number): { errors: ApiError[]; filter?: { status?: string; from: number; to: number } } {
  const errors: ApiError[] = [];
  for (const key of new Set(query.keys())) {
    // STRICTER: the description lists three parameters and does not forbid others.
    if (!JOB_QUERY_KEYS.has(key)) errors.push({ attr: key, code: "invalid", detail: `${key} is not a parameter of this endpoint` });
    else if (query.getAll(key).length > 1) errors.push({ attr: key, code: "invalid", detail: `${key} may be given once` });
  }
  const status = query.get("status") ?? undefined;
  if (status !== undefined && !JOB_STATUSES.includes(status)) errors.push({ attr: "status", code: "invalid", detail: `status must be one of ${JOB_STATUSES.join(", ")}` });
  const instant = (attr: string) => {
    const raw = query.get(attr);
    if (raw === null) return undefined;
    const ms = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(raw) ? Date.parse(raw) : Number.NaN;
    if (Number.isNaN(ms)) errors.push({ attr, code: "invalid", detail: `${attr} must be in ISO 8601 format, e.g. 2024-09-15T00:00:00.000Z` });
    return ms;
  };
  const from = instant("startAt") ?? now - JOB_RETENTION_MS;
  const to = instant("endAt") ?? now;
  if (from < now - JOB_RETENTION_MS) errors.push({ attr: "startAt", code: "invalid", detail: "startAt cannot be more than 14 days ago" });
  if (to < from) errors.push({ attr: "endAt", code: "invalid", detail: "endAt cannot be before startAt" });
  if (to > now) errors.push({ attr: "endAt", code: "invalid", detail: "endAt cannot be in the future" });
  return errors.length ? { errors } : { errors, filter: { ...(status ? { status } : {}), from, to } };
}

/** The NotFoundErrors example of the Export API. */
export const NOT_FOUND: { errors: ApiError[] } = { errors: [{ code: "not_exist", detail: "entity does not exist" }] };

// ------------------------------------------------------------------ helpers

function realDate(y: number, m: number, d: number): boolean {
  const probe = new Date(Date.UTC(y, m - 1, d));
  return probe.getUTCFullYear() === y && probe.getUTCMonth() === m - 1 && probe.getUTCDate() === d;
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
