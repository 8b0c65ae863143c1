/**
 * Kubernetes' `$(VAR)` expansion in command, args and env values: a reference to a defined
 * variable is replaced, `$$` is a literal `$`, an undefined reference stays as written
 * (k8s.io/kubernetes third_party/forked/golang/expansion semantics).
 */
export function expandVars(input: string, vars: ReadonlyMap<string, string>): string {
  let out = '';
  for (let i = 0; i < input.length; i++) {
    const c = input[i]!;
    if (c !== '$' || i + 1 >= input.length) {
      out += c;
      continue;
    }
    const next = input[i + 1]!;
    if (next === '$') {
      out += '$';
      i++;
    } else if (next === '(') {
      const end = input.indexOf(')', i + 2);
      if (end < 0) {
        out += input.slice(i);
        break;
      }
      const name = input.slice(i + 2, end);
      out += vars.has(name) ? vars.get(name)! : input.slice(i, end + 1);
      i = end;
    } else {
      out += c;
    }
  }
  return out;
}

/** Kubernetes quantity (`64Mi`, `1G`, `500m`, `2`) to a number of base units. */
export function parseQuantity(q: string | number): number {
  if (typeof q === 'number') return q;
  const m = /^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)([a-zA-Z]*)$/.exec(q.trim());
  if (!m) throw new Error(`bad quantity ${JSON.stringify(q)}`);
  const n = Number(m[1]);
  const suffix: Record<string, number> = {
    '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
    Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
  };
  const f = suffix[m[2]!];
  if (f === undefined) throw new Error(`bad quantity suffix in ${JSON.stringify(q)}`);
  return n * f;
}
