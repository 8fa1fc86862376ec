#!/usr/bin/env node
// Long fuzz runs against a portico on the conformance echo app:
//   node scripts/fuzz-http.mjs [COUNT=20000] [SEED=1]
// Needs `npx tsc -p .` first (it uses the compiled test modules). Prints
// the statuses seen and any broken invariant; exits 1 on a problem.
import { startEchoServer } from '../dist/test/conformance/conformance-server.js';
import { fuzz } from '../dist/test/conformance/fuzz.js';
import { httpRequest } from '../dist/test/helpers/http-client.js';

const count = Number(process.argv[2] ?? 20000);
const seed = Number(process.argv[3] ?? 1);
const server = await startEchoServer(['--headers-timeout', '1', '--body-timeout', '1']);
let failed = false;
try {
  const batch = 1000;
  for (let done = 0; done < count; done += batch) {
    const report = await fuzz(server.portico.port, Math.min(batch, count - done), seed + done, () => server.seen().length);
    const fresh = await httpRequest(`${server.portico.url}/after-batch`).catch((error) => ({ status: String(error) }));
    console.log(`${done + report.sent}/${count} statuses ${JSON.stringify(report.byStatus)} fresh request: ${fresh.status}`);
    for (const problem of report.problems) console.log(`PROBLEM ${problem}`);
    if (report.problems.length > 0 || fresh.status !== 200) failed = true;
  }
} finally {
  await server.stop();
}
process.exit(failed ? 1 : 0);
