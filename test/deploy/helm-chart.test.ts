import { execFile } from "node:child_process";
import { mkdtemp, readFile, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { AUTH_SERVICE_NAME } from "../../src/app.js";
import { loadConfig, requireOperatorSecrets } from "../../src/config.js";
import { parseKeyFiles, readKeyDirectory, writeNewKeyFile } from "../../src/tokens/key-files.js";
import { startTestService, type TestService } from "../support/service.js";
import { CHART_DIR, PRODUCTION_VALUES, find, helm, render, type Manifest } from "./helm.js";
import { typed, validateManifest } from "./kubernetes-schemas.js";

const HELM_TIMEOUT = 120_000;
const chart = parse(await readFile(`${CHART_DIR}/Chart.yaml`, "utf8")) as { appVersion: string; version: string };
const pkg = JSON.parse(await readFile("package.json", "utf8")) as { version: string };

const renders: Record<"default" | "production", Manifest[]> = { default: [], production: [] };

beforeAll(async () => {
  [renders.default, renders.production] = await Promise.all([
    render("dynauthn"),
    render("dynauthn", ["-f", PRODUCTION_VALUES]),
  ]);
}, HELM_TIMEOUT);

function deployment(manifests: Manifest[]) {
  const d = typed("apps/v1 Deployment", find(manifests, "Deployment"));
  const pod = d.spec!.template.spec!;
  const container = pod.containers.find((c) => c.name === "dynauthn")!;
  return { d, pod, container };
}

/** What the container's process.env would hold: the ConfigMap plus the literal env entries. */
function containerEnv(manifests: Manifest[]): Record<string, string> {
  const configMap = typed("v1 ConfigMap", find(manifests, "ConfigMap", "dynauthn"));
  const { container } = deployment(manifests);
  const literal = (container.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]);
  return { ...configMap.data, ...Object.fromEntries(literal) };
}

