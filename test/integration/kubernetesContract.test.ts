import 'reflect-metadata';
import { asyncScheduler } from 'rxjs';
import { MemoryLogger, type ResourceBackend } from '@ebbtide/core';
import { describeResourceBackend } from '@ebbtide/core/testing';
import { KubernetesBackend } from '@ebbtide/backend-kubernetes';
import { backendOptions, localKubernetes, sleeperTemplate } from '../support/kubernetes.js';

// The ResourceBackend contract, against the real local control plane (etcd, kube-apiserver,
// kube-scheduler, kube-controller-manager) and the process kubelet.
describeResourceBackend('KubernetesBackend (real control plane)', async () => {
  const k = await localKubernetes();
  const namespace = await k.namespace('contract');
  const cluster = `kc${process.pid}`;
  const options = backendOptions(cluster, {
    kubeconfig: k.kubeconfig,
    namespace,
    podTemplate: sleeperTemplate(),
    gracePeriod: '5s',
    leaderElection: { leaseDuration: '3s', renewDeadline: '2s', retryPeriod: '500ms' },
  });
  return {
    cluster,
    create: () => new KubernetesBackend(options, new MemoryLogger(), asyncScheduler),
    spec: (name) => ({ name, scheduler: 'run', nthreads: 1, memoryLimit: 0 }),
    failingSpec: (name) => ({ name, scheduler: 'fail', nthreads: 1, memoryLimit: 0 }),
    crash: async (b: ResourceBackend) => (b as KubernetesBackend).abandon(),
    isAlive: async (name) => {
      try {
        const pod = await k.core.readNamespacedPod({ name, namespace });
        return pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed';
      } catch {
        return false;
      }
    },
    waitMs: 60_000,
    cleanup: async () => {
      await k.core.deleteCollectionNamespacedPod({ namespace, labelSelector: `ebbtide.io/cluster=${cluster}`, gracePeriodSeconds: 0 });
    },
  };
});
