// The deployment files against the server they deploy: nothing here can run a cluster or build an image, so these
// tests hold the manifests to what the code does (its flags, port, health path, key files), which is where a
// manifest goes wrong without anyone noticing until it is applied.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { appRoot } from '../../main/core/paths.js';
import { API_TOKEN_NAME } from '../../main/server/auth.js';
import { DEFAULT_PORT } from '../../main/server/defaults.js';
import { parseFlags } from '../../main/cli/command.js';
import { modelNameFlag, SERVE_OPTIONS } from '../../main/cli/commands/serve.js';
import { call, startTestServer, type TestServer } from '../main/server/helpers.js';

interface Container {
  name: string;
  args?: string[];
  ports?: { name?: string; containerPort: number }[];
  readinessProbe?: { httpGet?: { path: string; port: number | string } };
  livenessProbe?: { httpGet?: { path: string; port: number | string } };
  resources?: { requests?: { cpu?: string }; limits?: { cpu?: string } };
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  env?: { name: string; value?: string }[];
}

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const root = appRoot();
function readManifest(file: string): Doc[] {
  return parseAllDocuments(readFileSync(join(root, 'deploy', file), 'utf8')).map((d) => {
    expect(d.errors).toEqual([]);
    return d.toJS() as Doc;
  });
}
const docs = readManifest('seldon-deployment.yaml');
const byKind = (kind: string) => docs.filter((d) => d.kind === kind);
const seldon = byKind('SeldonDeployment')[0]!;
const predictor = seldon.spec.predictors[0];
const component = predictor.componentSpecs[0];
const container = (component.spec.containers as Container[]).find((c) => c.name === predictor.graph.name)!;
const dataDir = container.env!.find((e) => e.name === 'BRANCHLENS_DATA')!.value!;

/** A Kubernetes CPU quantity ('2', '1500m', '0.5') in CPUs. */
function cpu(quantity: string): number {
  return quantity.endsWith('m') ? Number(quantity.slice(0, -1)) / 1000 : Number(quantity);
}

/** The flags `branchlens serve` would read from the container's arguments. */
function serveFlags(args: string[]) {
  expect(args[0]).toBe('serve');
  return parseFlags(args.slice(1), SERVE_OPTIONS).values;
}

