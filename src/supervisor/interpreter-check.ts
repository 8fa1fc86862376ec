/**
 * Before a pool starts its workers, the interpreter they would run is asked
 * whether it can: `python portico_worker.py --probe` answers with one line,
 * `portico-python FOUND NEEDED`, from the entry script's first statements
 * (written in syntax every Python parses), before the runtime is imported.
 * Anything else means the command is no Python at all (`--python /bin/cat`
 * would otherwise copy the worker's source into the log), and a Python older
 * than NEEDED exits with TOO_OLD_STATUS. Either is one line in the error log
 * and exit status 2, as for any other bad setting. One interpreter start per
 * pool start, with neither the runtime nor the application imported.
 */
import { spawn } from 'node:child_process';
import { InterpreterError } from '../errors.js';
import { quoteForLog } from '../observability/quote-for-log.js';
import { WORKER_SCRIPT } from './python-process.js';

/** python/portico_worker.py's exit status for a Python older than it supports. */
export const TOO_OLD_STATUS = 65;

const ANSWER = /^portico-python (\d+\.\d+\.\d+\S*) (\d+\.\d+)$/m;
/** A Python answers in tens of milliseconds; a command that does not answer at all is not one. */
const PROBE_TIMEOUT_MS = 15_000;
/** What is kept of a command's output: enough for its first line. */
const OUTPUT_LIMIT = 4096;

/** Resolves if `python` can run portico's runtime; rejects with an InterpreterError naming it otherwise. */
export function checkInterpreter(python: string, env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const named = `--python '${quoteForLog(python)}'`;
    const child = spawn(python, [WORKER_SCRIPT, '--probe'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout = (stdout + chunk).slice(0, OUTPUT_LIMIT)));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(0, OUTPUT_LIMIT)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      settle(new InterpreterError(`${named} is not a Python interpreter: asked for its version, it gave no answer within ${PROBE_TIMEOUT_MS / 1000} s`));
    }, PROBE_TIMEOUT_MS);
    let settled = false;
    const settle = (error: InterpreterError | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error === null) resolve();
      else reject(error);
    };
    child.on('error', (error: NodeJS.ErrnoException) => settle(new InterpreterError(`${named} ${cannotRun(error, python)}`)));
    child.on('close', (status) => {
      const answer = ANSWER.exec(stdout);
      if (answer === null) {
        const said = firstLine(stderr) ?? firstLine(stdout);
        const what = said === null ? `it said nothing and exited with status ${status}` : `it said: ${quoteForLog(said)}`;
        settle(new InterpreterError(`${named} is not a Python interpreter (asked for its version, ${what})`));
      } else if (status === TOO_OLD_STATUS) {
        settle(new InterpreterError(`${named} is Python ${answer[1]}; portico needs Python ${answer[2]} or newer`));
      } else if (status !== 0) {
        settle(new InterpreterError(`${named} (Python ${answer[1]}) exited with status ${status} when asked for its version`));
      } else {
        settle(null);
      }
    });
  });
}

function cannotRun(error: NodeJS.ErrnoException, python: string): string {
  if (error.code === 'ENOENT') return python.includes('/') ? 'does not exist' : 'is not on PATH';
  if (error.code === 'EACCES') return 'is not executable';
  return `cannot be run: ${error.message}`;
}

function firstLine(text: string): string | null {
  return text.split('\n').find((line) => line.trim() !== '') ?? null;
}
