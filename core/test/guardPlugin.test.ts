import { expect } from 'chai';
import { EbbtideError, type ErrorCode } from '../src/errors.js';
import { guardPlugin } from '../src/plugins/guardPlugin.js';
import { rejectedBy, thrownBy } from './support/errors.js';

/** A stand-in implementation whose methods fail in the ways plugin code does. */
class Flaky {
  calls = 0;
  readonly label = 'flaky';
  ok(x: number): number {
    this.calls++;
    return x * 2;
  }
  throws(): never {
    throw new Error('plain failure');
  }
  throwsEbbtide(code: ErrorCode): never {
    throw new EbbtideError(code, `own ${code}`);
  }
  async rejects(): Promise<never> {
    throw new Error('async failure');
  }
  async resolves(): Promise<string> {
    return 'done';
  }
}

describe('guardPlugin', () => {
  const guarded = () => guardPlugin(new Flaky(), 'flaky-plugin');

  it('passes calls, results and properties through; `this` is the implementation', async () => {
    const g = guarded();
    expect(g.ok(21)).to.equal(42);
    expect(g.calls).to.equal(1);
    expect(g.label).to.equal('flaky');
    expect(await g.resolves()).to.equal('done');
  });

  it('a throw becomes PLUGIN_ERROR with `plugin`, data.method and the cause', () => {
    const e = thrownBy(() => guarded().throws(), 'PLUGIN_ERROR');
    expect(e.plugin).to.equal('flaky-plugin');
    expect(e.data).to.deep.equal({ method: 'throws' });
    expect(e.message).to.equal('plugin "flaky-plugin" failed in throws: plain failure');
    expect((e.cause as Error).message).to.equal('plain failure');
  });

  it('a rejected promise becomes a PLUGIN_ERROR rejection', async () => {
    const e = await rejectedBy(guarded().rejects(), 'PLUGIN_ERROR');
    expect(e.plugin).to.equal('flaky-plugin');
    expect(e.data).to.deep.equal({ method: 'rejects' });
  });

  it("a plugin's own EbbtideError keeps its code as data.pluginCode", () => {
    const e = thrownBy(() => guarded().throwsEbbtide('INPUT_INVALID'), 'PLUGIN_ERROR');
    expect(e.data).to.deep.equal({ method: 'throwsEbbtide', pluginCode: 'INPUT_INVALID' });
  });

  for (const code of ['BACKEND_API', 'SCHEDULER_UNREACHABLE', 'CONFIG_INVALID'] as const) {
    it(`an adapter's expected ${code} passes through unchanged`, () => {
      const e = thrownBy(() => guarded().throwsEbbtide(code), code);
      expect(e.message).to.equal(`own ${code}`);
    });
  }

  it('does not wrap twice: a PLUGIN_ERROR from a nested guarded call keeps its plugin', () => {
    const inner = guardPlugin(new Flaky(), 'inner');
    const outer = guardPlugin({ call: () => inner.throws() }, 'outer');
    const e = thrownBy(() => outer.call(), 'PLUGIN_ERROR');
    expect(e.plugin).to.equal('inner');
  });
});
