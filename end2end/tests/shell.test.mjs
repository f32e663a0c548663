// The app shell in a real browser: hydration, a server function round trip, theme, 404.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openHydrated, signInWithPassword, cspViolations, ADMIN, BASE_URL, RESULTS_DIR } from './browser.mjs';

let context;
before(async () => {
  context = await launch();
  const { page } = await signInWithPassword(context, ADMIN.username, ADMIN.password);
  await page.close();
});
after(async () => { await context?.close(); });

test('the page hydrates and a server function round-trips to the database', async () => {
  const { page, errors } = await openHydrated(context, '/admin/system');
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

test('the System page shows the connected cluster, and no page has a banner for it', async () => {
  const { page } = await openHydrated(context, '/admin/system');
  assert.match(await page.getByTestId('cluster-detail').textContent(), /^v1\.\d+/);
  assert.equal(await page.getByTestId('banner-kubernetes').count(), 0);
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

test('the app runs under its Content Security Policy, which blocks what it must', async () => {
  const { page, errors } = await openHydrated(context, '/admin/system');
  const response = await page.reload();
  await page.waitForSelector('body[data-hydrated="true"]');
  const csp = response.headers()['content-security-policy'];
  assert.match(csp, /script-src 'self' 'nonce-[A-Za-z0-9_-]+' 'wasm-unsafe-eval'/);
  assert.match(csp, /frame-ancestors 'none'/);
  // Hydrated, a server function called, the theme script ran: no violation on the way.
  await page.getByTestId('check-database').click();
  await page.waitForFunction(() => /answered in/.test(
    document.querySelector('[data-testid="database-check-result"]')?.textContent ?? ''));
  assert.deepEqual(await cspViolations(page), []);
  assert.deepEqual(errors, [], `browser errors: ${errors.join('; ')}`);
  // The policy is real: an injected inline script without the nonce does not run, and the
  // page reports the violation (which is what would fail the other tests).
  await page.evaluate(() => {
    const s = document.createElement('script');
    s.textContent = 'window.__injected = true';
    document.body.appendChild(s);
  });
  await page.waitForFunction(() => window.__cspViolations.length > 0, null, { timeout: 5_000 });
  assert.equal(await page.evaluate(() => window.__injected), undefined);
  assert.match((await cspViolations(page))[0], /script-src/);
});

test('the first Tab stop skips to the content, every section has its own title, dialogs give the focus back', async () => {
  const titles = { '/': 'Overview', '/flink': 'Flink jobs', '/pipelines': 'Pipelines', '/catalog': 'Service catalog',
    '/vault': 'Vault', '/account': 'Account', '/admin/users': 'Users', '/admin/tenants': 'Tenants', '/admin/audit': 'Audit log',
    '/admin/system': 'System' };
  for (const [path, title] of Object.entries(titles)) {
    const { page, errors } = await openHydrated(context, path);
    assert.equal(await page.title(), `${title} · Heimdall`, path);
    assert.equal(await page.locator('h2:empty, h1:empty').count(), 0, `${path} has an empty heading`);
    if (path === '/') {
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'skip-link');
      await page.keyboard.press('Enter');
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'main');
    }
    if (path === '/account') {
      // Any confirmation: the one for signing out everywhere (cancelled).
      const opener = page.getByTestId('logout-everywhere');
      await opener.focus();
      await page.keyboard.press('Enter');
      await page.getByRole('alertdialog').waitFor();
      await page.keyboard.press('Escape');
      await page.getByRole('alertdialog').waitFor({ state: 'detached' });
      assert.equal(await opener.evaluate((el) => el === document.activeElement), true, 'the focus is back on the button');
    }
    assert.deepEqual(errors, [], `${path}: ${errors.join('; ')}`);
    await page.close();
  }
});

test('on a phone the sections and the user menu fold behind Menu, which a navigation closes', async () => {
  const { page, errors } = await openHydrated(context, '/');
  await page.setViewportSize({ width: 390, height: 844 });
  const toggle = page.getByTestId('menu-toggle');
  const nav = page.getByTestId('main-nav');
  assert.equal(await nav.isVisible(), false, 'folded at first');
  assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
  await toggle.click();
  assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
  await page.getByTestId('logout').waitFor();
  await nav.getByText('Pipelines').click();
  await page.waitForURL(/\/pipelines$/);
  await nav.waitFor({ state: 'hidden' });
  assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
  // From `md` up the same links are in the header, and there is no Menu button.
  await page.setViewportSize({ width: 1024, height: 800 });
  await nav.waitFor();
  assert.equal(await toggle.isVisible(), false);
  assert.deepEqual(errors, [], `browser errors: ${errors.join('; ')}`);
});
