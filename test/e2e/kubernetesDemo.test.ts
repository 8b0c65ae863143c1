import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { EBBTIDE_BIN, ROOT } from '../support/paths.js';
import { type KubeHandle, localKubernetes } from '../support/kubernetes.js';

interface LogEvent {
  event?: string;
  worker?: string;
  workers?: string[];
  reason?: string;
  failed?: boolean;
}

/**
 * `ebbtide demo -c k8s.yaml` against the real local control plane: the demo workload on the
 * embedded scheduler, each worker a pod (the default template: ebbtide's own worker) that the
 * real scheduler binds and the process kubelet runs. kubectl, an independent client, watches the
 * pods come and go.
 */
describe('ebbtide demo on a real Kubernetes control plane (test/servers/kubernetes)', function () {
  this.timeout(900_000);
  let k: KubeHandle;
  let dir: string;
  before(async () => {
    k = await localKubernetes();
    dir = mkdtempSync(join(tmpdir(), 'ebbtide-k8s-demo-'));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('scales 0 → N → 0, retires before deleting, loses no result; kubectl sees the pods come and go', async () => {
    const namespace = await k.namespace('demo');
    const cluster = `kd${process.pid % 100000}`;
    const config = join(dir, 'k8s.yaml');
    writeFileSync(config, `cluster:\n  name: ${cluster}\nbackend:\n  type: kubernetes\n  kubernetes:\n    kubeconfig: ${k.kubeconfig}\n    namespace: ${namespace}\n`);

    // kubectl's own watch of the cluster's pods, from before the first one exists.
    const watch = spawn('kubectl', ['--kubeconfig', k.kubeconfig, '-n', namespace, 'get', 'pods', '-l', `ebbtide.io/cluster=${cluster}`, '--watch', '--output-watch-events', '-o', 'custom-columns=EVENT:.type,NAME:.object.metadata.name,PHASE:.object.status.phase', '--no-headers'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let watched = '';
    watch.stdout!.on('data', (d) => (watched += d));
    try {
      const demo = spawn(process.execPath, [EBBTIDE_BIN, 'demo', '-c', config, '--duration', '40s', '--json', '--log.level', 'info', '--log.format', 'json'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      demo.stdout!.on('data', (d) => (stdout += d));
      demo.stderr!.on('data', (d) => (stderr += d));
      const code = await new Promise<number | null>((r) => demo.once('exit', (c) => r(c)));
      expect(code, stderr.slice(-3000)).to.equal(0);

      const summary = JSON.parse(stdout.trim().split('\n').pop()!) as { resultsLost: number; tasksCompleted: number; tasksSubmitted: number; peakWorkers: number; finalWorkers: number; scaleDowns: number };
      expect(summary.resultsLost).to.equal(0);
      expect(summary.tasksCompleted).to.equal(summary.tasksSubmitted);
      expect(summary.peakWorkers).to.be.greaterThan(1);
      expect(summary.finalWorkers).to.equal(0);
      expect(summary.scaleDowns).to.be.greaterThan(0);

      // Every pod that went away was retired by the scheduler first; none failed.
      const events = stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as LogEvent);
      const retiredAt = new Map<string, number>();
      events.forEach((e, i) => {
        if (e.event === 'worker.retired' && e.worker && !retiredAt.has(e.worker)) retiredAt.set(e.worker, i);
      });
      const gone = events.map((e, i) => ({ e, i })).filter(({ e }) => e.event === 'worker.exited' && e.worker);
      expect(gone.length, 'worker pods that went away').to.be.greaterThan(1);
      for (const { e, i } of gone) {
        expect(e.failed, `${e.worker}: ${e.reason}`).to.equal(false);
        expect(retiredAt.get(e.worker!) ?? Infinity, `${e.worker} went before it was retired`).to.be.lessThan(i);
      }
      expect(events.some((e) => e.event === 'worker.failed'), 'no worker failed').to.equal(false);

      // kubectl saw them come (Running) and go (DELETED), and none is left.
      const lines = watched.trim().split('\n').map((l) => l.trim().split(/\s+/));
      const ran = new Set(lines.filter(([, , phase]) => phase === 'Running').map(([, name]) => name));
      const deleted = new Set(lines.filter(([ev]) => ev === 'DELETED').map(([, name]) => name));
      expect(ran.size, `pods kubectl saw Running:\n${watched}`).to.be.greaterThan(1);
      for (const n of ran) {
        expect(n).to.match(new RegExp(`^${cluster}-\\d+$`));
        expect(deleted.has(n), `kubectl saw ${n} deleted`).to.equal(true);
      }
      expect((await k.kubectl('-n', namespace, 'get', 'pods', '-l', `ebbtide.io/cluster=${cluster}`, '-o', 'name')).trim()).to.equal('');
    } finally {
      watch.kill();
    }
  });
});