describe('the SeldonDeployment example', () => {
  it('runs `serve` with flags it has, on a network address, with a token', () => {
    const flags = serveFlags(container.args!);
    expect(flags.host).toBe('0.0.0.0');
    expect(flags['token-required']).toBe(true);
    expect(Number(flags.workers)).toBeLessThanOrEqual(Number(container.resources!.limits!.cpu));
  });

  it('names the port `http`, the one the operator gives the executor, and serves on it', () => {
    const port = Number(serveFlags(container.args!).port ?? DEFAULT_PORT);
    expect(container.ports).toContainEqual(expect.objectContaining({ name: 'http', containerPort: port }));
    expect(predictor.graph.endpoint).toMatchObject({ type: 'REST', httpPort: port });
    for (const probe of [container.readinessProbe, container.livenessProbe]) {
      expect(probe?.httpGet).toEqual({ path: '/health/ping', port });
    }
  });

  it('mounts every key the server reads where it reads them, from one Secret', () => {
    const keysMount = container.volumeMounts!.find((m) => m.mountPath === join(dataDir, 'keys'))!;
    expect(keysMount.readOnly).toBe(true);
    const volume = component.spec.volumes.find((v: Doc) => v.name === keysMount.name);
    const files = volume.secret.items.map((i: Doc) => i.path).sort();
    expect(files).toEqual(['audit-ed25519.pem', 'hmac.key', API_TOKEN_NAME].sort());
    // Mode 0444 (no fsGroup under Seldon v1): uid 1000 must be able to read root's files.
    expect(volume.secret.defaultMode & 0o004).toBe(0o004);
  });

  it('keeps the data folder (and its audit log) on the claim the file declares, one replica to one claim', () => {
    const dataMount = container.volumeMounts!.find((m) => m.mountPath === dataDir)!;
    const volume = component.spec.volumes.find((v: Doc) => v.name === dataMount.name);
    const claims = byKind('PersistentVolumeClaim');
    expect(claims.map((c) => c.metadata.name)).toContain(volume.persistentVolumeClaim.claimName);
    expect(claims[0]!.spec.accessModes).toEqual(['ReadWriteOnce']);
    expect(predictor.replicas).toBe(1);
  });

  it('runs the server as a non-root user, set on the container, which Seldon v1 keeps', () => {
    expect(container.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
  });

  it('routes what Seldon does not to the same pods through a Service', () => {
    const service = byKind('Service').find((s) => s.metadata.name === 'branchlens-direct')!;
    const podLabels = component.metadata.labels as Record<string, string>;
    for (const [k, v] of Object.entries(service.spec.selector as Record<string, string>)) {
      expect(podLabels[k], k).toBe(v);
    }
  });

  it('routes the Service to the server by its port number, not a name the executor shares', () => {
    // Seldon's executor container, added to the same pod, also names its port `http` (8000); a named targetPort
    // resolves to the first container that has it, so only the number reaches `serve` whatever the order.
    const service = byKind('Service').find((s) => s.metadata.name === 'branchlens-direct')!;
    const port = Number(serveFlags(container.args!).port ?? DEFAULT_PORT);
    expect(service.spec.ports[0].targetPort).toBe(port);
  });

  it('fits a node of 2 cores: the CPU the pod requests, Seldon’s executor included, leaves room for the system', () => {
    // The executor's request is Seldon's default (0.5 CPU, seldon-core operator/constants) unless svcOrchSpec sets
    // it. A 2-core node has some 1.9 CPUs allocatable, less its daemons (kube-proxy, the network plugin…).
    const executor = cpu(predictor.svcOrchSpec?.resources?.requests?.cpu ?? '0.5');
    expect(cpu(container.resources!.requests!.cpu!) + executor).toBeLessThanOrEqual(1.5);
    expect(cpu(container.resources!.limits!.cpu!)).toBe(2);
  });
});

describe('the KServe InferenceService example', () => {
  const kserve = readManifest('kserve-inferenceservice.yaml');
  const isvc = kserve.find((d) => d.kind === 'InferenceService')!;
  const predictor = isvc.spec.predictor;
  const server = (predictor.containers as Container[])[0]!;
  const dataDir = server.env!.find((e) => e.name === 'BRANCHLENS_DATA')!.value!;
  const env = Object.fromEntries(server.env!.map((e) => [e.name, e.value]));
  /** The name `serve` would answer KServe's paths under, read from the container's flags and environment. */
  const modelName = modelNameFlag(serveFlags(server.args!)['model-name'], env);
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ tokenRequired: true, ...(modelName ? { modelName } : {}) });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('is one raw Deployment of `serve`, in the container KServe calls the model, with flags it has', () => {
    expect(isvc.metadata.annotations['serving.kserve.io/deploymentMode']).toBe('RawDeployment');
    expect([predictor.minReplicas, predictor.maxReplicas]).toEqual([1, 1]);
    expect(server.name).toBe('kserve-container');
    const flags = serveFlags(server.args!);
    expect(flags.host).toBe('0.0.0.0');
    expect(flags['token-required']).toBe(true);
    expect(Number(flags.workers)).toBeLessThanOrEqual(Number(server.resources!.limits!.cpu));
    const port = Number(flags.port ?? DEFAULT_PORT);
    expect(server.ports).toEqual([expect.objectContaining({ containerPort: port })]);
  });

  it('serves the model under the InferenceService’s name, the paths KServe builds from it', async () => {
    expect(modelName).toBe(isvc.metadata.name);
    const name = isvc.metadata.name as string;
    const sample = JSON.parse(readFileSync(join(root, 'assets', 'samples', 'sample-1.json'), 'utf8'));
    // constants.PredictPath(name, v1) and InferenceServicePrefix(name), as KServe's controller builds them.
    const predict = await t.call('POST', `/v1/models/${name}:predict`, { instances: [sample] });
    expect(predict.status, predict.text).toBe(200);
    expect((await t.call('GET', `/v1/models/${name}`)).status).toBe(200);
    expect((await t.call('GET', `/v2/models/${name}/ready`)).status).toBe(200);
  });

  it('replaces its one pod by Recreate: a rolling update’s new pod would wait for the volume the old one holds', () => {
    expect(predictor.deploymentStrategy).toEqual({ type: 'Recreate' });
  });

  it('fits a node of 2 cores: it requests less CPU than such a node has allocatable, and may use 2', () => {
    expect(cpu(server.resources!.requests!.cpu!)).toBeLessThanOrEqual(1.5);
    expect(cpu(server.resources!.limits!.cpu!)).toBe(2);
  });

  it('probes paths that a server requiring the token answers without it', async () => {
    const port = Number(serveFlags(server.args!).port ?? DEFAULT_PORT);
    for (const probe of [server.readinessProbe, server.livenessProbe]) {
      expect(probe?.httpGet?.port).toBe(port);
      const path = probe!.httpGet!.path;
      expect(path).toMatch(/^\/v2\/health\//);
      expect((await call(t.server.url, 'GET', path)).status, path).toBe(200);
    }
    expect((await call(t.server.url, 'POST', '/v2/models/credit-demo/infer', { inputs: [] })).status).toBe(
      401,
    );
  });

  it('keeps the data on the claim the file declares, the keys from one Secret, as the Seldon example', () => {
    const claim = kserve.find((d) => d.kind === 'PersistentVolumeClaim')!;
    const volume = (name: string) => predictor.volumes.find((v: Doc) => v.name === name);
    const dataMount = server.volumeMounts!.find((m) => m.mountPath === dataDir)!;
    expect(volume(dataMount.name).persistentVolumeClaim.claimName).toBe(claim.metadata.name);
    expect(claim.spec.accessModes).toEqual(['ReadWriteOnce']);
    const keysMount = server.volumeMounts!.find((m) => m.mountPath === join(dataDir, 'keys'))!;
    expect(keysMount.readOnly).toBe(true);
    const keys = volume(keysMount.name).secret;
    expect(keys.items.map((i: Doc) => i.path).sort()).toEqual(
      ['audit-ed25519.pem', 'hmac.key', API_TOKEN_NAME].sort(),
    );
    // Group-readable: the pod's fsGroup is the server's group.
    expect(keys.defaultMode & 0o040).toBe(0o040);
    expect(predictor.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, fsGroup: 1000 });
  });
});

