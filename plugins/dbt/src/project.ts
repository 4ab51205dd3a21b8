/**
 * Finding the dbt project and reading what xo-foundry needs from dbt_project.yml: its
 * name (for dataset names) and its profile name (for a generated profile).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { DbtError } from "./errors.js";

export interface DbtProject {
  /** Absolute path of the folder holding dbt_project.yml. */
  readonly dir: string;
  readonly name: string;
  /** `profile:` of dbt_project.yml, if any. */
  readonly profile: string | undefined;
}

const PROJECT_FILE = "dbt_project.yml";
/** Conventional folder names, tried when the project folder has several subfolders with a dbt project. */
const CONVENTIONAL = ["dbt", "transform", "analytics"];

/** The dbt project of a step: `project_dir` when given, else found next to the xo-foundry project. */
export function findDbtProject(projectDir: string, projectDirOption: string | undefined): DbtProject {
  if (projectDirOption !== undefined) {
    const dir = path.resolve(projectDir, projectDirOption);
    if (!existsSync(path.join(dir, PROJECT_FILE))) {
      throw new DbtError("XO_DBT_PROJECT_NOT_FOUND", `project_dir ${JSON.stringify(projectDirOption)} (${dir}) has no ${PROJECT_FILE}`, "point `project_dir` at the folder that holds dbt_project.yml");
    }
    return readProject(dir);
  }
  if (existsSync(path.join(projectDir, PROJECT_FILE))) return readProject(projectDir);
  const candidates = readdirSync(projectDir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith(".") && e.name !== "node_modules" && existsSync(path.join(projectDir, e.name, PROJECT_FILE)))
    .map((e) => e.name)
    .sort();
  const conventional = CONVENTIONAL.find((name) => candidates.includes(name));
  const chosen = candidates.length === 1 ? candidates[0] : conventional;
  if (chosen === undefined) {
    throw new DbtError(
      "XO_DBT_PROJECT_NOT_FOUND",
      candidates.length === 0
        ? `no ${PROJECT_FILE} in ${projectDir} or its subfolders`
        : `several subfolders of ${projectDir} hold a dbt project (${candidates.join(", ")})`,
      "set `project_dir` in the step's `with:` block",
    );
  }
  return readProject(path.join(projectDir, chosen));
}

function readProject(dir: string): DbtProject {
  const file = path.join(dir, PROJECT_FILE);
  let doc: unknown;
  try {
    doc = parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new DbtError("XO_DBT_PROJECT_NOT_FOUND", `${file} is not valid YAML: ${(e as Error).message}`, "fix dbt_project.yml; `dbt parse` shows the same problem");
  }
  const record = (typeof doc === "object" && doc !== null ? doc : {}) as Record<string, unknown>;
  const name = typeof record.name === "string" ? record.name : path.basename(dir);
  return { dir, name, profile: typeof record.profile === "string" ? record.profile : undefined };
}
