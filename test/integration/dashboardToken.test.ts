import 'reflect-metadata';
import { expect } from 'chai';
import { request } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/runCli.js';
import { EbbtideProcess } from '../support/upProcess.js';

function statusWithHost(url: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/api/status`, { headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the dashboard token rules', function () {
  this.timeout(60_000);
  const stateDir = () => mkdtempSync(join(tmpdir(), 'ebbtide-dash-token-'));

  it('no token: a host other machines can reach is refused before anything starts', async () => {
    const r = await runCli(['up', '--dashboard.host', '0.0.0.0', '--backend.local.stateDir', stateDir()]);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/^error\[CONFIG_INVALID\]: dashboard\.host: "0\.0\.0\.0" is reachable from other machines/);
    expect(r.stdout).to.not.contain('scheduler at');
  });

  it('no token: loopback only, and only for requests naming this machine', async () => {
    const up = EbbtideProcess.start(['up', '--dashboard.port', '0', '--backend.local.stateDir', stateDir()]);
    try {
      const url = (await up.waitForStdout(/dashboard at (http:\/\/127\.0\.0\.1:\d+)\//))[1]!;
      expect((await fetch(`${url}/api/status`)).status).to.equal(200);
      expect(await statusWithHost(url, 'attacker.example')).to.equal(403);
    } finally {
      up.kill('SIGTERM');
      await up.exited;
    }
  });

  it('with a token: 401 without it or with a wrong one, 200 with it; the CLI sends dashboard.token', async () => {
    const up = EbbtideProcess.start(['up', '--dashboard.port', '0', '--backend.local.stateDir', stateDir()], { EBBTIDE_DASHBOARD_TOKEN: 'correct horse' });
    try {
      const url = (await up.waitForStdout(/dashboard at (http:\/\/127\.0\.0\.1:\d+)\/ \(open it with \?access_token=<dashboard\.token>\)/))[1]!;
      // The token is never printed or logged.
      expect(up.stdout + up.stderr).to.not.contain('correct horse');
      for (const path of ['/api/status', '/metrics', '/healthz', '/', '/api/openapi.json', '/api/decisions/stream']) {
        expect((await fetch(`${url}${path}`)).status, path).to.equal(401);
      }
      expect((await fetch(`${url}/api/status`, { headers: { authorization: 'Bearer wrong' } })).status).to.equal(401);
      const ok = await fetch(`${url}/api/status`, { headers: { authorization: 'Bearer correct horse' } });
      expect(ok.status).to.equal(200);
      expect((await fetch(`${url}/?access_token=${encodeURIComponent('correct horse')}`)).status).to.equal(200);
      const refused = await runCli(['status', '--url', url]);
      expect(refused.code).to.equal(2);
      expect(refused.stderr).to.contain('error[CONFIG_INVALID]: ebbtide at');
      expect(refused.stderr).to.contain('it needs its token');
      const allowed = await runCli(['status', '--url', url], { env: { EBBTIDE_DASHBOARD_TOKEN: 'correct horse' } });
      expect(allowed.code, allowed.stderr).to.equal(0);
      expect(allowed.stdout).to.match(/^EbbtideCluster\(ebbtide, /);
    } finally {
      up.kill('SIGTERM');
      await up.exited;
    }
  });

  it('dashboard.enabled false serves nothing', async () => {
    const up = EbbtideProcess.start(['up', '--dashboard.enabled', 'false', '--backend.local.stateDir', stateDir()]);
    try {
      await up.waitForStdout(/ebbtide up: cluster/);
      expect(up.stdout).to.not.contain('dashboard at');
    } finally {
      up.kill('SIGTERM');
      await up.exited;
    }
  });
});
