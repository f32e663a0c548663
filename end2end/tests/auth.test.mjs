// Signing in and out in a real browser: a password, the real Keycloak's own login form, the
// Google stand-in's login pages; what a viewer may see and call.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, openHydrated, signInWithKeycloak, signInWithPassword, ADMIN, BASE_URL, RESULTS_DIR } from './browser.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

test('a signed-out visitor goes to the login page, signs in with a password, and comes back', async () => {
  const context = await browser.newContext();
  const { page, errors } = await signInWithPassword(context, ADMIN.username, ADMIN.password, '/admin/users');
  assert.equal(new URL(page.url()).pathname, '/admin/users');
  assert.equal(await page.getByTestId('user-name').textContent(), ADMIN.username);
  assert.equal(await page.getByTestId('user-role').textContent(), 'admin');
  const nav = await page.getByTestId('main-nav').textContent();
  assert.match(nav, /Users/);
  assert.match(nav, /Audit log/);
  await page.getByTestId('user-row').first().waitFor();
  await page.screenshot({ path: `${RESULTS_DIR}admin-users.png`, fullPage: true });

  // The admin's own role and Deactivate are disabled, with the reason beside them.
  const me = page.getByTestId('user-row').filter({ has: page.getByTestId('self-note') });
  assert.equal(await me.count(), 1);
  assert.match(await me.textContent(), new RegExp(ADMIN.username));
  assert.equal(await me.getByTestId('user-role-select').isDisabled(), true);
  assert.equal(await me.getByTestId('user-active').isDisabled(), true);

  // Another user's role is a draft until saved: nothing is sent on the change itself.
  const name = `dora-${Date.now().toString(36)}`;
  await page.getByTestId('new-username').fill(name);
  await page.getByRole('button', { name: 'Create user' }).click();
  await page.getByTestId('shown-password').waitFor();
  const dora = page.getByTestId('user-row').filter({ hasText: name });
  await dora.waitFor();
  assert.equal(await dora.getByTestId('user-active').isDisabled(), false);
  await dora.getByTestId('user-role-select').selectOption('developer');
  await dora.getByTestId('user-save').waitFor();
  await page.reload();
  await page.waitForSelector('body[data-hydrated="true"]');
  assert.equal(await dora.getByTestId('user-role-select').inputValue(), 'viewer', 'an unsaved change is not kept');
  await dora.getByTestId('user-role-select').selectOption('developer');
  await dora.getByTestId('user-save').click();
  await dora.getByTestId('user-save').waitFor({ state: 'detached' });
  await page.reload();
  await page.waitForSelector('body[data-hydrated="true"]');
  assert.equal(await dora.getByTestId('user-role-select').inputValue(), 'developer', 'a saved one is');
  assert.deepEqual(errors, [], `browser errors: ${errors.join('; ')}`);
  await context.close();
});

test('a wrong password says so and keeps the visitor on the login page', async () => {
  const context = await browser.newContext();
  const { page } = await openHydrated(context, '/login');
  await page.fill('input[name="username"]', ADMIN.username);
  await page.fill('input[name="password"]', 'not-the-password');
  await page.getByTestId('login-submit').click();
  const error = page.getByTestId('form-error');
  await error.waitFor();
  assert.equal(await error.textContent(), 'Wrong username or password');
  assert.equal(new URL(page.url()).pathname, '/login');
  await page.screenshot({ path: `${RESULTS_DIR}login-error.png` });
  await context.close();
});

test('signing out ends the session: pages send the browser back to the login page', async () => {
  const context = await browser.newContext();
  const { page } = await signInWithPassword(context, ADMIN.username, ADMIN.password);
  await page.getByTestId('logout').click();
  await page.waitForURL(/\/login/);
  await page.getByTestId('sign-in-link').waitFor();
  const again = await context.newPage();
  await again.goto(`${BASE_URL}/account`);
  assert.equal(new URL(again.url()).pathname, '/login');
  await context.close();
});

test('signing in through the real Keycloak lands the user with the mapped role', async () => {
  const context = await browser.newContext();
  const { page, errors } = await signInWithKeycloak(context, 'dave-developer', 'dave-password');
  assert.equal(await page.getByTestId('user-role').textContent(), 'developer');
  assert.equal(await page.getByTestId('user-name').textContent(), 'dave@heimdall.test');
  await page.goto(`${BASE_URL}/account`);
  await page.getByTestId('account-role').waitFor();
  assert.equal(await page.getByTestId('account-role').textContent(), 'developer');
  assert.deepEqual(errors, [], `browser errors: ${errors.join('; ')}`);
  await context.close();
});

test('signing in through the Google stand-in creates a viewer', async () => {
  const context = await browser.newContext();
  const { page } = await openHydrated(context, '/login');
  await page.getByTestId('login-google').click();
  // The stand-in's own pages: a login form, then consent.
  await page.waitForSelector('input[name="login"]', { timeout: 30_000 });
  await page.fill('input[name="login"]', 'grace');
  await page.fill('input[name="password"]', 'anything');
  await page.click('button[type="submit"]');
  await page.waitForURL((url) => url.href.startsWith(BASE_URL) || url.pathname.includes('/interaction/'), { timeout: 30_000 });
  if (!page.url().startsWith(BASE_URL)) {
    await page.click('button[type="submit"]');
  }
  await page.waitForURL((url) => url.href.startsWith(BASE_URL) && !url.pathname.startsWith('/auth/'), { timeout: 30_000 });
  await page.getByTestId('user-name').waitFor({ timeout: 15_000 });
  assert.equal(await page.getByTestId('user-name').textContent(), 'grace@gmail.test');
  assert.equal(await page.getByTestId('user-role').textContent(), 'viewer');
  await context.close();
});

test('a viewer sees no admin navigation and the admin server functions refuse them', async () => {
  const context = await browser.newContext();
  const { page } = await signInWithKeycloak(context, 'vera-viewer', 'vera-password');
  assert.equal(await page.getByTestId('user-role').textContent(), 'viewer');
  const nav = await page.getByTestId('main-nav').textContent();
  assert.doesNotMatch(nav, /Users|Tenants|Audit/);
  const status = await page.evaluate(async () => {
    const r = await fetch('/_srv/list_users', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'query=',
    });
    return { status: r.status, body: await r.json() };
  });
  assert.equal(status.status, 403);
  assert.equal(status.body.message, 'this needs the admin role');
  // Typing the address gets the page shell, and the data behind it stays refused.
  await page.goto(`${BASE_URL}/admin/users`);
  await page.waitForSelector('[role="alert"]');
  assert.match(await page.textContent('[role="alert"]'), /This needs the admin role/);
  await page.screenshot({ path: `${RESULTS_DIR}viewer-refused.png` });
  await context.close();
});

test('an API token created on the account page works as a bearer token', async () => {
  const context = await browser.newContext();
  const { page } = await signInWithPassword(context, ADMIN.username, ADMIN.password, '/account');
  await page.getByTestId('token-name').fill('e2e');
  await page.getByTestId('token-create').click();
  const secret = page.getByTestId('token-secret');
  await secret.waitFor();
  const token = (await secret.textContent()).trim();
  assert.match(token, /^hmt_/);
  await page.getByTestId('token-row').first().waitFor();
  const response = await fetch(`${BASE_URL}/users/me`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(response.status, 200);
  assert.equal((await response.json()).username, ADMIN.username);
  await context.close();
});
