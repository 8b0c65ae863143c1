import 'reflect-metadata';
import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { Client, builtinTask } from '@ebbtide/scheduler-embedded';
import { alive, killAll, pidsMatching, until } from '../support/processes.js';
import { runCli } from '../support/runCli.js';
import { EbbtideProcess } from '../support/upProcess.js';

interface PromMetric {
  name: string;
  help: string;
  type: string;
  metrics: Array<{ value?: string; labels?: Record<string, string>; buckets?: Record<string, string>; count?: string; sum?: string }>;
}
const parsePrometheus = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => PromMetric[];

type Json = Record<string, unknown>;
const get = async (url: string): Promise<Json> => (await (await fetch(url)).json()) as Json;
const post = async (url: string, body: unknown) => {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Json };
};

/** The first `decision` event of a stream, parsed (the stream is closed after it). */
async function firstEvent(url: string): Promise<{ contentType: string | null; data: unknown }> {
  const controller = new AbortController();
  const res = await fetch(url, { signal: controller.signal });
  const reader = res.body!.getReader();
  let text = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error('stream ended before a decision event');
      text += new TextDecoder().decode(value);
      const m = /event: decision\ndata: (.*)\n\n/.exec(text);
      if (m) return { contentType: res.headers.get('content-type'), data: JSON.parse(m[1]!) };
    }
  } finally {
    controller.abort();
  }
}

