/**
 * The control listener's /status page in a real browser (Debian's headless
 * Chromium): it lists exactly the worker pids /proc shows as the front's
 * children, fetches nothing but its own status.json, and redraws itself
 * after a worker is killed and replaced.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { hasChromium, launchChromium } from '../helpers/chromium.js';
import { eventually, httpRequest } from '../helpers/http-client.js';
import { fixtureApp, startPortico, type Portico } from '../helpers/portico.js';
import { childrenOf, isRunning } from '../helpers/proc.js';

const CONTROL_LINE = /control listener on (http:\/\/[^\s,:]+:\d+)/;

/** The front's live children, as /proc has them. */
function frontChildren(pid: number): number[] {
  return childrenOf(pid).filter(isRunning).sort((a, b) => a - b);
}

/** The pids the page shows now, in its workers table. */
async function shownPids(page: Page): Promise<number[]> {
  const pids = await page.$$eval('section[data-mount="/"] tr[data-pid]', (rows) => rows.map((row) => Number(row.getAttribute('data-pid'))));
  return pids.sort((a, b) => a - b);
}

describe('the /status page in headless Chromium', { timeout: 90_000, skip: !hasChromium() && 'no /usr/bin/chromium' }, () => {
  let server: Portico;
  let control: string;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let page: Page;
  const requested: string[] = [];

  before(async () => {
    const { app, args } = fixtureApp('sleepy_app');
    server = await startPortico({ app, args: [...args, '-w', '3', '--control-bind', '127.0.0.1:0'] });
    control = (CONTROL_LINE.exec(server.logs()) as RegExpExecArray)[1] as string;
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.on('request', (request) => requested.push(request.url()));
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('lists exactly the workers that /proc shows as the front’s children', async () => {
    for (let i = 0; i < 4; i++) await httpRequest(`${server.url}/pid`);
    await page.goto(`${control}/status`);
    await page.waitForSelector('tr[data-pid]');
    const children = frontChildren(server.pid);
    assert.equal(children.length, 3, `the front's children: ${children.join(', ')}`);
    assert.deepEqual(await shownPids(page), children);
    assert.equal(await page.textContent('#ready'), 'ready');
    assert.ok((await page.$$('section[data-mount="/"] svg polyline')).length === 2, 'the p50 and p99 lines');
  });

  it('redraws after a worker is killed: the dead one gone, its replacement listed', async () => {
    const before = await shownPids(page);
    const victim = before[1] as number;
    process.kill(victim, 'SIGKILL');
    const after = await eventually('the page lists a replacement', async () => {
      const shown = await shownPids(page);
      return shown.length === 3 && !shown.includes(victim) ? shown : undefined;
    }, 20_000, 200);
    assert.deepEqual(after, frontChildren(server.pid));
    assert.match((await page.textContent('section[data-mount="/"] .last-exit')) ?? '', new RegExp(`worker ${victim} .*\\(memory\\)`));
  });

  it('fetched nothing but its own page and status.json', () => {
    const foreign = requested.filter((url) => url !== `${control}/status` && url !== `${control}/status.json`);
    assert.deepEqual(foreign, []);
    assert.ok(requested.includes(`${control}/status.json`), 'it polled');
  });
});
