import { type ConfigSchemaSection, EbbtideError, type EbbtideConfig } from '@ebbtide/core';
import type { V1Pod } from '@kubernetes/client-node';
import { loadPodTemplate, checkPlaceholders } from './podTemplate.js';

/** The `backend.kubernetes.*` config section. */
export const kubernetesSchema = {
  backend: {
    kubernetes: {
      kubeconfig: {
        doc: 'Path of the kubeconfig file to use. Empty: the KUBECONFIG variable, then the in-cluster service account (ebbtide running in a pod), then ~/.kube/config.',
        format: 'string',
        default: '',
      },
      context: {
        doc: 'kubeconfig context to use (empty: its current-context).',
        format: 'string',
        default: '',
      },
      namespace: {
        doc: 'Namespace of the worker pods and the lease. Empty: the kubeconfig context\'s namespace, in a pod its own namespace, else "default".',
        format: 'string',
        default: '',
      },
      podTemplate: {
        doc: 'The worker pod, inline: a Pod or a pod template (metadata + spec). {name}, {scheduler}, {nthreads} and {memoryLimit} are replaced in every container\'s command, args and env values. Checked against the API with a server-side dry run (strict field validation) when the backend starts. Empty: one container running ebbtide-worker (see image).',
        format: 'Object',
        default: {},
      },
      podTemplateFile: {
        doc: 'The worker pod from a YAML or JSON file instead (same rules as podTemplate; set one of the two).',
        format: 'string',
        default: '',
      },
      image: {
        doc: 'Image of the default pod template\'s worker container (ignored when podTemplate is set).',
        format: 'string',
        default: 'ebbtide/ebbtide:0.1.0',
      },
      container: {
        doc: 'Index of the worker container in the pod template (it gets the worker env and default resources).',
        format: 'whole-number',
        default: 0,
      },
      gracePeriod: {
        doc: 'Grace period of a worker pod deletion (SIGTERM, then SIGKILL).',
        format: 'duration',
        default: '30s',
      },
      pendingDeadline: {
        doc: 'How long a worker pod may stay Pending (unschedulable, image pull errors) before it is deleted and counted as a failed start; when it could not be scheduled the backend is reported capacity-limited.',
        format: 'positive-duration',
        default: '5m',
      },
      createBatchSize: {
        doc: 'Pods created per batch: a start of many workers is sent in batches of this size, one batch after another.',
        format: 'positive-integer',
        default: 20,
      },
      createConcurrency: {
        doc: 'Create requests in flight at once within a batch.',
        format: 'positive-integer',
        default: 5,
      },
      requestTimeout: {
        doc: 'Timeout of one API request (a create that times out is retried; the deterministic pod name makes that safe).',
        format: 'positive-duration',
        default: '30s',
      },
      resyncPeriod: {
        doc: 'How often the pod informer lists everything again (besides re-listing after a watch error or 410 Gone).',
        format: 'positive-duration',
        default: '5m',
      },
      env: {
        doc: 'Extra environment variables for the worker container.',
        format: 'string-map',
        default: {},
      },
      labels: {
        doc: 'Extra labels for worker pods (ebbtide\'s own labels win).',
        format: 'string-map',
        default: {},
      },
      annotations: {
        doc: 'Extra annotations for worker pods.',
        format: 'string-map',
        default: {},
      },
      owner: {
        apiVersion: { doc: 'ownerReferences target of every worker pod, e.g. apps/v1 (with kind and name): deleting that object deletes every worker.', format: 'string', default: '' },
        kind: { doc: 'Kind of the owner object, e.g. Deployment.', format: 'string', default: '' },
        name: { doc: 'Name of the owner object (same namespace as the pods).', format: 'string', default: '' },
        uid: { doc: 'uid of the owner object (empty: read from the API at start).', format: 'string', default: '' },
      },
      leaderElection: {
        enabled: {
          doc: 'Run as one of several replicas: a replica waits until it holds the coordination.k8s.io Lease, and only the holder acts. Off: a second ebbtide of the same cluster is refused (CLUSTER_LOCKED) while the lease is renewed.',
          format: 'boolean',
          default: false,
        },
        leaseName: { doc: 'Name of the Lease (empty: ebbtide-{cluster.name}).', format: 'string', default: '' },
        identity: { doc: 'This replica\'s holder identity (empty: hostname, pid and a random suffix).', format: 'string', default: '' },
        leaseDuration: { doc: 'How long a lease not renewed stays held: the failover time after the holder dies.', format: 'positive-duration', default: '15s' },
        renewDeadline: { doc: 'The holder gives up (stops acting) when it could not renew for this long; less than leaseDuration.', format: 'positive-duration', default: '10s' },
        retryPeriod: { doc: 'How often the holder renews and a candidate retries.', format: 'positive-duration', default: '2s' },
      },
    },
  },
} satisfies ConfigSchemaSection;

