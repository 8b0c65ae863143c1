import { mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { MesosMaster } from './MesosMaster.js';

const USAGE = 'usage: node test/servers/mesos/start.mjs --dir DIR [--agents N] [--cpus C] [--mem MB] [--replicas N] [--heartbeat SECONDS] [--allocation-interval MS]';

/**
 * `node test/servers/mesos/start.mjs --dir DIR`: runs a test master on 127.0.0.1 until SIGTERM or
 * SIGINT, printing `ready MESOS_MASTER=http://127.0.0.1:PORT` once it answers. On exit every task
 * process is killed.
 */
export async function main(argv: string[]): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        dir: { type: 'string' },
        agents: { type: 'string', default: '1' },
        cpus: { type: 'string', default: '4' },
        mem: { type: 'string', default: '8192' },
        replicas: { type: 'string', default: '1' },
        heartbeat: { type: 'string', default: '15' },
        'allocation-interval': { type: 'string', default: '1000' },
      },
    }));
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  if (!values.dir) {
    console.error(`--dir is required\n${USAGE}`);
    process.exit(2);
  }
  const num = (name: string, v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) {
      console.error(`--${name}: expected a positive number, got ${JSON.stringify(v)}\n${USAGE}`);
      process.exit(2);
    }
    return n;
  };
  mkdirSync(values.dir, { recursive: true });
  const agents = Array.from({ length: num('agents', values.agents!) }, () => ({ cpus: num('cpus', values.cpus!), mem: num('mem', values.mem!) }));
  const master = new MesosMaster({
    dir: values.dir,
    agents,
    replicas: num('replicas', values.replicas!),
    heartbeatIntervalSeconds: num('heartbeat', values.heartbeat!),
    allocationIntervalMs: num('allocation-interval', values['allocation-interval']!),
  });
  await master.start();
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`received ${signal}: stopping`);
    await master.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  // Replica 0 leads until a failover; the others answer 307 to it.
  if (master.replicaCount > 1) console.log(`replicas MESOS_MASTERS=${Array.from({ length: master.replicaCount }, (_, i) => master.url(i)).join(',')}`);
  console.log(`ready MESOS_MASTER=${master.url(0)}`);
}
