import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type LocalKubernetes, buildControlPlane, startLocalKubernetes } from './local.js';

const USAGE = `usage: node test/servers/kubernetes/start.mjs --dir DIR [--bin BINDIR] [--node-name NAME] [--cpu N] [--memory Q] [--max-pods N]
Starts etcd, kube-apiserver, kube-scheduler, kube-controller-manager and a process kubelet on
127.0.0.1, writes DIR/kubeconfig and prints "ready KUBECONFIG=DIR/kubeconfig". SIGTERM stops all.`;

/** Kills what an earlier run on the same folder left behind (it was killed without SIGTERM). */
function killLeftovers(pidFile: string, binDir: string): void {
  if (!existsSync(pidFile)) return;
  for (const pid of JSON.parse(readFileSync(pidFile, 'utf8')) as number[]) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith(binDir)) process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

export async function main(argv: string[]): Promise<void> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: {
        dir: { type: 'string' },
        bin: { type: 'string' },
        'node-name': { type: 'string', default: 'process-node' },
        cpu: { type: 'string', default: '256' },
        memory: { type: 'string', default: '1Ti' },
        'max-pods': { type: 'string', default: '250' },
        help: { type: 'boolean' },
      },
    }).values;
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  if (args.help || !args.dir) {
    process.stderr.write(`${args.help ? '' : 'start.mjs: --dir is required\n'}${USAGE}\n`);
    process.exit(args.help ? 0 : 2);
  }
  const dir = resolve(args.dir);
  mkdirSync(dir, { recursive: true });
  const binDir = args.bin ? resolve(args.bin) : buildControlPlane();
  const pidFile = join(dir, 'pids.json');
  killLeftovers(pidFile, binDir);

  // A SIGTERM while starting must not orphan what has started so far: stop once it is up.
  let early = false;
  const onEarly = () => (early = true);
  process.once('SIGTERM', onEarly);
  process.once('SIGINT', onEarly);
  let local: LocalKubernetes;
  try {
    local = await startLocalKubernetes({ dir, binDir, nodeName: args['node-name'], cpu: args.cpu, memory: args.memory, maxPods: Number(args['max-pods']) });
  } catch (e) {
    process.stderr.write(`start.mjs: ${(e as Error).message}\n`);
    process.exit(1);
  }
  const cp = local.cp;
  writeFileSync(pidFile, JSON.stringify(cp.daemons.map((d) => d.pid).filter(Boolean)));
  let stopping: Promise<void> | undefined;
  const shutdown = () =>
    (stopping ??= (async () => {
      await local.stop();
      process.exit(0);
    })());
  process.off('SIGTERM', onEarly);
  process.off('SIGINT', onEarly);
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  if (early) return void shutdown();
  process.stdout.write(`ready KUBECONFIG=${cp.kubeconfig}\n`);
  // A component that dies takes the whole control plane down: a half-running one only confuses.
  void Promise.race(cp.daemons.map((d) => d.exited.then(() => d))).then((d) => {
    if (stopping) return;
    process.stderr.write(`start.mjs: ${d.name} exited (${d.exitReason}); see ${d.logFile}\n`);
    void shutdown();
  });
}
