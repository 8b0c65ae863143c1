import { readFileSync } from 'node:fs';
import { EbbtideError, type WorkerSpec, describeError } from '@ebbtide/core';
import type { V1Container, V1EnvVar, V1OwnerReference, V1Pod } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';

export const MANAGED_BY = 'app.kubernetes.io/managed-by';
export const CLUSTER_LABEL = 'ebbtide.io/cluster';
export const WORKER_LABEL = 'ebbtide.io/worker';
const KEY = 'backend.kubernetes.podTemplate';

const PLACEHOLDER = /\{(\w+)\}/g;
const KNOWN = new Set(['name', 'scheduler', 'nthreads', 'memoryLimit']);

/** The default worker pod: ebbtide's own worker, like the local backend's default command. */
export function defaultPodTemplate(image: string): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {},
    spec: {
      restartPolicy: 'Never',
      containers: [
        {
          name: 'worker',
          image,
          command: ['ebbtide-worker', '--scheduler', '{scheduler}', '--name', '{name}', '--nthreads', '{nthreads}', '--memory-limit', '{memoryLimit}'],
        },
      ],
    },
  };
}

function invalid(message: string): EbbtideError {
  return new EbbtideError('CONFIG_INVALID', `${KEY}: ${message}`, { key: KEY });
}

/**
 * The pod template from `podTemplate` (an object; `{}` = the default) or `podTemplateFile` (a
 * YAML/JSON file). Accepts a Pod (`kind: Pod`), a PodTemplate, or a bare template (`metadata` + `spec`).
 * @throws EbbtideError `CONFIG_INVALID`
 */
export function loadPodTemplate(inline: Record<string, unknown> | undefined, file: string, image: string): V1Pod {
  const hasInline = inline !== undefined && inline !== null && Object.keys(inline).length > 0;
  if (hasInline && file) throw invalid('set podTemplate or podTemplateFile, not both');
  if (!hasInline && !file) return defaultPodTemplate(image);
  let obj: unknown = inline;
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new EbbtideError('CONFIG_INVALID', `backend.kubernetes.podTemplateFile: cannot read ${JSON.stringify(file)}: ${describeError(e)}`, { key: 'backend.kubernetes.podTemplateFile' });
    }
    try {
      obj = parseYaml(text);
    } catch (e) {
      throw new EbbtideError('CONFIG_INVALID', `backend.kubernetes.podTemplateFile: ${file} is not valid YAML: ${describeError(e)}`, { key: 'backend.kubernetes.podTemplateFile' });
    }
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw invalid(`expected a Pod or pod template object, got ${JSON.stringify(obj)}`);
  const pod = structuredClone(obj) as V1Pod & { kind?: string; template?: unknown };
  if (pod.kind !== undefined && pod.kind !== 'Pod' && pod.kind !== 'PodTemplate') throw invalid(`expected kind Pod, got kind ${pod.kind}`);
  if (pod.kind === 'PodTemplate') Object.assign(pod, pod.template);
  const containers = pod.spec?.containers;
  if (!Array.isArray(containers) || containers.length === 0) throw invalid('spec.containers must list at least one container');
  for (const [i, c] of containers.entries()) {
    if (!c || typeof c.name !== 'string' || !c.name) throw invalid(`spec.containers[${i}] needs a name`);
  }
  const policy = pod.spec!.restartPolicy;
  if (policy !== undefined && policy !== 'Never') {
    throw invalid(`spec.restartPolicy must be Never (a failed worker is replaced by ebbtide, under a new decision), got ${policy}`);
  }
  return { apiVersion: 'v1', kind: 'Pod', metadata: { ...(pod.metadata ?? {}) }, spec: { ...pod.spec!, restartPolicy: 'Never' } };
}

