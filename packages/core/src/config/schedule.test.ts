// Unit tests: nothing emulated. Which expressions are valid follows Airflow 3's croniter
// (checked by hand against croniter 7 in the Airflow venv); the cron grammar is cron-parser's.
import { afterEach, describe, expect, it } from "vitest";
import { loadFixture, PIPELINE, removeFixtureProjects } from "../__fixtures__/load.js";
import { SCHEDULE_PRESETS, scheduleProblem, scheduleSchema } from "./schedule.js";

afterEach(removeFixtureProjects);

const message = (value: unknown) => {
  const result = scheduleSchema.safeParse(value);
  return result.success ? undefined : result.error.issues.map((i) => i.message).join("\n");
};

describe("scheduleSchema", () => {
  it("accepts every Airflow preset and null (manual runs only)", () => {
    for (const preset of SCHEDULE_PRESETS) expect(message(preset), preset).toBeUndefined();
    expect(scheduleSchema.parse(null)).toBeNull();
  });

  it.each([
    "0 6 * * *",
    "*/15 * * * *",
    "5-10/2 1,3 * * *",
    "0 0 1-31/2 * *",
    "0 0 * * MON-FRI",
    "0 12 * * sun",
    "0 0 1 JAN,JUL *",
    "0 0 * jan-mar mon",
    "0 0 * * 0-7",
    "0 0 * * 7",
    "0 0 ? * *",
    "0 0 L * *",
    "0 0 * * 1#2",
    "00 06 * * *",
    "*/90 * * * *",
    "0\t6  * * *",
  ])("accepts the cron expression %j", (cron) => {
    expect(message(cron)).toBeUndefined();
  });

  it.each([
    ["61 * * * *", /61/],
    ["* 24 * * *", /24/],
    ["0 0 0 * *", /expected range 1-31/],
    ["0 0 32 * *", /32/],
    ["0 0 * 13 *", /13/],
    ["0 0 * * 8", /expected range 0-7/],
    ["1-70 * * * *", /1-70/],
    ["*/0 * * * *", /every 0/],
    ["0,,5 * * * *", /list/i],
    ["MON * * * *", /MON/],
    ["0 0 * * monday", /alias/],
    ["* * * *", /found 4 fields, expected 5/],
    ["0 * * * * *", /found 6 fields, expected 5/],
    ["every day", /found 2 fields, expected 5/],
    ["H * * * *", /minute "H".*not supported by Airflow/],
    ["0 0 * * 5L", /day-of-week "5L".*not supported/],
    ["0 0 31 2 *", /day of month/],
  ])("rejects %j and says why", (cron, reason) => {
    const text = message(cron);
    expect(text).toMatch(/^expected a cron expression \(minute hour day-of-month month day-of-week, e\.g\. "0 6 \* \* \*"\) or an Airflow preset such as "@daily": /);
    expect(text).toMatch(reason);
  });

  it("suggests the preset that was meant", () => {
    expect(message("@dayly")).toMatch(/unknown preset "@dayly"; did you mean "@daily"\?$/);
    expect(message("daily")).toMatch(/found 1 field, expected 5; did you mean "@daily"\?$/);
    expect(scheduleProblem("@sometimes")).toBe('unknown preset "@sometimes"');
  });

  it("rejects empty and non-string schedules", () => {
    expect(message("")).toMatch(/the schedule is empty \(use null for manual runs only\)$/);
    expect(message("   ")).toMatch(/the schedule is empty/);
    expect(scheduleSchema.safeParse(6).success).toBe(false);
  });
});

describe("pipeline.schedule in a pipeline file", () => {
  const withSchedule = (value: string) => PIPELINE.replace("start_date:", `schedule: ${value}\n  start_date:`);

  it("defaults to @daily and keeps null and cron values", async () => {
    expect((await loadFixture(PIPELINE)).pipeline!.config.pipeline.schedule).toBe("@daily");
    expect((await loadFixture(withSchedule("null"))).pipeline!.config.pipeline.schedule).toBeNull();
    expect((await loadFixture(withSchedule("'30 5 * * MON-FRI'"))).pipeline!.config.pipeline.schedule).toBe("30 5 * * MON-FRI");
  });

  it("reports a bad cron expression at its file, line and column", async () => {
    const { pipeline, diagnostics } = await loadFixture(withSchedule("'61 * * * *'"));
    expect(pipeline).toBeUndefined();
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({
      code: "XO_CONFIG_INVALID_VALUE",
      severity: "error",
      file: expect.stringMatching(/pipeline\.yaml$/),
      line: 3,
      column: 13,
      path: "pipeline.schedule",
    });
    expect(diagnostics[0]!.message).toContain('or an Airflow preset such as "@daily": Constraint error, got value 61 expected range 0-59');
  });

  it("reports a misspelt preset with the suggestion", async () => {
    const { diagnostics } = await loadFixture(withSchedule("'@dayly'"));
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({ path: "pipeline.schedule", line: 3, column: 13 });
    expect(diagnostics[0]!.message).toContain('did you mean "@daily"?');
  });
});
