import { EbbtideError } from '@ebbtide/core';

export interface ParsedArgs {
  command?: string;
  /** CLI options (not config keys): name -> value (true for switches). */
  options: Record<string, string | boolean>;
  /** Every value of options declared `multiple`, in order (e.g. several `-c FILE`). */
  lists: Record<string, string[]>;
  /** Config overrides: dotted key -> string value. */
  flags: Record<string, string>;
  positionals: string[];
}

export interface OptionSpec {
  /** Takes a value (`--snapshot FILE`) rather than being a switch (`--check`). */
  value: boolean;
  alias?: string;
  /** May be given several times; all values are kept in `lists`. */
  multiple?: boolean;
}

/**
 * Parses `ebbtide <command> [options] [--config.key value ...]`. Options of the command are
 * known by name; anything else of the form `--a.b value` or `--a.b=value` is a config override
 * (checked against the schema later). Unknown plain options are a `USAGE` error.
 */
export function parseArgs(argv: readonly string[], specs: Record<string, OptionSpec>): ParsedArgs {
  const out: ParsedArgs = { options: {}, lists: {}, flags: {}, positionals: [] };
  const byAlias = new Map(Object.entries(specs).filter(([, s]) => s.alias).map(([n, s]) => [s.alias!, n]));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      out.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      if (out.command === undefined) out.command = arg;
      else out.positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    let name = arg.replace(/^--?/, '');
    let inline: string | undefined;
    if (eq >= 0) {
      name = arg.slice(0, eq).replace(/^--?/, '');
      inline = arg.slice(eq + 1);
    }
    if (!arg.startsWith('--')) name = byAlias.get(name) ?? name;
    const spec = specs[name];
    const takeValue = (what: string): string => {
      if (inline !== undefined) return inline;
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('--') && next.length > 2)) {
        throw new EbbtideError('USAGE', `${what} needs a value`);
      }
      i++;
      return next;
    };
    if (spec) {
      out.options[name] = spec.value ? takeValue(`--${name}`) : true;
      if (spec.multiple && typeof out.options[name] === 'string') (out.lists[name] ??= []).push(out.options[name] as string);
    } else if (arg.startsWith('--') && (name.includes('.') || /^[a-z][A-Za-z]*$/.test(name))) {
      if (!name.includes('.') && !['heuristic', 'workersToClose', 'workerKey', 'allocation', 'plugins'].includes(name)) {
        throw new EbbtideError('USAGE', `unknown option --${name}`, { hint: 'run `ebbtide --help`' });
      }
      out.flags[name] = takeValue(`--${name}`);
    } else {
      throw new EbbtideError('USAGE', `unknown option ${arg}`, { hint: 'run `ebbtide --help`' });
    }
  }
  return out;
}