function eachTemplated(pod: V1Pod, fn: (s: string, where: string) => string): void {
  for (const [i, c] of pod.spec!.containers.entries()) {
    const at = `spec.containers[${i}]`;
    if (c.command) c.command = c.command.map((a, j) => fn(a, `${at}.command[${j}]`));
    if (c.args) c.args = c.args.map((a, j) => fn(a, `${at}.args[${j}]`));
    for (const e of c.env ?? []) if (typeof e.value === 'string') e.value = fn(e.value, `${at}.env ${e.name}`);
  }
}

/** Rejects unknown placeholders (`{nmae}`) at config time. @throws EbbtideError `CONFIG_INVALID` */
export function checkPlaceholders(template: V1Pod): void {
  eachTemplated(structuredClone(template), (s, where) =>
    s.replace(PLACEHOLDER, (whole, key: string) => {
      if (!KNOWN.has(key)) throw invalid(`unknown placeholder ${whole} in ${where}; expected {name}, {scheduler}, {nthreads} or {memoryLimit}`);
      return whole;
    }),
  );
}

export interface PodSettings {
  cluster: string;
  namespace: string;
  container: number;
  env: Record<string, string>;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  owner?: V1OwnerReference;
}

/** The labels that mark a pod as worker `name` of `cluster`. */
export function workerLabels(cluster: string, name: string): Record<string, string> {
  return { [MANAGED_BY]: 'ebbtide', [CLUSTER_LABEL]: cluster, [WORKER_LABEL]: name };
}

export function clusterSelector(cluster: string): string {
  return `${MANAGED_BY}=ebbtide,${CLUSTER_LABEL}=${cluster}`;
}

function setEnv(c: V1Container, name: string, value: string, override: boolean): void {
  c.env ??= [];
  const i = c.env.findIndex((e: V1EnvVar) => e.name === name);
  if (i < 0) c.env.push({ name, value });
  else if (override) c.env[i] = { name, value };
}

/**
 * The pod for one worker: named after the worker (`{cluster}-{i}`, so a create retried after a
 * timeout meets its own pod: 409 AlreadyExists), labelled, with the placeholders filled in and
 * the worker env on the worker container (the core's env and the configured env override the
 * template; the name/scheduler variables only fill gaps).
 */
export function buildPod(template: V1Pod, spec: WorkerSpec, s: PodSettings): V1Pod {
  const pod = structuredClone(template);
  const values: Record<string, string> = { name: spec.name, scheduler: spec.scheduler, nthreads: String(spec.nthreads), memoryLimit: String(spec.memoryLimit) };
  eachTemplated(pod, (str) => str.replace(PLACEHOLDER, (whole, key: string) => values[key] ?? whole));
  const meta = pod.metadata ?? {};
  delete meta.generateName;
  delete meta.resourceVersion;
  delete meta.uid;
  pod.metadata = {
    ...meta,
    name: spec.name,
    namespace: s.namespace,
    labels: { ...(meta.labels ?? {}), ...s.labels, ...workerLabels(s.cluster, spec.name) },
    annotations: { ...(meta.annotations ?? {}), ...s.annotations },
    ...(s.owner ? { ownerReferences: [...(meta.ownerReferences ?? []), s.owner] } : {}),
  };
  const c = pod.spec!.containers[s.container]!;
  setEnv(c, 'EBBTIDE_WORKER_NAME', spec.name, false);
  setEnv(c, 'EBBTIDE_SCHEDULER_ADDRESS', spec.scheduler, false);
  setEnv(c, 'DASK_SCHEDULER_ADDRESS', spec.scheduler, false);
  for (const [k, v] of Object.entries(s.env)) setEnv(c, k, v, true);
  for (const [k, v] of Object.entries(spec.env ?? {})) setEnv(c, k, v, true);
  if (!c.resources || (!c.resources.requests && !c.resources.limits)) {
    // What the scheduler needs to place the worker: its threads as CPUs, its memory limit.
    c.resources = {
      requests: { cpu: String(spec.nthreads), ...(spec.memoryLimit > 0 ? { memory: String(spec.memoryLimit) } : {}) },
      ...(spec.memoryLimit > 0 ? { limits: { memory: String(spec.memoryLimit) } } : {}),
    };
  }
  return pod;
}
