#!/usr/bin/env node
// A real YARN for tests: builds the harness (build.sh, cached under ~/.cache/ebbtide/yarn/), starts
// it with plain `java -cp` (the service AM inherits this classpath: MiniYARNCluster sets
// yarn.is.minicluster), checks the RM's REST and Services APIs answer, and prints
//   ready YARN_RM=http://127.0.0.1:PORT
// The JVM runs the ResourceManager and starts the NodeManager as a child JVM (YarnHarness,
// NodeManagerMain). Runs until SIGTERM/SIGINT (or until its parent goes away), then stops the
// JVM, which stops the NodeManager and with it every container, and finally kills any process
// still running in DIR (the NodeManager JVM or a container of a JVM that had to be SIGKILLed).
//
// Usage: node test/servers/yarn/start.mjs --dir DIR [--nm-memory-mb 4096] [--nm-vcores 8]
//          [--am-memory-mb 512] [--small-queue-percent 25] [--java /path/to/java]
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

// HADOOP-19310: what Hadoop 3.4 needs opened to run on Java 17.
const ADD_OPENS = [
  'java.base/java.io', 'java.base/java.lang', 'java.base/java.lang.reflect', 'java.base/java.math',
  'java.base/java.net', 'java.base/java.nio', 'java.base/java.text', 'java.base/java.util',
  'java.base/java.util.concurrent', 'java.base/java.util.concurrent.atomic', 'java.base/java.util.zip',
  'java.base/sun.nio.ch', 'java.base/sun.security.util', 'java.base/sun.security.x509',
].map((p) => `--add-opens=${p}=ALL-UNNAMED`);

function parseArgs(argv) {
  const opts = { dir: '', java: process.env.EBBTIDE_YARN_JAVA || 'java', pass: [] };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = argv[i + 1];
    if (v === undefined) fail(`${k} needs a value`);
    if (k === '--dir') opts.dir = resolve(v);
    else if (k === '--java') opts.java = v;
    else if (['--nm-memory-mb', '--nm-vcores', '--am-memory-mb', '--small-queue-percent'].includes(k)) opts.pass.push(k, v);
    else fail(`unknown argument ${k}`);
    i++;
  }
  if (!opts.dir) fail('--dir DIR is required');
  return opts;
}

function fail(message) {
  process.stderr.write(`yarn harness: ${message}\n`);
  process.exit(2);
}

const opts = parseArgs(process.argv.slice(2));
mkdirSync(opts.dir, { recursive: true });
const confDir = join(opts.dir, 'conf');
mkdirSync(confDir, { recursive: true });

const built = spawnSync('bash', [join(here, 'build.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
if (built.status !== 0) fail(`build.sh failed (exit ${built.status})`);
const out = built.stdout.trim().split('\n').pop();
const classpath = [confDir, join(out, 'classes'), readFileSync(join(out, 'classpath.txt'), 'utf8').trim()].join(':');

const log = createWriteStream(join(opts.dir, 'harness.log'), { flags: 'a' });
const jvm = spawn(
  opts.java,
  [
    ...ADD_OPENS,
    '-Xmx1g',
    '-Djava.net.preferIPv4Stack=true',
    `-Dtest.build.data=${join(opts.dir, 'test-data')}`,
    '-cp', classpath,
    'dev.ebbtide.yarn.YarnHarness',
    '--dir', opts.dir,
    '--conf-dir', confDir,
    '--add-opens', ADD_OPENS.join(' '),
    ...opts.pass,
  ],
  { cwd: opts.dir, stdio: ['ignore', 'pipe', 'pipe'] },
);
jvm.stderr.pipe(log, { end: false });

let stopping = false;
let ready = false;
const jvmExited = new Promise((r) => jvm.once('exit', (code, signal) => r({ code, signal })));

let buffered = '';
jvm.stdout.setEncoding('utf8').on('data', (chunk) => {
  log.write(chunk);
  buffered += chunk;
  let nl;
  while ((nl = buffered.indexOf('\n')) >= 0) {
    const line = buffered.slice(0, nl).trim();
    buffered = buffered.slice(nl + 1);
    const m = /^harness-ready \S+:(\d+)$/.exec(line);
    if (m && !ready) void announce(Number(m[1]));
  }
});

async function announce(port) {
  const base = `http://127.0.0.1:${port}`;
  for (const path of ['/ws/v1/cluster/info', '/app/v1/services/version?user.name=ebbtide']) {
    const res = await fetch(base + path, { headers: { accept: 'application/json' } }).catch((e) => e);
    if (!(res instanceof Response) || !res.ok) {
      process.stderr.write(`yarn harness: ${base}${path} did not answer 200: ${res instanceof Response ? res.status : res}\n`);
      await shutdown(1);
      return;
    }
  }
  ready = true;
  process.stdout.write(`ready YARN_RM=${base}\n`);
}

void jvmExited.then(({ code, signal }) => {
  if (stopping) return;
  const tail = readFileSync(join(opts.dir, 'harness.log'), 'utf8').split('\n').slice(-40).join('\n');
  process.stderr.write(`yarn harness: the JVM exited (${code ?? signal}) ${ready ? 'while running' : 'before it was ready'}; last log lines:\n${tail}\n`);
  killStrays();
  process.exit(1);
});

/** Processes (container launch scripts and what they started) whose working directory is in DIR. */
function killStrays() {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    if (Number(pid) === process.pid || Number(pid) === jvm.pid) continue;
    let cwd;
    try {
      cwd = readlinkSync(`/proc/${pid}/cwd`);
    } catch {
      continue;
    }
    if (cwd === opts.dir || cwd.startsWith(opts.dir + '/')) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone already
      }
    }
  }
}

async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  if (jvm.exitCode === null && jvm.signalCode === null) {
    jvm.kill('SIGTERM');
    const timer = setTimeout(() => jvm.kill('SIGKILL'), 30_000);
    await jvmExited;
    clearTimeout(timer);
  }
  killStrays();
  log.end();
  process.exit(code);
}

process.on('SIGTERM', () => void shutdown(0));
process.on('SIGINT', () => void shutdown(0));
// Tests kill us by pid; a test runner that died without doing so must not leave a JVM behind.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) void shutdown(0);
}, 2000).unref();
