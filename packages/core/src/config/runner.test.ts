import { afterEach, describe, expect, it } from "vitest";
import { fixtureProject, loadFixture, PIPELINE as BASE, removeFixtureProjects } from "../__fixtures__/load.js";

afterEach(removeFixtureProjects);

const load = (runnerYaml: string) => loadFixture(BASE + runnerYaml);

describe("runner", () => {
  it("is a BashOperator running xo-foundry unless the file says otherwise", async () => {
    expect((await load("")).pipeline!.config.runner).toEqual({ type: "bash", command: "xo-foundry" });
    // Files written before `type` existed keep meaning the same thing.
    const old = await load("runner:\n  command: npx --no-install xo-foundry\n");
    expect(old.pipeline!.config.runner).toEqual({ type: "bash", command: "npx --no-install xo-foundry" });
  });

  it("fills the kubernetes defaults around the one required key, the image", async () => {
    const { pipeline, diagnostics } = await load("runner:\n  type: kubernetes\n  image: registry.example.com/data/pipelines:1.4.0\n");
    expect(diagnostics).toEqual([]);
    expect(pipeline!.config.runner).toEqual({
      type: "kubernetes",
      image: "registry.example.com/data/pipelines:1.4.0",
      namespace: "default",
      command: ["xo-foundry"],
      resources: { requests: {}, limits: {} },
      env: {},
      labels: {},
      get_logs: true,
      on_finish_action: "delete_pod",
    });
  });

  it("accepts every kubernetes option", async () => {
    const yaml = `runner:
  type: kubernetes
  image: ghcr.io/acme/pipelines@sha256:${"a".repeat(64)}
  namespace: data-pipelines
  command: [node, /app/node_modules/.bin/xo-foundry]
  image_pull_policy: Always
  service_account_name: pipelines.reader
  resources:
    requests: { cpu: 500m, memory: 512Mi }
    limits: { cpu: "2", memory: 1Gi }
  env:
    NODE_OPTIONS: --max-old-space-size=768
    XO_FOUNDRY_PROJECT_DIR: /app
  labels:
    team: data-platform
    app.kubernetes.io/part-of: xo-foundry
  startup_timeout_seconds: 300
  kubernetes_conn_id: k8s_prod
  in_cluster: false
  config_file: /home/airflow/.kube/config
  get_logs: false
  on_finish_action: delete_succeeded_pod
`;
    const { pipeline, diagnostics } = await load(yaml);
    expect(diagnostics).toEqual([]);
    expect(pipeline!.config.runner).toMatchObject({
      command: ["node", "/app/node_modules/.bin/xo-foundry"],
      resources: { requests: { cpu: "500m", memory: "512Mi" }, limits: { cpu: "2", memory: "1Gi" } },
      env: { NODE_OPTIONS: "--max-old-space-size=768", XO_FOUNDRY_PROJECT_DIR: "/app" },
      labels: { team: "data-platform", "app.kubernetes.io/part-of": "xo-foundry" },
      in_cluster: false,
      get_logs: false,
    });
  });

  it("names an unknown runner type and the ones that exist", async () => {
    const { diagnostics } = await load("runner:\n  type: k8s\n  image: x\n");
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({ path: "runner.type", line: 10 });
    expect(diagnostics[0]!.message).toContain('"bash" or "kubernetes"');
  });

  it("keeps bash and kubernetes options apart", async () => {
    const missing = await load("runner:\n  type: kubernetes\n");
    expect(missing.diagnostics).toMatchObject([{ code: "XO_CONFIG_MISSING_KEY", path: "runner.image" }]);
    const shellString = await load("runner:\n  type: kubernetes\n  image: x\n  command: npx xo-foundry\n");
    expect(shellString.diagnostics).toMatchObject([{ code: "XO_CONFIG_INVALID_TYPE", path: "runner.command", line: 12 }]);
    const bashWithImage = await load("runner:\n  command: xo-foundry\n  image: x\n");
    expect(bashWithImage.diagnostics).toMatchObject([{ code: "XO_CONFIG_UNKNOWN_KEY", path: "runner.image" }]);
  });

  it("checks Kubernetes' own syntax before a pod is ever launched", async () => {
    const yaml = `runner:
  type: kubernetes
  image: "my image"
  namespace: Data_Pipelines
  image_pull_policy: always
  resources:
    limits: { memory: 1GB }
  env:
    XO_RUN_ID: mine
    XO_CONN_WAREHOUSE: postgres://u:p@h/db
    bad-name: x
  labels:
    team: data platform
    "bad key": x
  on_finish_action: delete
`;
    const { diagnostics } = await load(yaml);
    const byPath = Object.fromEntries(diagnostics.map((d) => [d.path, d]));
    expect(Object.keys(byPath).sort()).toEqual([
      "runner.env.XO_CONN_WAREHOUSE",
      "runner.env.XO_RUN_ID",
      "runner.env.bad-name",
      "runner.image",
      "runner.image_pull_policy",
      "runner.labels.bad key",
      "runner.labels.team",
      "runner.namespace",
      "runner.on_finish_action",
      "runner.resources.limits.memory",
    ]);
    expect(byPath["runner.env.XO_RUN_ID"]!.message).toContain("credentials come from Airflow connections");
    expect(byPath["runner.env.XO_CONN_WAREHOUSE"]!.line).toBe(18);
    expect(byPath["runner.resources.limits.memory"]!.message).toContain("512Mi or 1Gi");
    expect(byPath["runner.image_pull_policy"]!.hint).toBe('did you mean "Always"?');
    expect(byPath["runner.labels.team"]!.message).toContain("label value");
    expect(byPath["runner.labels.bad key"]!.message).toContain("label key");
  });

  it("bounds label keys and values by Kubernetes' lengths", async () => {
    const ok = await load(`runner:\n  type: kubernetes\n  image: x\n  labels:\n    ${"k".repeat(63)}: ${"v".repeat(63)}\n`);
    expect(ok.diagnostics).toEqual([]);
    const longKey = await load(`runner:\n  type: kubernetes\n  image: x\n  labels:\n    ${"k".repeat(64)}: v\n`);
    expect(longKey.diagnostics.map((d) => d.message)).toEqual([expect.stringContaining("name is at most 63 characters")]);
    const longValue = await load(`runner:\n  type: kubernetes\n  image: x\n  labels:\n    k: ${"v".repeat(64)}\n`);
    expect(longValue.diagnostics.map((d) => d.message)).toEqual([expect.stringContaining("value is at most 63 characters")]);
  });
});

describe("runner diagnostics and defaults", () => {
  it("suggests the kubernetes key that was meant", async () => {
    const { diagnostics } = await load("runner:\n  type: kubernetes\n  image: i:1\n  namespce: data\n");
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({ code: "XO_CONFIG_UNKNOWN_KEY", path: "runner.namespce" });
    expect(diagnostics[0]!.hint).toBe('did you mean "namespace"?');
  });

  it("drops project runner defaults of another runner type", async () => {
    const fixture = await fixtureProject({
      "xo-foundry.yaml": "defaults:\n  runner:\n    type: kubernetes\n    image: registry.example.com/p:1\n",
      "k8s.yaml": BASE,
      "bash.yaml": `${BASE}runner:\n  type: bash\n  command: xo\n`,
    });
    const k8s = await fixture.load("k8s.yaml");
    expect(k8s.pipeline!.config.runner).toMatchObject({ type: "kubernetes", image: "registry.example.com/p:1" });
    const bash = await fixture.load("bash.yaml");
    expect(bash.diagnostics).toEqual([]);
    expect(bash.pipeline!.config.runner).toEqual({ type: "bash", command: "xo" });
  });
});