describe("helm/dynauthn", () => {
  it.each([
    ["default values", []],
    ["production values", ["-f", PRODUCTION_VALUES]],
  ])("passes helm lint --strict with %s", async (_, args) => {
    const out = await helm(["lint", "--strict", CHART_DIR, ...args]);
    expect(out.stdout + out.stderr).toContain("0 chart(s) failed");
    expect(out.code).toBe(0);
  }, HELM_TIMEOUT);

  it("renders only manifests that validate against the Kubernetes schemas", () => {
    for (const manifests of Object.values(renders)) {
      expect(manifests.length).toBeGreaterThan(5);
      for (const m of manifests) expect(() => validateManifest(m), `${m.kind} ${m.metadata.name}`).not.toThrow();
    }
    // The validation has teeth: a string where the schema wants an integer port is refused.
    const broken = structuredClone(find(renders.default, "Deployment")) as Manifest & { spec: any };
    broken.spec.template.spec.containers[0].livenessProbe.grpc.port = "grpc";
    expect(() => validateManifest(broken)).toThrow(/port must be integer/);
  });

  it("renders the production kinds: HPA, PDB, ServiceMonitor, NetworkPolicy, headless Service", () => {
    const kinds = (ms: Manifest[]) => ms.map((m) => m.kind).sort();
    expect(kinds(renders.production)).toEqual(
      ["ConfigMap", "Deployment", "HorizontalPodAutoscaler", "NetworkPolicy", "Pod", "PodDisruptionBudget", "Service", "Service", "ServiceAccount", "ServiceMonitor"].sort(),
    );
    expect(kinds(renders.default)).not.toContain("HorizontalPodAutoscaler");
    expect(kinds(renders.default)).not.toContain("ServiceMonitor");
    const hpa = typed("autoscaling/v2 HorizontalPodAutoscaler", find(renders.production, "HorizontalPodAutoscaler"));
    expect(hpa.spec!.scaleTargetRef).toMatchObject({ kind: "Deployment", name: "dynauthn" });
    expect(deployment(renders.production).d.spec!.replicas).toBeUndefined(); // the HPA owns it
    const headless = typed("v1 Service", find(renders.production, "Service", "dynauthn-headless"));
    expect(headless.spec!.clusterIP).toBe("None");
  });

  it.each(["default", "production"] as const)("%s: gRPC probes on the numeric service port, readiness on the AuthService", (which) => {
    const { container } = deployment(renders[which]);
    const service = typed("v1 Service", find(renders[which], "Service", "dynauthn"));
    const port = service.spec!.ports![0]!;
    expect(port).toMatchObject({ name: "grpc", port: 50051, targetPort: "grpc", appProtocol: "grpc" });
    expect(container.ports![0]).toMatchObject({ name: "grpc", containerPort: port.port });
    expect(container.startupProbe!.grpc).toEqual({ port: port.port });
    expect(container.livenessProbe!.grpc).toEqual({ port: port.port });
    expect(container.readinessProbe!.grpc).toEqual({ port: port.port, service: AUTH_SERVICE_NAME });
    expect(containerEnv(renders[which]).PORT).toBe(String(port.port));
  });

  it("falls back to TCP probes with TLS on (Kubernetes gRPC probes cannot speak TLS)", async () => {
    const manifests = await render("dynauthn", ["--set", "tls.enabled=true", "--set", "tls.secretName=dynauthn-tls"]);
    const { container, pod } = deployment(manifests);
    expect(container.readinessProbe).toMatchObject({ tcpSocket: { port: 50051 } });
    expect(container.readinessProbe!.grpc).toBeUndefined();
    expect(pod.volumes).toContainEqual(expect.objectContaining({ name: "tls", secret: expect.objectContaining({ secretName: "dynauthn-tls" }) }));
    expect(containerEnv(manifests)).toMatchObject({ TLS_CERT_FILE: "/etc/dynauthn/tls/tls.crt", TLS_KEY_FILE: "/etc/dynauthn/tls/tls.key" });
  }, HELM_TIMEOUT);

  it.each(["default", "production"] as const)("%s: non-root, read-only root with an emptyDir /tmp, no capabilities, RuntimeDefault seccomp", (which) => {
    const { pod, container } = deployment(renders[which]);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: "RuntimeDefault" } });
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    });
    const tmp = container.volumeMounts!.find((v) => v.mountPath === "/tmp")!;
    expect(pod.volumes!.find((v) => v.name === tmp.name)!.emptyDir).toBeDefined();
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(container.resources!.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    expect(container.resources!.limits).toMatchObject({ memory: expect.any(String) });
  });

  it.each(["default", "production"] as const)("%s: termination grace outlasts preStop sleep + SHUTDOWN_GRACE_SECONDS", (which) => {
    const { pod, container } = deployment(renders[which]);
    const preStop = container.lifecycle!.preStop!.sleep!.seconds;
    const drain = Number(containerEnv(renders[which]).SHUTDOWN_GRACE_SECONDS);
    expect(preStop).toBeGreaterThan(0);
    expect(drain).toBeGreaterThan(0);
    expect(pod.terminationGracePeriodSeconds!).toBeGreaterThan(preStop + drain);
  });

  it("spreads pods over zones and nodes, and keeps a PodDisruptionBudget", () => {
    for (const manifests of Object.values(renders)) {
      const { pod, d } = deployment(manifests);
      expect(pod.topologySpreadConstraints!.map((t) => t.topologyKey).sort()).toEqual(["kubernetes.io/hostname", "topology.kubernetes.io/zone"]);
      for (const t of pod.topologySpreadConstraints!) expect(t.labelSelector!.matchLabels).toEqual(d.spec!.selector.matchLabels);
      const pdb = typed("policy/v1 PodDisruptionBudget", find(manifests, "PodDisruptionBudget"));
      expect(pdb.spec!.selector!.matchLabels).toEqual(d.spec!.selector.matchLabels);
      expect(pdb.spec!.maxUnavailable).toBe(1);
    }
  });

  it("tags the image with the chart's appVersion (= package.json version), never latest", async () => {
    expect(chart.appVersion).toBe(pkg.version);
    expect(deployment(renders.default).container.image).toBe(`dynauthn:${chart.appVersion}`);
    for (const manifests of Object.values(renders)) {
      for (const image of [deployment(manifests).container.image!, typed("v1 Pod", find(manifests, "Pod")).spec!.containers[0]!.image!]) {
        expect(image).toMatch(/^[^:@]+(:[\w.-]+|@sha256:[a-f0-9]{64})$/);
        expect(image).not.toMatch(/:latest$/);
      }
    }
    const latest = await helm(["template", "x", CHART_DIR, "--set", "image.tag=latest"]);
    expect(latest.code).not.toBe(0);
    const digest = `sha256:${"ab".repeat(32)}`;
    const pinned = await render("dynauthn", ["--set", `image.digest=${digest}`]);
    expect(deployment(pinned).container.image).toBe(`dynauthn@${digest}`);
  }, HELM_TIMEOUT);

  it("annotates the ServiceAccount for IRSA only when a role is set", () => {
    const sa = (ms: Manifest[]) => typed("v1 ServiceAccount", find(ms, "ServiceAccount"));
    expect(sa(renders.production).metadata!.annotations).toEqual({ "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/dynauthn-prod" });
    expect(sa(renders.default).metadata!.annotations).toBeUndefined();
    expect(deployment(renders.production).pod.serviceAccountName).toBe(sa(renders.production).metadata!.name);
  });

  it("admits callers, the test hook and scrapers through the NetworkPolicy", () => {
    const policy = typed("networking.k8s.io/v1 NetworkPolicy", find(renders.production, "NetworkPolicy"));
    const [callers, scrapers] = policy.spec!.ingress!;
    expect(callers!.ports).toEqual([{ port: "grpc", protocol: "TCP" }]);
    expect(callers!.from).toContainEqual({ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "gateway" } } });
    expect(callers!.from).toContainEqual({ podSelector: { matchLabels: expect.objectContaining({ "app.kubernetes.io/component": "test" }) } });
    expect(scrapers!.ports).toEqual([{ port: "metrics", protocol: "TCP" }]);
    const monitor = typed("monitoring.coreos.com/v1 ServiceMonitor", find(renders.production, "ServiceMonitor"));
    expect(monitor.spec.endpoints![0]).toMatchObject({ port: "metrics", path: "/metrics" });
  });

  it.each(["default", "production"] as const)("%s: the ConfigMap is a configuration the service accepts, with no embedded store", (which) => {
    // IRSA's webhook adds AWS_WEB_IDENTITY_TOKEN_FILE; the default values name no role, so give it here.
    const env = { ...containerEnv(renders[which]), AWS_WEB_IDENTITY_TOKEN_FILE: "/var/run/secrets/eks.amazonaws.com/serviceaccount/token" };
    const config = loadConfig(env);
    expect(() => requireOperatorSecrets(config)).not.toThrow();
    expect(config.dynamodb).toMatchObject({ embedded: false, createTables: false, localCredentials: false });
    const { container, pod } = deployment(renders[which]);
    const mount = container.volumeMounts!.find((v) => v.mountPath === config.signingKeys.dir);
    expect(mount?.readOnly).toBe(true);
    expect(mount?.subPath).toBeUndefined(); // a subPath mount would never see a rotated key
    const secret = pod.volumes!.find((v) => v.name === mount!.name)!.secret!;
    expect(secret.items).toBeUndefined(); // every key of the Secret
    expect(secret.defaultMode).toBe(0o440);
    // The server secret: its Secret's `secrets` key, read-only, at SERVER_SECRETS_FILE.
    const secretFile = config.serverSecretsFile!;
    const secretMount = container.volumeMounts!.find((v) => secretFile.startsWith(`${v.mountPath}/`));
    expect(secretMount?.readOnly).toBe(true);
    expect(secretMount?.subPath).toBeUndefined();
    const serverSecret = pod.volumes!.find((v) => v.name === secretMount!.name)!.secret!;
    expect(serverSecret.secretName).toBe("dynauthn-server-secret");
    expect(serverSecret.items).toEqual([{ key: "secrets", path: secretFile.slice(secretMount!.mountPath.length + 1) }]);
    expect(serverSecret.defaultMode).toBe(0o440);
  });

  it("mounts the key ring the way the service reads it: the kubelet's ..data layout of a Secret volume", async () => {
    // A Secret volume: the files live in a timestamped dot-directory, `..data` points at it, and
    // each key is a symlink through `..data`, so the kubelet swaps all keys at once.
    const volume = await mkdtemp(join(tmpdir(), "dynauthn-secret-"));
    const generation = join(volume, "..2026_11_24_17_00_00.000000001");
    const [older, newer] = [Date.parse("2026-11-01T00:00:00Z"), Date.parse("2026-11-20T00:00:00Z")];
    const written = [await writeNewKeyFile(generation, "ES256", older), await writeNewKeyFile(generation, "EdDSA", newer)];
    await symlink(basename(generation), join(volume, "..data"));
    for (const { path } of written) await symlink(join("..data", basename(path)), join(volume, basename(path)));

    const keys = await parseKeyFiles(await readKeyDirectory(volume));
    expect(keys.map((k) => [k.kid, k.activatesAt])).toEqual(written.map(({ key }) => [key.kid, key.activatesAt]));
  });

  it("mounts the FIDO MDS BLOB's claim read-only and points MDS_BLOB_FILE into it, only when a claim is named", async () => {
    const manifests = await render("dynauthn", ["--set", "mds.existingClaim=fido-mds", "--set", "mds.reloadSeconds=600"]);
    for (const manifest of manifests) validateManifest(manifest);
    const { pod, container } = deployment(manifests);
    expect(pod.volumes?.find((v) => v.name === "mds")?.persistentVolumeClaim).toEqual({ claimName: "fido-mds", readOnly: true });
    expect(container.volumeMounts?.find((m) => m.name === "mds")).toEqual({ name: "mds", mountPath: "/etc/dynauthn/mds", readOnly: true });
    const config = loadConfig(containerEnv(manifests));
    expect(config.mds).toEqual({ blobFile: "/etc/dynauthn/mds/blob.jwt", rootFile: undefined, reloadSeconds: 600 });
    expect(containerEnv(renders.default)).not.toHaveProperty("MDS_BLOB_FILE");
    expect(deployment(renders.default).pod.volumes?.map((v) => v.name)).not.toContain("mds");
  }, HELM_TIMEOUT);

  it("passes the production values into the service's configuration", () => {
    const env = containerEnv(renders.production);
    const config = loadConfig({ ...env, AWS_WEB_IDENTITY_TOKEN_FILE: "/token" });
    expect(config.tenant).toMatchObject({ id: "example", rpId: "example.com", origins: ["https://example.com", "https://app.example.com"] });
    expect(config.tenant).toMatchObject({
      relatedOrigins: ["https://example.co.uk"],
      passkeyEndpoints: { enroll: "https://example.com/account/passkeys/new", manage: "https://example.com/account/passkeys" },
    });
    expect(containerEnv(renders.default)).not.toHaveProperty("RP_RELATED_ORIGINS");
    expect(config.dynamodb).toMatchObject({ region: "eu-west-1", tablePrefix: "prod-dynauthn-" });
    // Set only when given, and 0 is a value ("never cache"), not "unset".
    expect(config).toMatchObject({ credentialCacheTtlSeconds: 0, auditRetentionDays: 400 });
    expect(env).toMatchObject({ KEY_RELOAD_SECONDS: "60", KEY_ROTATION_DAYS: "365" });
    expect(containerEnv(renders.default)).not.toHaveProperty("CREDENTIAL_CACHE_TTL_SECONDS");
    expect(config.transportLimits).toMatchObject({ idleTimeoutMs: 400_000, maxConnections: 2048 });
    expect(containerEnv(renders.default)).not.toHaveProperty("MAX_CONNECTIONS");
    expect(env).toMatchObject({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://otel-collector.observability.svc:4317", OTEL_EXPORTER_PROMETHEUS_PORT: "9464" });
    expect(env.OTEL_RESOURCE_ATTRIBUTES).toMatch(/^k8s\.namespace\.name=\$\(K8S_NAMESPACE\),.*,deployment\.environment\.name=production$/);
  });

  describe("with tenants, mTLS and a caller policy (ci/tenants-values.yaml)", () => {
    const TENANTS_VALUES = join(CHART_DIR, "ci/tenants-values.yaml");
    let manifests: Manifest[];
    beforeAll(async () => {
      manifests = await render("dynauthn", ["-f", TENANTS_VALUES]);
    }, HELM_TIMEOUT);

    it("passes helm lint --strict", async () => {
      const out = await helm(["lint", "--strict", CHART_DIR, "-f", TENANTS_VALUES]);
      expect(out.code, out.stdout + out.stderr).toBe(0);
    }, HELM_TIMEOUT);

    it("mounts the tenants file and the client CA where the environment says, and the service accepts them", async () => {
      for (const m of manifests) expect(() => validateManifest(m), `${m.kind} ${m.metadata.name}`).not.toThrow();
      const env = containerEnv(manifests);
      const { container, pod } = deployment(manifests);
      const mountOf = (file: string) => {
        const mount = container.volumeMounts!.find((v) => file.startsWith(`${v.mountPath}/`));
        expect(mount?.readOnly, file).toBe(true);
        return { mount: mount!, volume: pod.volumes!.find((v) => v.name === mount!.name)!, name: file.slice(mount!.mountPath.length + 1) };
      };
      const tenantsFile = mountOf(env.DYNAUTHN_CONFIG_FILE!);
      const configMap = typed("v1 ConfigMap", find(manifests, "ConfigMap", tenantsFile.volume.configMap!.name));
      const caFile = mountOf(env.TLS_CLIENT_CA_FILE!);
      expect(caFile.volume.secret).toMatchObject({ secretName: "dynauthn-client-ca", items: [{ key: "ca.crt", path: caFile.name }] });
      expect(Object.keys(deployment(manifests).d.spec!.template.metadata!.annotations!)).toContain("checksum/tenants");

      // The rendered file, written where the service would read it, loads with its policy.
      const dir = await mkdtemp(join(tmpdir(), "dynauthn-tenants-"));
      const local = join(dir, tenantsFile.name);
      await writeFile(local, configMap.data![tenantsFile.name]!);
      const config = loadConfig({ ...env, DYNAUTHN_CONFIG_FILE: local, TLS_CLIENT_CA_FILE: "/ca.crt", AWS_WEB_IDENTITY_TOKEN_FILE: "/token" });
      expect(config.tenants.map((t) => [t.id, t.rpId, t.userVerification])).toEqual([
        ["notes", "notes.example.com", "preferred"],
        ["admin", "admin.example.com", "required"],
      ]);
      expect(config.tenant.id).toBe("notes");
      expect(config.tenant).toMatchObject({ relatedOrigins: ["https://notes.example.co.uk"], passkeyEndpoints: { manage: "https://notes.example.com/account/passkeys" } });
      expect(config.tenants[1]!.attestation).toMatchObject({ conveyance: "direct", allowBackupEligible: false });
      expect(config.callers?.rules.map((r) => r.identity)).toHaveLength(2);
      // Without the CA the same policy is refused: the chart cannot deploy it without mTLS by accident.
      expect(() => loadConfig({ ...env, DYNAUTHN_CONFIG_FILE: local, TLS_CLIENT_CA_FILE: undefined })).toThrow(/TLS_CLIENT_CA_FILE/);
    });

    it("refuses a client CA without TLS", async () => {
      const out = await helm(["template", "dynauthn", CHART_DIR, "--set", "tls.clientCaSecretName=ca"]);
      expect(out.code).not.toBe(0);
      expect(out.stderr).toContain("tls.clientCaSecretName needs tls.enabled");
    }, HELM_TIMEOUT);
  });

  it("prints NOTES that warn about a localhost RP ID and missing AWS credentials only when they apply", async () => {
    const notes = async (args: string[]) => {
      const out = await helm(["install", "dynauthn", CHART_DIR, "--namespace", "auth", "--dry-run=client", ...args]);
      expect(out.code, out.stderr).toBe(0);
      return out.stdout.slice(out.stdout.indexOf("NOTES:"));
    };
    const defaults = await notes([]);
    expect(defaults).toContain('WARNING: config.rpId is "localhost"');
    expect(defaults).toContain("WARNING: no serviceAccount.irsaRoleArn");
    const production = await notes(["-f", PRODUCTION_VALUES]);
    expect(production).not.toContain("WARNING");
    expect(production).toContain("dns:///dynauthn-headless.auth.svc:50051");
  }, HELM_TIMEOUT);

  describe("the helm test hook", () => {
    let service: TestService;
    beforeAll(async () => {
      service = await startTestService();
    });
    afterAll(() => service?.close());

    /** The hook's command, rendered for a Service named 127.0.0.1 on the test service's port. */
    async function hookCommand(): Promise<string[]> {
      const port = String(service.app.server.address.port);
      const manifests = await render("hook", ["--set", "fullnameOverride=127.0.0.1", "--set", `service.port=${port}`]);
      const hook = typed("v1 Pod", find(manifests, "Pod"));
      expect(hook.metadata!.annotations).toMatchObject({ "helm.sh/hook": "test" });
      return hook.spec!.containers[0]!.command!;
    }

    it("passes against a serving instance and fails once it drains", async () => {
      const [shell, ...args] = await hookCommand();
      const run = promisify(execFile);
      const ok = await run(shell!, args);
      expect(ok.stdout.trim()).toBe('{"status":"SERVING"}');

      service.app.health.drain();
      await expect(run(shell!, args)).rejects.toMatchObject({ code: 1, stdout: expect.stringContaining("NOT_SERVING") });
    }, HELM_TIMEOUT);
  });
});
