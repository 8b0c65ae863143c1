import { expect } from 'chai';
import { parseArgs, type OptionSpec } from '../src/args.js';

const specs: Record<string, OptionSpec> = {
  config: { value: true, alias: 'c' },
  snapshot: { value: true },
  check: { value: false },
};

describe('parseArgs', () => {
  it('splits command, options and config overrides', () => {
    const a = parseArgs(['decide', '--snapshot', 's.json', '-c', 'x.yaml', '--adaptive.minimum', '2', '--workerKey=host', '--check'], specs);
    expect(a.command).to.equal('decide');
    expect(a.options).to.deep.equal({ snapshot: 's.json', config: 'x.yaml', check: true });
    expect(a.flags).to.deep.equal({ 'adaptive.minimum': '2', workerKey: 'host' });
  });

  it('rejects an unknown plain option', () => {
    expect(() => parseArgs(['decide', '--bogus'], specs)).to.throw(/unknown option --bogus/);
    expect(() => parseArgs(['decide', '-z'], specs)).to.throw(/unknown option -z/);
  });

  it('needs a value after a valued option', () => {
    expect(() => parseArgs(['decide', '--snapshot'], specs)).to.throw(/--snapshot needs a value/);
    expect(() => parseArgs(['decide', '--adaptive.minimum', '--check'], specs)).to.throw(/needs a value/);
  });
});
