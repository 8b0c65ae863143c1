import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { startControlPlane } from './controlPlane.js';
import { ProcessKubelet } from './kubelet/ProcessKubelet.js';

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

export async function main(argv: string[], where: { here: string }): Promise<void> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: {
        dir: { type: 'string' },
        bin: { type: 'string' },
        'node-name': { type: 'string', default: 'process-node' },
        cpu: { type: 'string', default: '8' },
        memory: { type: 'string', default: '32Gi' },
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
  const binDir = args.bin
    ? resolve(args.bin)
    : execFileSync('bash', [join(where.here, 'build.sh')], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' }).trim().split('\n').pop()!;
  const pidFile = join(dir, 'pids.json');
  killLeftovers(pidFile, binDir);

  const cp = await startControlPlane({ dir, binDir });
  writeFileSync(pidFile, JSON.stringify(cp.daemons.map((d) => d.pid).filter(Boolean)));
  const kc = new KubeConfig();
  kc.loadFromFile(cp.kubeconfig);
  const repoBin = resolve(where.here, '..', '..', '..', 'node_modules', '.bin');
  const kubeletLog = join(dir, 'logs', 'kubelet.log');
  const kubelet = new ProcessKubelet({
    kubeconfig: kc,
    nodeName: args['node-name'],
    cpu: args.cpu,
    memory: args.memory,
    maxPods: Number(args['max-pods']),
    podDir: join(dir, 'pods'),
    baseEnv: {
      PATH: [repoBin, process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin'].join(delimiter),
      KUBERNETES_SERVICE_HOST: '127.0.0.1',
      KUBERNETES_SERVICE_PORT: new URL(cp.server).port,
      ...(process.env.LANG ? { LANG: process.env.LANG } : {}),
    },
    log: (line) => writeFileSync(kubeletLog, `${new Date().toISOString()} ${line}\n`, { flag: 'a' }),
  });
  let stopping: Promise<void> | undefined;
  const shutdown = () =>
    (stopping ??= (async () => {
      await kubelet.stop().catch(() => undefined);
      await cp.stop();
      process.exit(0);
    })());
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  try {
    await kubelet.start();
  } catch (e) {
    process.stderr.write(`start.mjs: the process kubelet could not register node ${args['node-name']}: ${String(e)}\n`);
    await cp.stop();
    process.exit(1);
  }
  process.stdout.write(`ready KUBECONFIG=${cp.kubeconfig}\n`);
  // A component that dies takes the whole control plane down: a half-running one only confuses.
  void Promise.race(cp.daemons.map((d) => d.exited.then(() => d))).then((d) => {
    if (stopping) return;
    process.stderr.write(`start.mjs: ${d.name} exited (${d.exitReason}); see ${d.logFile}\n`);
    void shutdown();
  });
}
