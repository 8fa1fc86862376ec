/**
 * pino is loaded when --log-format json first asks for it, not when the
 * front starts: a front that logs text never needs it, and the package
 * adds a few MiB to every front's resident memory
 * (docs/benchmarks/analysis.md, "The front's heap and V8's full
 * collections").
 */
import { createRequire } from 'node:module';

type Pino = typeof import('pino').pino;

let loaded: Pino | null = null;

export function loadPino(): Pino {
  loaded ??= (createRequire(import.meta.url)('pino') as typeof import('pino')).pino;
  return loaded;
}
