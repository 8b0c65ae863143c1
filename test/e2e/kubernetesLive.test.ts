import 'reflect-metadata';
import { asyncScheduler } from 'rxjs';
import { MemoryLogger, type ResourceBackend } from '@ebbtide/core';
import { describeResourceBackend } from '@ebbtide/core/testing';
import { KubernetesBackend } from '@ebbtide/backend-kubernetes';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { backendOptions, sleeperTemplate } from '../support/kubernetes.js';

/**
 * Opt-in: the ResourceBackend contract against a real cluster named by EBBTIDE_TEST_KUBECONFIG
 * (a kubeconfig file; EBBTIDE_TEST_KUBE_NAMESPACE, default "default"; EBBTIDE_TEST_KUBE_IMAGE,
 * default busybox:1.36, an image with sh). Registered only when the variable is set. The worker
 * pods are shell loops; every one is deleted at the end.
 */
const kubeconfig = process.env.EBBTIDE_TEST_KUBECONFIG;
if (kubeconfig) {
  const namespace = process.env.EBBTIDE_TEST_KUBE_NAMESPACE || 'default';
  const image = process.env.EBBTIDE_TEST_KUBE_IMAGE || 'busybox:1.36';
  const cluster = `live${process.pid % 100000}`;
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const template = sleeperTemplate() as { spec: { containers: Array<{ image: string }> } };
  template.spec.containers[0]!.image = image;
  const options = backendOptions(cluster, {
    kubeconfig,
    namespace,
    podTemplate: template,
    gracePeriod: '5s',
    pendingDeadline: '5m',
    leaderElection: { leaseDuration: '5s', renewDeadline: '4s', retryPeriod: '1s' },
  });
  describeResourceBackend(`KubernetesBackend live against ${kc.getCurrentCluster()?.server} (namespace ${namespace})`, () => ({
    cluster,
    create: () => new KubernetesBackend(options, new MemoryLogger(), asyncScheduler),
    spec: (name) => ({ name, scheduler: 'run', nthreads: 1, memoryLimit: 0 }),
    failingSpec: (name) => ({ name, scheduler: 'fail', nthreads: 1, memoryLimit: 0 }),
    crash: async (b: ResourceBackend) => (b as KubernetesBackend).abandon(),
    isAlive: async (name) => {
      try {
        const pod = await core.readNamespacedPod({ name, namespace });
        return pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed';
      } catch {
        return false;
      }
    },
    waitMs: 300_000,
    cleanup: async () => {
      await core.deleteCollectionNamespacedPod({ namespace, labelSelector: `ebbtide.io/cluster=${cluster}`, gracePeriodSeconds: 0 });
    },
  }));
}
