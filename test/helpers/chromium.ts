/**
 * Debian's headless Chromium, driven by playwright-core: nothing is
 * downloaded, and each launch gets a profile of its own that is removed
 * when it closes. Tests that need it skip when /usr/bin/chromium is absent
 * (scripts/install-system-deps.sh installs it).
 */
import { existsSync } from 'node:fs';
import { chromium, type BrowserContext } from 'playwright-core';
import { makeTempDir } from './temp-dir.js';

export const CHROMIUM = '/usr/bin/chromium';

export const hasChromium = (): boolean => existsSync(CHROMIUM);

/** A fresh headless browser; `close()` ends it and removes its profile. */
export async function launchChromium(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = makeTempDir('portico-chromium-');
  // The profile is --user-data-dir: playwright takes it as an argument of its own.
  const context = await chromium.launchPersistentContext(profile.path, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    close: async () => {
      await context.close();
      profile.remove();
    },
  };
}
