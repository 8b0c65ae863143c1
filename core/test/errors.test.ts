import { expect } from 'chai';
import { ERROR_CODES, EbbtideError, exitCodeFor, isEbbtideError, pluginError } from '../src/errors.js';

describe('errors', () => {
  it('ERROR_CODES are sorted, unique and SCREAMING_SNAKE', () => {
    expect([...ERROR_CODES]).to.deep.equal([...new Set(ERROR_CODES)].sort());
    for (const code of ERROR_CODES) expect(code).to.match(/^[A-Z]+(_[A-Z]+)*$/);
  });

  it('EbbtideError carries code, hint, plugin, key, data and cause', () => {
    const cause = new Error('root');
    const e = new EbbtideError('CONFIG_INVALID', 'adaptive.maximum: bad', { hint: 'h', plugin: 'p', key: 'adaptive.maximum', data: { a: 1 }, cause });
    expect(e).to.include({ code: 'CONFIG_INVALID', message: 'adaptive.maximum: bad', hint: 'h', plugin: 'p', key: 'adaptive.maximum', name: 'EbbtideError' });
    expect(e.data).to.deep.equal({ a: 1 });
    expect(e.cause).to.equal(cause);
  });

  it('isEbbtideError recognises one from another copy of core by name', () => {
    const foreign = Object.assign(new Error('x'), { name: 'EbbtideError', code: 'USAGE' });
    expect(isEbbtideError(foreign)).to.equal(true);
    expect(isEbbtideError(new Error('x'))).to.equal(false);
    expect(isEbbtideError('EbbtideError')).to.equal(false);
  });

  it('exit code 2 for config, plugin and usage errors, 1 otherwise', () => {
    expect(exitCodeFor(new EbbtideError('CONFIG_FILE', 'x'))).to.equal(2);
    expect(exitCodeFor(new EbbtideError('PLUGIN_NOT_FOUND', 'x'))).to.equal(2);
    expect(exitCodeFor(new EbbtideError('USAGE', 'x'))).to.equal(2);
    expect(exitCodeFor(new EbbtideError('BACKEND_API', 'x'))).to.equal(1);
    expect(exitCodeFor(new Error('x'))).to.equal(1);
  });

  it('pluginError names the plugin and method and keeps an EbbtideError code as pluginCode', () => {
    const e = pluginError('dask', 'target', new EbbtideError('INPUT_INVALID', 'bad snapshot'));
    expect(e.code).to.equal('PLUGIN_ERROR');
    expect(e.message).to.equal('plugin "dask" failed in target: bad snapshot');
    expect(e.data).to.deep.equal({ method: 'target', pluginCode: 'INPUT_INVALID' });
    expect(pluginError('dask', 'target', 'a string').message).to.equal('plugin "dask" failed in target: a string');
  });
});
