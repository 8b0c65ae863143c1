import 'reflect-metadata';
import { expect } from 'chai';
import type { EbbtideConfig } from '@ebbtide/core';
import { dashboardOptions, dashboardUrl, isLoopbackHost } from '../src/config.js';

const config = (dashboard: Record<string, unknown>) => ({ dashboard: { enabled: true, host: '127.0.0.1', port: 8790, token: '', ...dashboard } }) as unknown as EbbtideConfig;

describe('dashboard config', () => {
  it('loopback hosts', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', 'LOCALHOST']) expect(isLoopbackHost(h), h).to.equal(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', 'example.org', '127.0.0.1.example.org']) expect(isLoopbackHost(h), h).to.equal(false);
  });

  it('refuses a host other machines can reach unless a token is set', () => {
    expect(() => dashboardOptions(config({ host: '0.0.0.0' })))
      .to.throw(/^dashboard\.host: "0\.0\.0\.0" is reachable from other machines/)
      .with.property('key', 'dashboard.host');
    expect(dashboardOptions(config({ host: '0.0.0.0', token: 't' }))).to.deep.equal({ enabled: true, host: '0.0.0.0', port: 8790, token: 't' });
    // Disabled: nothing is bound, nothing to refuse.
    expect(dashboardOptions(config({ host: '0.0.0.0', enabled: false })).enabled).to.equal(false);
  });

  it('the URL a local client uses', () => {
    expect(dashboardUrl('127.0.0.1', 8790)).to.equal('http://127.0.0.1:8790');
    expect(dashboardUrl('0.0.0.0', 1)).to.equal('http://127.0.0.1:1');
    expect(dashboardUrl('::1', 2)).to.equal('http://[::1]:2');
  });
});
