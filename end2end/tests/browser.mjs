// Shared browser set-up: Debian's Chromium driven by playwright-core (never a downloaded browser).
import { chromium } from 'playwright-core';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';

export const BASE_URL = process.env.HEIMDALL_E2E_URL ?? 'http://127.0.0.1:3000';
export const RESULTS_DIR = new URL('../test-results/', import.meta.url).pathname;
mkdirSync(RESULTS_DIR, { recursive: true });

const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** Launches Chromium with a fresh profile; the caller closes it. */
export async function launch() {
  const userDataDir = mkdtempSync(join(tmpdir(), 'heimdall-e2e-'));
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: FLAGS,
  });
}

/** Records every Content Security Policy violation of the page in `window.__cspViolations`. */
const CSP_WATCH = () => {
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`);
  });
};

/** The CSP violations `page` has seen so far. */
export async function cspViolations(page) {
  return page.evaluate(() => window.__cspViolations ?? []);
}

/**
 * Opens `path` and waits until `hydrate()` has finished (it sets `data-hydrated` on <body>).
 * `errors` collects uncaught exceptions and Content Security Policy violations.
 */
export async function openHydrated(context, path = '/') {
  const page = await context.newPage();
  const errors = [];
  await page.addInitScript(CSP_WATCH);
  page.on('pageerror', (e) => errors.push(e.message));
  // Heimdall's own pages only: a test may follow the page to Keycloak or the Google stand-in,
  // whose policies are theirs.
  page.on('console', (m) => {
    const from = m.location()?.url ?? page.url();
    if (/Content Security Policy/i.test(m.text()) && from.startsWith(BASE_URL)) errors.push(`CSP: ${m.text()}`);
  });
  // What the page said and what it could not fetch: a page that never hydrates says why in the
  // test's failure, not only "timeout".
  const said = [];
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') said.push(`console ${m.type()}: ${m.text()}`); });
  page.on('requestfailed', (r) => said.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));
  const pending = new Set();
  const asked = [];
  page.on('request', (r) => { pending.add(r); if (!r.url().includes('/pkg/')) asked.push(`${r.method()} ${r.url().replace(BASE_URL, '')}`); });
  page.on('requestfinished', (r) => pending.delete(r));
  page.on('requestfailed', (r) => pending.delete(r));
  await page.goto(BASE_URL + path);
  try {
    await page.waitForSelector('body[data-hydrated="true"]', { timeout: 30_000 });
  } catch (e) {
    const state = await page.evaluate(() => `readyState ${document.readyState}`).catch((x) => String(x));
    throw new Error(`${e.message}\n${path} did not hydrate (${state}); page errors: ${JSON.stringify(errors)}; ${JSON.stringify(said)}; unanswered: ${JSON.stringify([...pending].map((r) => r.url()))}; asked: ${JSON.stringify(asked)}`);
  }
  errors.push(...(await cspViolations(page)).map((v) => `CSP: ${v}`));
  return { page, errors };
}

/** A fresh browser (no shared cookies between its contexts); the caller closes it. */
export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: FLAGS,
  });
}

/** The bootstrap admin the test command read from the server's first-start message. */
export const ADMIN = {
  username: process.env.HEIMDALL_E2E_ADMIN_USERNAME ?? 'admin',
  password: process.env.HEIMDALL_E2E_ADMIN_PASSWORD,
};

/** Signs in on Heimdall's login page with a password; resolves on the page after sign-in. */
export async function signInWithPassword(context, username, password, path = '/') {
  const { page, errors } = await openHydrated(context, path);
  await page.waitForURL(/\/login/);
  await page.fill('input[name="username"]', username);
  await page.fill('input[name="password"]', password);
  await page.getByTestId('login-submit').click();
  // Attached, not visible: on a phone the user menu sits in the folded menu.
  await page.getByTestId('user-name').waitFor({ state: 'attached', timeout: 15_000 });
  return { page, errors };
}

/** From Heimdall's login page through Keycloak's own form, back to Heimdall. */
export async function signInWithKeycloak(context, username, password) {
  const { page, errors } = await openHydrated(context, '/login');
  await page.getByTestId('login-keycloak').click();
  await page.waitForSelector('#kc-login', { timeout: 30_000 });
  await page.fill('#username', username);
  await page.fill('#password', password);
  await page.click('#kc-login');
  await page.waitForURL((url) => url.href.startsWith(BASE_URL) && !url.pathname.startsWith('/auth/'), { timeout: 30_000 });
  await page.waitForSelector('body[data-hydrated="true"]');
  await page.getByTestId('user-name').waitFor({ state: 'attached', timeout: 15_000 });
  return { page, errors };
}

/** A bearer JWT for `username` from the seed's `/auth/jwt/login`. */
export async function bearer(username, password) {
  const response = await fetch(`${BASE_URL}/auth/jwt/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username, password }),
  });
  assert.equal(response.status, 200);
  return (await response.json()).access_token;
}

/** A server function called from `page` (its session, same origin). */
export async function srv(page, name, body) {
  return page.evaluate(async ([name, body]) => {
    const r = await fetch(`/_srv/${name}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    return { status: r.status, body: await r.json().catch(() => null) };
  }, [name, body]);
}

/** Creates a user of `role` in `tenantId` through the admin's server functions; returns the password. */
export async function createUser(adminPage, username, role, tenantId) {
  const password = `${username}-password-e2e`;
  const created = await srv(adminPage, 'create_user',
    new URLSearchParams({ 'form[username]': username, 'form[role]': role, 'form[password]': password }).toString());
  assert.equal(created.status, 200, JSON.stringify(created.body));
  const tenants = await srv(adminPage, 'set_user_tenants', `id=${created.body.user.id}&tenant_ids[0]=${tenantId}`);
  assert.equal(tenants.status, 200, JSON.stringify(tenants.body));
  return password;
}

