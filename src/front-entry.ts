/**
 * The program each front of `portico --fronts N` runs, as a cluster worker
 * of the parent (supervisor/front-set.ts): the server `portico` runs with
 * --fronts 1, with its options and signals from the parent.
 */
import { serve } from './cli.js';
import { FrontLink } from './supervisor/front-link.js';

const link = new FrontLink();
const { options, metrics } = await link.options();
const status = await serve(options, { signals: link.signals, started: (server) => link.follow(server), metrics, socketsClosed: link.socketsClosed }).catch((error: Error) => {
  process.stderr.write(`portico: internal error: ${error.stack ?? String(error)}\n`);
  return 1;
});
process.exit(status);