describe('the Dockerfile', () => {
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
  const instruction = (name: string) =>
    // The instruction with its continuation lines (ending in a backslash).
    [...dockerfile.matchAll(new RegExp(`^${name} ((?:.*\\\\\\n)*.*)`, 'gm'))].map((m) => m[1]!);

  it('serves on the exposed port, on a network address with a token, health-checked on /health/ping', () => {
    const cmd = JSON.parse(instruction('CMD').at(-1)!) as string[];
    const flags = serveFlags(cmd);
    expect(flags.host).toBe('0.0.0.0');
    expect(flags['token-required']).toBe(true);
    const port = Number(flags.port ?? DEFAULT_PORT);
    expect(instruction('EXPOSE')).toEqual([String(port)]);
    expect(instruction('HEALTHCHECK').join('')).toContain(`127.0.0.1:${port}/health/ping`);
  });

  it('runs as uid 1000, whose keys folder exists in the image so a fresh volume lets it write its keys', () => {
    expect(instruction('USER').at(-1)).toBe('1000:1000');
    expect(dockerfile).toMatch(/mkdir -p \/var\/lib\/branchlens\/keys/);
    expect(dockerfile).toMatch(/chown -R 1000:1000 \/var\/lib\/branchlens/);
  });

  it('installs no tfjs-node unless asked, so the image builds from the npm registry alone', () => {
    expect(instruction('ARG')).toContain('TFJS_NODE=0');
    expect(dockerfile).toMatch(/npm prune --omit=dev --omit=optional --ignore-scripts/);
  });
});