describe('the dashboard of `ebbtide up` (embedded scheduler, local workers)', function () {
  this.timeout(120_000);
  let up: EbbtideProcess | undefined;
  const workerPids = new Set<number>();
  let url = '';
  let address = '';
  let client: Client | undefined;

  before(async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'ebbtide-dash-'));
    up = EbbtideProcess.start([
      'up',
      '--dashboard.port',
      '0',
      '--adaptive.interval',
      '200ms',
      '--adaptive.maximum',
      '3',
      '--adaptive.targetDuration',
      '1s',
      '--backend.local.stateDir',
      stateDir,
    ]);
    url = (await up.waitForStdout(/dashboard at (http:\/\/127\.0\.0\.1:\d+)\//, 30_000))[1]!;
    address = (await up.waitForStdout(/scheduler at (tcp:\/\/\S+)/, 30_000))[1]!;
    client = await Client.connect(address);
  });

  after(async () => {
    await client?.close().catch(() => undefined);
    for (const pid of pidsMatching('ebbtide-worker', address)) workerPids.add(pid);
    if (up?.running) {
      up.kill('SIGTERM');
      await up.exited;
    }
    await until(() => [...workerPids].every((p) => !alive(p)), 15_000, 'worker processes to be gone').catch(() => killAll(workerPids));
  });

  it('scales up under load, and /api/status says so with the cluster repr', async () => {
    const keys: string[] = [];
    for (let i = 0; i < 12; i++) keys.push(await client!.submit(builtinTask('sleep'), [1500], { prefix: 'nap' }));
    await until(async () => ((await get(`${url}/api/status`)).workers as number) >= 2, 60_000, 'two connected workers');
    const status = await get(`${url}/api/status`);
    expect(status.repr).to.match(new RegExp(`^EbbtideCluster\\(ebbtide, ${address.replace(/[.]/g, '\\.')}, workers=\\d, threads=\\d, memory=\\d+\\.\\d\\d GiB\\)$`));
    expect(status).to.deep.include({ cluster: 'ebbtide', mode: 'adaptive', blind: null });
    expect(status.scheduler).to.deep.equal({ type: 'embedded', address, connected: true });
    expect(await client!.gather(keys)).to.have.length(12);
    await client!.release(keys);
  });

  it('the OpenAPI document validates, and every operation answers as it says', async () => {
    const doc = (await get(`${url}/api/openapi.json`)) as Json & { paths: Record<string, Record<string, Json>> };
    const check = await new Validator().validate(doc as never);
    expect(check.valid, JSON.stringify(check.errors)).to.equal(true);
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    ajv.addSchema(doc, 'doc');
    const pointer = (...parts: string[]) => 'doc#/' + parts.map((p) => p.replaceAll('~', '~0').replaceAll('/', '~1')).join('/');
    const seen: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const params = (op.parameters ?? []) as Array<{ name: string; in: string; example?: unknown }>;
        let target = path;
        const query = new URLSearchParams();
        for (const p of params) {
          if (p.in === 'path') target = target.replace(`{${p.name}}`, String(p.example));
          else if (p.example !== undefined) query.set(p.name, String(p.example));
        }
        const full = `${url}${target}${query.size ? `?${query}` : ''}`;
        const responses = op.responses as Record<string, { content?: Record<string, unknown> }>;
        // It stops ebbtide: called by the last test, against the same schema.
        if (path === '/api/shutdown') continue;
        if (path === '/api/decisions/stream') {
          const ev = await firstEvent(full);
          expect(ev.contentType).to.match(/^text\/event-stream/);
          const valid = ajv.validate({ $ref: pointer('components', 'schemas', 'HistoryEntry') }, ev.data);
          expect(valid, `${path}: ${ajv.errorsText()}`).to.equal(true);
          seen.push(`${method} ${path}`);
          continue;
        }
        const body = (op.requestBody as { content: { 'application/json': { example: unknown } } } | undefined)?.content['application/json'].example;
        const res = await fetch(full, {
          method: method.toUpperCase(),
          ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
        });
        const status = String(res.status);
        expect(Object.keys(responses), `${method} ${path} answered ${status}`).to.include(status);
        const type = (res.headers.get('content-type') ?? '').split(';')[0]!;
        const documented = Object.keys(responses[status]!.content ?? {});
        expect(documented, `${method} ${path}: content type ${type}`).to.include(type);
        if (type === 'application/json') {
          const valid = ajv.validate({ $ref: pointer('paths', path, method, 'responses', status, 'content', 'application/json', 'schema') }, await res.json());
          expect(valid, `${method} ${path}: ${ajv.errorsText()}`).to.equal(true);
        } else {
          await res.arrayBuffer();
        }
        seen.push(`${method} ${path}`);
      }
    }
    // The endpoints the issue lists are all documented (and so were all called above).
    for (const op of ['get /api/status', 'get /api/workers', 'get /api/decisions', 'get /api/decisions/stream', 'get /metrics', 'get /healthz', 'post /api/scale', 'post /api/adapt', 'get /api/openapi.json', 'get /']) {
      expect(seen).to.include(op);
    }
    // The example scale (n 2) switched to manual mode; the example adapt came after it.
    expect((await get(`${url}/api/status`)).mode).to.equal('adaptive');
  });

  it('/metrics parses as Prometheus text, with the metrics the docs list, agreeing with /api/status', async () => {
    const text = await (await fetch(`${url}/metrics`)).text();
    const metrics = parsePrometheus(text);
    const byName = new Map(metrics.map((m) => [m.name, m]));
    const expected: Record<string, string> = {
      ebbtide_workers_target: 'GAUGE',
      ebbtide_workers_desired: 'GAUGE',
      ebbtide_workers_observed: 'GAUGE',
      ebbtide_workers_requested: 'GAUGE',
      ebbtide_workers_planned: 'GAUGE',
      ebbtide_decisions_total: 'COUNTER',
      ebbtide_tick_duration_seconds: 'HISTOGRAM',
      ebbtide_retirements_total: 'COUNTER',
      ebbtide_backend_errors_total: 'COUNTER',
      ebbtide_pending_starts: 'GAUGE',
      ebbtide_blind_seconds: 'GAUGE',
      ebbtide_scaling_mode: 'GAUGE',
      process_cpu_seconds_total: 'COUNTER',
    };
    for (const [name, type] of Object.entries(expected)) expect(byName.get(name)?.type, name).to.equal(type);
    const status = await get(`${url}/api/status`);
    const decisions = (await get(`${url}/api/decisions`)) as { last: number };
    expect(Number(byName.get('ebbtide_workers_planned')!.metrics[0]!.value)).to.equal((status.plan as string[]).length);
    const byStatus = Object.fromEntries(byName.get('ebbtide_decisions_total')!.metrics.map((m) => [m.labels!.status, Number(m.value)]));
    expect(byStatus.up).to.be.at.least(1);
    expect(byStatus.same! + byStatus.up! + byStatus.down!).to.be.at.least(decisions.last - 1);
    const ticks = byName.get('ebbtide_tick_duration_seconds')!.metrics[0]!;
    expect(Number(ticks.count)).to.equal(byStatus.same! + byStatus.up! + byStatus.down!);
  });

  it('manual scale holds 1 worker and says mode manual; adapt returns to adaptive', async () => {
    expect((await post(`${url}/api/scale`, { n: 1 })).body).to.deep.include({ mode: 'manual', n: 1 });
    // The mode changes at once; the cluster may already have one worker from before, so wait for
    // the first decision made in manual mode as well.
    await until(async () => {
      const s = await get(`${url}/api/status`);
      const last = (await get(`${url}/api/decisions`)) as { decisions: Array<{ decision: { mode: string } }> };
      return s.mode === 'manual' && s.workers === 1 && (s.plan as string[]).length === 1 && last.decisions.at(-1)?.decision.mode === 'manual';
    }, 60_000, 'one worker in manual mode, decided in manual mode');
    const r = await runCli(['status', '--url', url]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^EbbtideCluster\(ebbtide, tcp:\/\/127\.0\.0\.1:\d+, workers=1, threads=1, memory=4\.00 GiB\)\n/);
    expect(r.stdout).to.contain('mode        manual: holding 1 worker(s)');
    expect((await post(`${url}/api/adapt`, { minimum: 0, maximum: 3 })).body).to.deep.equal({ mode: 'adaptive', minimum: 0, maximum: 3 });
    const json = JSON.parse((await runCli(['status', '--url', url, '--json'])).stdout) as { status: Json; decisions: unknown[] };
    expect(json.status.mode).to.equal('adaptive');
    expect(json.decisions.length).to.be.within(1, 5);
  });

  it('ebbtide explain on a scale-down shows why each closed worker went (idle, the bytes it held)', async () => {
    // Results held on workers: once idle, each worker's bytes must move before it goes.
    const keys: string[] = [];
    for (let i = 0; i < 6; i++) keys.push(await client!.submit(builtinTask('blob'), [50_000], { prefix: 'blob' }));
    for (let i = 0; i < 6; i++) keys.push(await client!.submit(builtinTask('sleep'), [1500], { prefix: 'nap' }));
    await client!.gather(keys);
    type Entry = { tick: number; decision: { recommendation: { status: string; workers?: string[] }; outcome?: { status: string } } };
    let down: Entry | undefined;
    await until(async () => {
      const h = (await get(`${url}/api/decisions`)) as { decisions: Entry[] };
      down = h.decisions.filter((e) => e.decision.recommendation.status === 'down' && e.decision.outcome?.status !== 'shutdown').at(-1);
      return down !== undefined && ((await get(`${url}/api/status`)).workers as number) < 2;
    }, 90_000, 'a scale-down');
    const r = await runCli(['explain', String(down!.tick), '--url', url]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(new RegExp(`^tick ${down!.tick} at \\d\\d:\\d\\d:\\d\\d \\[adaptive\\]: scale down: close `));
    for (const name of down!.decision.recommendation.workers!) {
      expect(r.stdout).to.match(new RegExp(`why this worker: ${name}: idle, (holds [\\d.]+ [kMG]?i?B of results \\(copied to other workers before it goes\\)|holds no results); closed now`));
    }
    expect(r.stdout).to.match(/done: retired .* through the scheduler \(results moved first\), then stopped/);
    const last = await runCli(['explain', '--url', url]);
    expect(last.stdout).to.match(/^tick \d+ at /);
    await client!.release(keys);
  });

  it("ebbtide logs prints ebbtide's own log, and a worker's output with --worker", async () => {
    const own = await runCli(['logs', '--url', url, '--lines', '500']);
    expect(own.code, own.stderr).to.equal(0);
    expect(own.stdout).to.match(/INFO  \[local\] worker process started event=worker\.started worker=ebbtide-\d+/);
    const workers = (await get(`${url}/api/workers`)) as { workers: Array<{ name: string }> };
    const gone = (await get(`${url}/api/decisions`)) as { decisions: Array<{ decision: { outcome?: { started?: string[] } } }> };
    const name = workers.workers[0]?.name ?? gone.decisions.flatMap((e) => e.decision.outcome?.started ?? [])[0]!;
    const worker = await runCli(['logs', '--worker', name, '--url', url]);
    expect(worker.code, worker.stderr).to.equal(0);
    expect(worker.stdout).to.contain(`ebbtide-worker ready name=${name}`);
    const unknown = await runCli(['logs', '--worker', 'nobody-1', '--url', url]);
    expect(unknown.code).to.equal(1);
    expect(unknown.stderr).to.contain('no worker named "nobody-1"');
  });

  it('POST /api/shutdown stops it cleanly, as SIGTERM does: 202 as documented, the stream ends, the server goes', async () => {
    const doc = await get(`${url}/api/openapi.json`);
    const ajv = new Ajv2020({ strict: false });
    ajv.addSchema(doc, 'doc');
    const res = await post(`${url}/api/shutdown`, {});
    expect(res.status).to.equal(202);
    expect(ajv.validate({ $ref: 'doc#/paths/~1api~1shutdown/post/responses/202/content/application~1json/schema' }, res.body), ajv.errorsText()).to.equal(true);
    expect(res.body).to.deep.equal({ status: 'shutting-down', workers: 'stop' });
    expect((await up!.exited).code).to.equal(0);
    expect(up!.stdout).to.contain('received POST /api/shutdown: shutting down (shutdown.workers stop)');
    const r = await runCli(['status', '--url', url]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/^error\[DASHBOARD_UNREACHABLE\]: no ebbtide answers at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/);
  });
});
