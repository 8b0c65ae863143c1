import { spawnSync } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The Dask releases the adapter is tested against: Debian's `python3-distributed` (what it was
 * built against) and today's `distributed` from PyPI, in the virtualenv that
 * `test/servers/dask/build-venv.sh` builds (`.ci/run` calls it). Each real-scheduler suite runs
 * once per entry, with the label in its title.
 */
export interface DaskVersion {
  /** Release series, as in test titles: `2022.12`, `2026.8`. */
  readonly label: string;
  /** The Python whose `distributed` is that release. */
  readonly python: string;
  /** What to run when it is missing. */
  readonly install: string;
  /**
   * How its client sends a tuple key such as `("x-ab12", 0)`: 2022.12 stringifies it
   * (`"('x-ab12', 0)"`), newer releases send the tuple.
   */
  readonly tupleKeys: 'stringified' | 'tuples';
}

/** Where build-venv.sh puts the venv (same override variable). */
const VENV = process.env['EBBTIDE_DASK_VENV'] ?? join(homedir(), '.cache', 'ebbtide', 'dask-venv', '2026.8');

export const DASK_2022: DaskVersion = {
  label: '2022.12',
  python: '/usr/bin/python3',
  install: 'apt-get install python3-distributed (.ci/run does)',
  tupleKeys: 'stringified',
};

export const DASK_2026: DaskVersion = {
  label: '2026.8',
  python: join(VENV, 'bin', 'python'),
  install: `bash test/servers/dask/build-venv.sh, which builds the virtualenv ${VENV} (.ci/run does)`,
  tupleKeys: 'tuples',
};

export const DASK_VERSIONS: readonly DaskVersion[] = [DASK_2022, DASK_2026];

const checked = new Map<string, string>();

/**
 * The installed `distributed` version of `dask`, checked to be of its series.
 * @throws Error saying what to install when it is missing or of another release
 */
export function requireDask(dask: DaskVersion): string {
  const known = checked.get(dask.python);
  if (known) return known;
  const r = spawnSync(dask.python, ['-c', 'import distributed; print(distributed.__version__)'], { encoding: 'utf8' });
  const version = r.status === 0 ? r.stdout.trim() : undefined;
  if (!version || !version.startsWith(dask.label + '.')) {
    const found = version ? `it has distributed ${version}` : r.error ? `${dask.python} does not exist` : 'it cannot import distributed';
    throw new Error(`Dask ${dask.label} is not installed for ${dask.python} (${found}): run ${dask.install}`);
  }
  checked.set(dask.python, version);
  return version;
}
