import { expect } from 'chai';
import type { V1Pod } from '@kubernetes/client-node';
import { buildPod, checkPlaceholders, defaultPodTemplate, loadPodTemplate } from '../src/podTemplate.js';
import { viewPod } from '../src/podStatus.js';
import { classify } from '../src/apiErrors.js';

const spec = { name: 'c-3', scheduler: 'tcp://10.0.0.1:8786', nthreads: 2, memoryLimit: 1024 ** 3, env: { EBBTIDE_TOKEN: 't' } };
const settings = { cluster: 'c', namespace: 'ns', container: 0, env: { EXTRA: 'x' }, labels: { team: 'a', 'ebbtide.io/cluster': 'spoofed' }, annotations: {} };

describe('pod template', () => {
  it('builds the worker pod: name, labels (ours win), placeholders, env, default resources', () => {
    const pod = buildPod(defaultPodTemplate('img:1'), spec, settings);
    expect(pod.metadata).to.deep.include({ name: 'c-3', namespace: 'ns' });
    expect(pod.metadata!.labels).to.deep.equal({ team: 'a', 'app.kubernetes.io/managed-by': 'ebbtide', 'ebbtide.io/cluster': 'c', 'ebbtide.io/worker': 'c-3' });
    const c = pod.spec!.containers[0]!;
    expect(c.command).to.deep.equal(['ebbtide-worker', '--scheduler', 'tcp://10.0.0.1:8786', '--name', 'c-3', '--nthreads', '2', '--memory-limit', String(1024 ** 3)]);
    expect(Object.fromEntries(c.env!.map((e) => [e.name, e.value]))).to.deep.equal({
      EBBTIDE_WORKER_NAME: 'c-3',
      EBBTIDE_SCHEDULER_ADDRESS: 'tcp://10.0.0.1:8786',
      DASK_SCHEDULER_ADDRESS: 'tcp://10.0.0.1:8786',
      EXTRA: 'x',
      EBBTIDE_TOKEN: 't',
    });
    expect(c.resources).to.deep.equal({ requests: { cpu: '2', memory: String(1024 ** 3) }, limits: { memory: String(1024 ** 3) } });
    expect(pod.spec!.restartPolicy).to.equal('Never');
  });

  it('keeps the template\'s own resources, env values and owner reference', () => {
    const t = loadPodTemplate({ metadata: { generateName: 'x-' }, spec: { containers: [{ name: 'w', image: 'i', command: ['run', '{name}'], env: [{ name: 'DASK_SCHEDULER_ADDRESS', value: 'custom' }], resources: { requests: { cpu: '4' } } }] } }, '', 'unused');
    const pod = buildPod(t, spec, { ...settings, owner: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'd', uid: 'u' } });
    expect(pod.metadata!.generateName).to.equal(undefined);
    expect(pod.metadata!.ownerReferences).to.deep.equal([{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'd', uid: 'u' }]);
    const c = pod.spec!.containers[0]!;
    expect(c.command).to.deep.equal(['run', 'c-3']);
    expect(c.resources).to.deep.equal({ requests: { cpu: '4' } });
    expect(c.env!.find((e) => e.name === 'DASK_SCHEDULER_ADDRESS')!.value).to.equal('custom');
  });

  it('refuses a restartPolicy other than Never, an empty spec, both sources, and unknown placeholders', () => {
    expect(() => loadPodTemplate({ spec: { restartPolicy: 'Always', containers: [{ name: 'w' }] } }, '', 'i')).to.throw(/restartPolicy must be Never/);
    expect(() => loadPodTemplate({ spec: {} }, '', 'i')).to.throw(/at least one container/);
    expect(() => loadPodTemplate({ spec: { containers: [{ name: 'w' }] } }, '/x.yaml', 'i')).to.throw(/not both/);
    expect(() => loadPodTemplate({}, '/no/such/file.yaml', 'i')).to.throw(/podTemplateFile: cannot read/);
    expect(() => checkPlaceholders(loadPodTemplate({ spec: { containers: [{ name: 'w', args: ['{nmae}'] }] } }, '', 'i'))).to.throw(/unknown placeholder \{nmae\} in spec\.containers\[0\]\.args\[0\]/);
  });
});

