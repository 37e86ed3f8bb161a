// A small option parser for the daemon commands (serve, ps, exec, logs, create, stop, rm):
// long options (--name VALUE, --name=VALUE), short ones (-it, -e K=V, -eK=V), `--` ends
// options. With `stopAtPositional` options end at the first positional argument (docker
// style for `exec ID CMD...`, where CMD's own flags must not be read as vessel's);
// otherwise options and positionals may be mixed. Errors are UsageErrors (exit 2).
import { UsageError } from './errors.js';

export interface FlagSpec {
  short?: string;
  /** Takes a value (else a boolean flag). */
  value?: boolean;
}

export interface ParsedFlags {
  /** Every value given for a flag (booleans: one '' per occurrence), by long name. */
  values: Map<string, string[]>;
  positionals: string[];
  /** Whatever followed `--` (or the first positional with stopAtPositional), unparsed. */
  rest: string[];
  has(name: string): boolean;
  last(name: string): string | undefined;
  all(name: string): string[];
}

export function parseFlags(argv: string[], spec: Record<string, FlagSpec>, opts: { stopAtPositional?: boolean } = {}): ParsedFlags {
  const values = new Map<string, string[]>();
  const positionals: string[] = [];
  const byShort = new Map(Object.entries(spec).flatMap(([name, f]) => (f.short ? [[f.short, name] as const] : [])));
  const add = (name: string, v: string) => values.set(name, [...(values.get(name) ?? []), v]);
  let rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      rest = argv.slice(i + 1);
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const flag = spec[name];
      if (!flag) throw new UsageError(`unknown option --${name}`);
      if (!flag.value) {
        if (eq >= 0) throw new UsageError(`--${name} takes no value`);
        add(name, '');
        continue;
      }
      const v = eq >= 0 ? a.slice(eq + 1) : argv[++i];
      if (v === undefined) throw new UsageError(`--${name} needs a value`);
      add(name, v);
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const name = byShort.get(a[j]!);
        if (name === undefined) throw new UsageError(`unknown option -${a[j]}`);
        if (!spec[name]!.value) {
          add(name, '');
          continue;
        }
        const v = j + 1 < a.length ? a.slice(j + 1) : argv[++i];
        if (v === undefined) throw new UsageError(`-${a[j]} needs a value`);
        add(name, v);
        break;
      }
      continue;
    }
    if (opts.stopAtPositional) {
      rest = argv.slice(i);
      break;
    }
    positionals.push(a);
  }
  return {
    values,
    positionals,
    rest,
    has: (name) => values.has(name),
    last: (name) => values.get(name)?.at(-1),
    all: (name) => values.get(name) ?? [],
  };
}
