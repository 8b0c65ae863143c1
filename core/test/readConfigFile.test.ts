import { expect } from 'chai';
import { readConfigFile } from '../src/config/loadConfig.js';
import { thrownBy } from './support/errors.js';
import { type TempDir, makeTempDir } from './support/tempDir.js';

describe('readConfigFile', () => {
  let tmp: TempDir;
  beforeEach(() => {
    tmp = makeTempDir();
  });
  afterEach(() => {
    tmp.remove();
  });

  it('parses JSON and YAML into the same object', () => {
    const json = readConfigFile(tmp.write('a.json', JSON.stringify({ adaptive: { maximum: 'inf', minimum: 2 }, plugins: ['./x.js'] })));
    const yaml = readConfigFile(tmp.write('a.yaml', 'adaptive:\n  maximum: inf\n  minimum: 2\nplugins:\n  - ./x.js\n'));
    expect(yaml).to.deep.equal(json);
    expect(json).to.deep.equal({ adaptive: { maximum: 'inf', minimum: 2 }, plugins: ['./x.js'] });
  });

  it('decides the format by extension, case-insensitively (.YML)', () => {
    expect(readConfigFile(tmp.write('A.YML', 'heuristic: dask\n'))).to.deep.equal({ heuristic: 'dask' });
  });

  it('an unknown extension is CONFIG_FILE naming the path and the allowed extensions', () => {
    const file = tmp.write('ebbtide.toml', 'heuristic = "dask"\n');
    const e = thrownBy(() => readConfigFile(file), 'CONFIG_FILE');
    expect(e.message).to.contain(file);
    expect(e.message).to.contain('use .json, .yaml or .yml');
  });

  it('a file holding a list instead of settings is CONFIG_FILE', () => {
    const file = tmp.write('list.json', '[1, 2]');
    const e = thrownBy(() => readConfigFile(file), 'CONFIG_FILE');
    expect(e.message).to.equal(`config file ${file} must hold an object of settings, got an array`);
  });

  it('a file holding a scalar is CONFIG_FILE', () => {
    const file = tmp.write('scalar.yaml', 'just a string\n');
    const e = thrownBy(() => readConfigFile(file), 'CONFIG_FILE');
    expect(e.message).to.equal(`config file ${file} must hold an object of settings, got string`);
  });

  it('an empty YAML file (or one with only comments) is no settings', () => {
    expect(readConfigFile(tmp.write('empty.yaml', '# nothing yet\n'))).to.deep.equal({});
  });

  it('keeps the parser error as the cause', () => {
    const e = thrownBy(() => readConfigFile(tmp.write('bad.json', '{')), 'CONFIG_FILE');
    expect(e.cause).to.be.instanceOf(SyntaxError);
  });
});
