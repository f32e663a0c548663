// Lazy routes: sections outside the initial bundle are separate WASM chunks, fetched when a page
// needs them — opened directly (before hydration) or navigated into (client-side routing).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, openHydrated, signInWithPassword, ADMIN, BASE_URL } from './browser.mjs';

let browser;
let context;
before(async () => {
  browser = await launchBrowser();
  context = await browser.newContext();
  const { page } = await signInWithPassword(context, ADMIN.username, ADMIN.password);
  await page.close();
});
after(async () => { await browser?.close(); });

/** Every WASM file the page fetches, in order; the initial bundle is `heimdall.wasm`. */
function recordWasm(page) {
  const fetched = [];
  page.on('request', (r) => {
    const path = new URL(r.url()).pathname;
    if (path.startsWith('/pkg/') && path.endsWith('.wasm')) fetched.push(path);
  });
  return fetched;
}
const chunks = (fetched) => fetched.filter((p) => p !== '/pkg/heimdall.wasm');

test('a lazily loaded page opened directly fetches its chunk, hydrates and works', async () => {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const fetched = recordWasm(page);
  await page.goto(`${BASE_URL}/admin/audit`);
  await page.waitForSelector('body[data-hydrated="true"]', { timeout: 30_000 });
  assert.ok(fetched.includes('/pkg/heimdall.wasm'), `initial bundle fetched: ${fetched}`);
  assert.ok(chunks(fetched).length > 0, `the audit page's chunk was fetched before hydration: ${fetched}`);
  assert.match(await page.textContent('h1'), /Audit log/);
  await page.getByTestId('audit-row').first().waitFor();
  // The filter reacts on input: it only works once this lazily loaded page is hydrated.
  await page.getByLabel('Filter by action').fill('login.password');
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll('[data-testid="audit-row"] td:nth-child(3)')];
    return rows.length > 0 && rows.every((td) => td.textContent === 'login.password');
  }, null, { timeout: 10_000 });
  assert.deepEqual(errors, [], `browser errors: ${errors.join('; ')}`);
  await page.close();
});

test('navigating from the overview into a lazy section loads its chunk without a page load', async () => {
  const { page, errors } = await openHydrated(context, '/');
  const fetched = recordWasm(page);
  // A full page load would lose this.
  await page.evaluate(() => { window.__stillTheSamePage = true; });
  await page.getByTestId('main-nav').getByText('Tenants').click();
  await page.waitForURL(/\/admin\/tenants$/);
  await page.getByRole('heading', { name: 'Tenants' }).waitFor({ timeout: 15_000 });
  assert.equal(await page.evaluate(() => window.__stillTheSamePage), true, 'client-side navigation');
  assert.ok(chunks(fetched).length > 0, `a chunk was fetched on navigation: ${fetched}`);
  assert.ok(!fetched.includes('/pkg/heimdall.wasm'), 'the initial bundle was not fetched again');
  // Creating a tenant works in the lazily loaded page.
  await page.fill('input[name="slug"]', 'lazy-chunk');
  await page.fill('input[name="name"]', 'Lazy chunk');
  await page.getByRole('button', { name: 'Create tenant' }).click();
  await page.getByTestId('tenant-row').filter({ hasText: 'lazy-chunk' }).waitFor({ timeout: 10_000 });
  assert.deepEqual(errors, [], `browser errors: ${errors.join('; ')}`);
  await page.close();
});
