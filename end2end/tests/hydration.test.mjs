// Hydration that never stalls (#26, item 11). A page that never hydrates is dead to its user:
// the Flink page opened on a job's address did so every time in the release build (hydration
// panicked on the server-drawn drawer). A hundred sign-ins in a row, each in a fresh browser
// context and landing on another page, must all hydrate, with no error in any page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, signInWithPassword, ADMIN } from './browser.mjs';

const ROUNDS = 100;
// Pages with server-rendered data and, where they have one, a live feed; the Flink drawer's
// address is the one that failed (its namespace is watched by the test server; the job need
// not exist).
const LANDINGS = ['/', '/flink', '/flink?job=heimdall-e2e-a/orders', '/pipelines', '/catalog', '/vault', '/admin/users'];

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

test(`signing in ${ROUNDS} times in a row hydrates every time`, async () => {
  const failures = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    const landing = LANDINGS[round % LANDINGS.length];
    const context = await browser.newContext();
    try {
      const { page, errors } = await signInWithPassword(context, ADMIN.username, ADMIN.password, landing);
      // The login sends the browser on with a full page load: the landing page hydrates anew.
      await page.waitForURL((url) => url.pathname !== '/login');
      await page.waitForSelector('body[data-hydrated="true"]', { timeout: 30_000 });
      if (errors.length > 0) failures.push(`round ${round} (${landing}): ${errors.join('; ')}`);
    } catch (e) {
      failures.push(`round ${round} (${landing}): ${e.message.split('\n').slice(0, 3).join(' ')}`);
    } finally {
      await context.close();
    }
  }
  assert.deepEqual(failures, [], `${failures.length} of ${ROUNDS} sign-ins did not hydrate cleanly`);
});
