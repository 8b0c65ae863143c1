import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { EbbtideError, describeError } from '@ebbtide/core';
import { KubeConfig } from '@kubernetes/client-node';

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface LoadedKubeConfig {
  kc: KubeConfig;
  namespace: string;
  /** Where it came from, for logs. */
  source: string;
}

/**
 * The kubeconfig in the documented order: `backend.kubernetes.kubeconfig`, then `KUBECONFIG`,
 * then the in-cluster service account, then ~/.kube/config; the namespace from the config key,
 * the context, the pod's own namespace, else `default`.
 * @throws EbbtideError `CONFIG_INVALID` when none can be loaded or the context does not exist
 */
export function loadKubeConfig(o: { kubeconfig: string; context: string; namespace: string }, env: NodeJS.ProcessEnv = process.env): LoadedKubeConfig {
  const kc = new KubeConfig();
  let source: string;
  const key = 'backend.kubernetes.kubeconfig';
  try {
    if (o.kubeconfig) {
      if (!existsSync(o.kubeconfig)) throw new EbbtideError('CONFIG_INVALID', `${key}: no such file ${JSON.stringify(o.kubeconfig)}`, { key });
      kc.loadFromFile(o.kubeconfig);
      source = o.kubeconfig;
    } else if (env.KUBECONFIG) {
      kc.loadFromDefault();
      source = `KUBECONFIG=${env.KUBECONFIG}`;
    } else if (env.KUBERNETES_SERVICE_HOST && existsSync(join(SA_DIR, 'token'))) {
      kc.loadFromCluster();
      source = 'in-cluster service account';
    } else if (existsSync(join(homedir(), '.kube', 'config'))) {
      kc.loadFromFile(join(homedir(), '.kube', 'config'));
      source = '~/.kube/config';
    } else {
      throw new EbbtideError('CONFIG_INVALID', `${key}: no kubeconfig: set ${key}, the KUBECONFIG variable, run ebbtide in a pod, or create ~/.kube/config`, { key });
    }
  } catch (e) {
    if (e instanceof EbbtideError) throw e;
    throw new EbbtideError('CONFIG_INVALID', `${key}: cannot load the kubeconfig: ${describeError(e)}`, { key, cause: e });
  }
  if (o.context) {
    if (!kc.getContexts().some((c) => c.name === o.context)) {
      throw new EbbtideError('CONFIG_INVALID', `backend.kubernetes.context: no context ${JSON.stringify(o.context)} in ${source} (it has ${kc.getContexts().map((c) => c.name).join(', ') || 'none'})`, { key: 'backend.kubernetes.context' });
    }
    kc.setCurrentContext(o.context);
  }
  if (!kc.getCurrentCluster()) throw new EbbtideError('CONFIG_INVALID', `${key}: ${source} names no cluster for its current context`, { key });
  let namespace = o.namespace;
  if (!namespace) namespace = kc.getContextObject(kc.getCurrentContext())?.namespace ?? '';
  if (!namespace && source === 'in-cluster service account') {
    try {
      namespace = readFileSync(join(SA_DIR, 'namespace'), 'utf8').trim();
    } catch {
      // fall through to default
    }
  }
  return { kc, namespace: namespace || 'default', source };
}
