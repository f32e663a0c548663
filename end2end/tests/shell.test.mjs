// The app shell in a real browser: hydration, a server function round trip, theme, 404.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openHydrated, signInWithPassword, ADMIN, BASE_URL, RESULTS_DIR } from './browser.mjs';

let context;
before(async () => {
  context = await launch();
  const { page } = await signInWithPassword(context, ADMIN.username, ADMIN.password);
  await page.close();
});
after(async () => { await context?.close(); });

test('the page hydrates and a server function round-trips to the database', async () => {
  const { page, errors } = await openHydrated(context, '/');
  const result = page.getByTestId('database-check-result');
  assert.equal(await result.textContent(), 'Not checked yet.');
  // This button has no form behind it: it only works once the WASM app is hydrated.
  await page.getByTestId('check-database').click();
  await page.waitForFunction(
    () => /answered in [\d.]+ ms · \d+ user\(s\)/.test(
      document.querySelector('[data-testid="database-check-result"]')?.textContent ?? ''),
    null,
    { timeout: 10_000 },
  );
  const text = await result.textContent();
  assert.match(text, /^(sqlite|postgresql) \S+ answered in [\d.]+ ms · \d+ user\(s\)$/);
  await page.screenshot({ path: `${RESULTS_DIR}home.png`, fullPage: true });
  assert.deepEqual(errors, [], `browser errors: ${errors.join('; ')}`);
});

test('the overview states that Kubernetes is not configured', async () => {
  const { page } = await openHydrated(context, '/');
  const banner = page.getByTestId('banner-kubernetes');
  assert.match(await banner.textContent(), /Kubernetes is not configured/);
  assert.match(await page.getByTestId('db-backend').textContent(), /^(sqlite|postgresql)$/);
});

test('the theme toggle switches to dark and the choice survives a reload', async () => {
  const { page } = await openHydrated(context, '/');
  const isDark = () => page.evaluate(() => document.documentElement.classList.contains('dark'));
  const before = await isDark();
  await page.getByTestId('theme-toggle').click();
  assert.equal(await isDark(), !before);
  await page.reload();
  await page.waitForSelector('body[data-hydrated="true"]');
  assert.equal(await isDark(), !before);
  await page.screenshot({ path: `${RESULTS_DIR}home-${before ? 'light' : 'dark'}.png`, fullPage: true });
});

test('an unknown address shows the 404 page with status 404', async () => {
  const page = await context.newPage();
  const response = await page.goto(`${BASE_URL}/definitely/not/here`);
  assert.equal(response.status(), 404);
  assert.match(await page.textContent('h1'), /There is no page here/);
});
