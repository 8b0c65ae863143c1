import { definePlugin } from '@ebbtide/core';
import { KubernetesBackend } from './KubernetesBackend.js';
import { type KubernetesBackendOptions, kubernetesOptions, kubernetesSchema } from './config.js';

export { KubernetesBackend } from './KubernetesBackend.js';
export { type KubernetesBackendOptions, kubernetesOptions, kubernetesSchema } from './config.js';
export { CLUSTER_LABEL, MANAGED_BY, WORKER_LABEL, buildPod, clusterSelector, defaultPodTemplate, loadPodTemplate } from './podTemplate.js';
export { viewPod, type PodView } from './podStatus.js';
export { classify, type ApiErrorKind, type ClassifiedError } from './apiErrors.js';

/** `backend.type: kubernetes` — one pod per worker. */
const kubernetesBackendPlugin = definePlugin<KubernetesBackendOptions>({
  name: 'kubernetes',
  description: 'one Kubernetes pod per worker, watched by an informer; lease lock and leader election',
  configSchema: kubernetesSchema,
  options: kubernetesOptions,
  register(r) {
    r.backend('kubernetes', KubernetesBackend);
  },
});

export default kubernetesBackendPlugin;
export { kubernetesBackendPlugin };