describe('pod status', () => {
  const pod = (status: V1Pod['status'], meta: V1Pod['metadata'] = {}): V1Pod => ({ metadata: meta, spec: { containers: [{ name: 'worker' }] }, status });
  it('reads pending reasons, running, terminating and terminal reasons', () => {
    expect(viewPod(pod({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/1 nodes are available: 1 Insufficient cpu.' }] }), 'worker')).to.deep.equal({
      phase: 'pending', reason: 'Unschedulable: 0/1 nodes are available: 1 Insufficient cpu.', unschedulable: true,
    });
    expect(viewPod(pod({ phase: 'Pending', containerStatuses: [{ name: 'worker', image: '', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ErrImagePull', message: 'not found' } } }] }), 'worker')).to.include({ reason: 'ErrImagePull: not found', unschedulable: false });
    expect(viewPod(pod({ phase: 'Running' }), 'worker')).to.deep.equal({ phase: 'running' });
    expect(viewPod(pod({ phase: 'Running' }, { deletionTimestamp: new Date() }), 'worker')).to.deep.equal({ phase: 'terminating' });
    const term = (reason: string, exitCode: number) => [{ name: 'worker', image: '', imageID: '', ready: false, restartCount: 0, state: { terminated: { reason, exitCode } } }];
    expect(viewPod(pod({ phase: 'Failed', containerStatuses: term('OOMKilled', 137) }), 'worker')).to.deep.equal({ phase: 'failed', exitCode: 137, reason: 'OOMKilled (exit code 137)' });
    expect(viewPod(pod({ phase: 'Failed', reason: 'Evicted', message: 'low on memory', containerStatuses: term('Error', 137) }), 'worker')).to.include({ reason: 'Evicted: low on memory' });
    expect(viewPod(pod({ phase: 'Failed', conditions: [{ type: 'DisruptionTarget', status: 'True', reason: 'PreemptionByScheduler' }], containerStatuses: term('Error', 143) }), 'worker')).to.include({ reason: 'preempted (PreemptionByScheduler)' });
    expect(viewPod(pod({ phase: 'Failed', containerStatuses: term('Error', 3) }), 'worker')).to.include({ reason: 'Error with exit code 3' });
    expect(viewPod(pod({ phase: 'Succeeded', containerStatuses: term('Completed', 0) }), 'worker')).to.include({ phase: 'succeeded', exitCode: 0 });
  });
});

describe('API error classification', () => {
  const api = (code: number, body: unknown, headers: Record<string, string> = {}) => Object.assign(new Error('x'), { code, body: JSON.stringify(body), headers });
  it('sorts the API\'s answers into what the backend does with them', () => {
    expect(classify(api(429, { reason: 'TooManyRequests', message: 'slow down' }, { 'Retry-After': '3' }))).to.include({ kind: 'retry', retryAfterMs: 3000 });
    expect(classify(api(503, {})).kind).to.equal('retry');
    expect(classify(api(403, { reason: 'Forbidden', message: 'pods "a" is forbidden: exceeded quota: q, requested: pods=1' })).kind).to.equal('capacity');
    expect(classify(api(403, { reason: 'Forbidden', message: 'User "x" cannot create resource "pods"' })).kind).to.equal('forbidden');
    expect(classify(api(409, { reason: 'AlreadyExists' }))).to.include({ kind: 'conflict', reason: 'AlreadyExists' });
    expect(classify(api(422, { message: 'Pod "A" is invalid' }))).to.include({ kind: 'invalid', message: 'Pod "A" is invalid' });
    expect(classify(Object.assign(new Error('request to https://x failed, reason: connect ECONNREFUSED'), { name: 'FetchError' })).kind).to.equal('retry');
    expect(classify(new TypeError('x is not a function')).kind).to.equal('other');
  });
});