export interface OwnerRef {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
}

export interface LeaderElectionOptions {
  enabled: boolean;
  leaseName: string;
  /** Empty: each backend instance makes its own (hostname, pid, random suffix). */
  identity: string;
  /** Seconds. */
  leaseDuration: number;
  renewDeadline: number;
  retryPeriod: number;
}

export interface KubernetesBackendOptions {
  cluster: string;
  kubeconfig: string;
  context: string;
  namespace: string;
  /** The parsed template (a Pod). */
  podTemplate: V1Pod;
  container: number;
  /** Seconds. */
  gracePeriod: number;
  pendingDeadline: number;
  createBatchSize: number;
  createConcurrency: number;
  requestTimeout: number;
  resyncPeriod: number;
  env: Record<string, string>;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  owner?: OwnerRef;
  leaderElection: LeaderElectionOptions;
}

type Raw = Omit<KubernetesBackendOptions, 'cluster' | 'podTemplate' | 'owner'> & { podTemplate: Record<string, unknown>; podTemplateFile: string; image: string; owner: OwnerRef };

/**
 * The typed options: the template is loaded and checked here (placeholders, container index,
 * restartPolicy), so `ebbtide config --check` reports mistakes before any pod is made.
 * @throws EbbtideError `CONFIG_INVALID`
 */
export function kubernetesOptions(config: EbbtideConfig): KubernetesBackendOptions {
  const s = (config.backend as unknown as { kubernetes: Raw }).kubernetes;
  const cluster = (config as unknown as { cluster: { name: string } }).cluster.name;
  const podTemplate = loadPodTemplate(s.podTemplate, s.podTemplateFile, s.image);
  const containers = podTemplate.spec!.containers;
  if (s.container >= containers.length) {
    throw new EbbtideError('CONFIG_INVALID', `backend.kubernetes.container: the pod template has ${containers.length} container(s), so the index must be below ${containers.length}, got ${s.container}`, { key: 'backend.kubernetes.container' });
  }
  checkPlaceholders(podTemplate);
  const le = s.leaderElection;
  if (le.renewDeadline >= le.leaseDuration) {
    throw new EbbtideError('CONFIG_INVALID', `backend.kubernetes.leaderElection.renewDeadline: expected less than leaseDuration (${le.leaseDuration}s), got ${le.renewDeadline}s`, { key: 'backend.kubernetes.leaderElection.renewDeadline' });
  }
  if (le.retryPeriod >= le.renewDeadline) {
    throw new EbbtideError('CONFIG_INVALID', `backend.kubernetes.leaderElection.retryPeriod: expected less than renewDeadline (${le.renewDeadline}s), got ${le.retryPeriod}s`, { key: 'backend.kubernetes.leaderElection.retryPeriod' });
  }
  const o = s.owner;
  const ownerSet = [o.apiVersion, o.kind, o.name].filter(Boolean).length;
  if (ownerSet !== 0 && ownerSet !== 3) {
    throw new EbbtideError('CONFIG_INVALID', 'backend.kubernetes.owner: set apiVersion, kind and name together (or none of them)', { key: 'backend.kubernetes.owner' });
  }
  return {
    cluster,
    kubeconfig: s.kubeconfig,
    context: s.context,
    namespace: s.namespace,
    podTemplate,
    container: s.container,
    gracePeriod: s.gracePeriod,
    pendingDeadline: s.pendingDeadline,
    createBatchSize: s.createBatchSize,
    createConcurrency: s.createConcurrency,
    requestTimeout: s.requestTimeout,
    resyncPeriod: s.resyncPeriod,
    env: { ...s.env },
    labels: { ...s.labels },
    annotations: { ...s.annotations },
    ...(ownerSet ? { owner: { ...o } } : {}),
    leaderElection: {
      ...le,
      leaseName: le.leaseName || `ebbtide-${cluster}`,
    },
  };
}
