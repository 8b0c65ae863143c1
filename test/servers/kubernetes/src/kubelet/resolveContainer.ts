import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { CoreV1Api, V1Container, V1EnvVarSource, V1Pod } from '@kubernetes/client-node';
import { expandVars, parseQuantity } from './expand.js';

/** What the kubelet could not prepare: the container waits with this reason (as a real kubelet's would). */
export class ContainerConfigError extends Error {
  constructor(
    readonly reason: 'CreateContainerConfigError' | 'CreateContainerError',
    message: string,
  ) {
    super(message);
  }
}

export interface ResolvedContainer {
  name: string;
  /** Absolute path of the program, or the bare name when it is not on PATH (spawn then fails). */
  file: string;
  args: string[];
  env: Record<string, string>;
  workingDir?: string;
  /** Bytes; 0 = no memory limit. */
  memoryLimit: number;
}

function findOnPath(cmd: string, path: string): string | undefined {
  if (cmd.includes('/')) return cmd;
  for (const dir of path.split(delimiter).filter(Boolean)) {
    const p = join(dir, cmd);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return undefined;
}

function fieldPath(pod: V1Pod, path: string): string {
  const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (m) return (m[1] === 'labels' ? pod.metadata?.labels : pod.metadata?.annotations)?.[m[2]!] ?? '';
  switch (path) {
    case 'metadata.name': return pod.metadata?.name ?? '';
    case 'metadata.namespace': return pod.metadata?.namespace ?? '';
    case 'metadata.uid': return pod.metadata?.uid ?? '';
    case 'spec.nodeName': return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName': return pod.spec?.serviceAccountName ?? '';
    case 'status.hostIP': case 'status.podIP': case 'status.hostIPs': case 'status.podIPs': return '127.0.0.1';
    default: throw new ContainerConfigError('CreateContainerConfigError', `unsupported fieldRef ${path}`);
  }
}

async function secretOrConfigMap(api: CoreV1Api, namespace: string, kind: 'secret' | 'configMap', name: string): Promise<Record<string, string> | undefined> {
  try {
    if (kind === 'secret') {
      const s = await api.readNamespacedSecret({ name, namespace });
      return Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
    }
    const c = await api.readNamespacedConfigMap({ name, namespace });
    return { ...(c.data ?? {}) };
  } catch (e) {
    if ((e as { code?: number }).code === 404) return undefined;
    throw e;
  }
}

async function valueFrom(api: CoreV1Api, pod: V1Pod, c: V1Container, src: V1EnvVarSource, nodeAllocatable: Record<string, string>): Promise<string | undefined> {
  const ns = pod.metadata!.namespace!;
  if (src.fieldRef) return fieldPath(pod, src.fieldRef.fieldPath);
  if (src.resourceFieldRef) {
    const [kind, res] = src.resourceFieldRef.resource.split('.') as ['limits' | 'requests', string];
    const q = c.resources?.[kind]?.[res] ?? nodeAllocatable[res] ?? '0';
    const divisor = parseQuantity(src.resourceFieldRef.divisor ?? '1');
    return String(Math.ceil(parseQuantity(q) / divisor));
  }
  const ref = src.secretKeyRef ?? src.configMapKeyRef;
  if (ref) {
    const kind = src.secretKeyRef ? 'secret' : 'configMap';
    const data = await secretOrConfigMap(api, ns, kind, ref.name ?? '');
    const v = data?.[ref.key];
    if (v === undefined && !ref.optional) {
      throw new ContainerConfigError('CreateContainerConfigError', data ? `couldn't find key ${ref.key} in ${kind} ${ns}/${ref.name}` : `${kind} "${ref.name}" not found`);
    }
    return v;
  }
  throw new ContainerConfigError('CreateContainerConfigError', 'unsupported env valueFrom');
}

/**
 * Turns a pod's container into a local process description the way a kubelet builds a
 * container: envFrom, then env in order with `$(VAR)` expansion, then command + args expanded
 * with the result. The image is ignored, so a container without `command` cannot run.
 */
export async function resolveContainer(api: CoreV1Api, pod: V1Pod, c: V1Container, base: Record<string, string>, nodeAllocatable: Record<string, string>): Promise<ResolvedContainer> {
  const vars = new Map<string, string>();
  for (const from of c.envFrom ?? []) {
    const ref = from.secretRef ?? from.configMapRef;
    if (!ref) continue;
    const kind = from.secretRef ? 'secret' : 'configMap';
    const data = await secretOrConfigMap(api, pod.metadata!.namespace!, kind, ref.name ?? '');
    if (!data) {
      if (ref.optional) continue;
      throw new ContainerConfigError('CreateContainerConfigError', `${kind} "${ref.name}" not found`);
    }
    for (const [k, v] of Object.entries(data)) vars.set(`${from.prefix ?? ''}${k}`, v);
  }
  for (const e of c.env ?? []) {
    const v = e.valueFrom ? await valueFrom(api, pod, c, e.valueFrom, nodeAllocatable) : expandVars(e.value ?? '', vars);
    if (v !== undefined) vars.set(e.name, v);
  }
  const argv = [...(c.command ?? []), ...(c.args ?? [])].map((a) => expandVars(a, vars));
  if (argv.length === 0 || !c.command?.length) {
    throw new ContainerConfigError('CreateContainerError', `container ${c.name} has no command: the process kubelet ignores images, so every container needs command (image ${c.image ?? '(none)'})`);
  }
  const env = { ...base, ...Object.fromEntries(vars) };
  const file = findOnPath(argv[0]!, env.PATH ?? '') ?? argv[0]!;
  const limit = c.resources?.limits?.memory;
  return {
    name: c.name,
    file,
    args: argv.slice(1),
    env,
    ...(c.workingDir ? { workingDir: c.workingDir } : {}),
    memoryLimit: limit ? parseQuantity(limit) : 0,
  };
}
