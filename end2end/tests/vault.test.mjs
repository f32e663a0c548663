// The token vault in a real browser, against the real Keycloak: a user signed in with Keycloak
// adds an offline token on the Vault page (Keycloak's consent redirect and back), a service
// mints an access token from it with the seed's API, Keycloak calls it active; revoking on the
// page (after a confirmation) ends the offline session in Keycloak and minting then fails.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { launchBrowser, openHydrated, signInWithKeycloak, BASE_URL, RESULTS_DIR } from './browser.mjs';

const ISSUER = process.env.HEIMDALL_TEST_KEYCLOAK_ISSUER;
const CLIENT_ID = process.env.HEIMDALL_TEST_KEYCLOAK_CLIENT_ID;
const CLIENT_SECRET = process.env.HEIMDALL_TEST_KEYCLOAK_CLIENT_SECRET;
const BASIC = 'Basic ' + Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64');

let browser;
before(async () => {
  assert.ok(ISSUER, 'HEIMDALL_TEST_KEYCLOAK_ISSUER is unset: run through scripts/heimdall test, which starts Keycloak');
  browser = await launchBrowser();
});
after(async () => { await browser?.close(); });

/** Tokens this test sees go where the secret scan reads them: none may appear in a log. */
function learn(token) {
  if (process.env.HEIMDALL_E2E_SECRETS_FILE && token) appendFileSync(process.env.HEIMDALL_E2E_SECRETS_FILE, `${token}\n`);
}

async function keycloak(path, form) {
  const response = await fetch(`${ISSUER}/protocol/openid-connect/${path}`, {
    method: 'POST',
    headers: { authorization: BASIC, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  return response.json();
}

/** Alice's access token from a password grant (what a service acting for her would hold). */
async function accessToken() {
  const grant = await keycloak('token', { grant_type: 'password', username: 'alice-admin', password: 'alice-password', scope: 'openid' });
  learn(grant.access_token);
  learn(grant.refresh_token);
  return grant.access_token;
}

async function offlineSessions(subject) {
  const { access_token: admin } = await keycloak('token', { grant_type: 'client_credentials' });
  const api = ISSUER.replace('/realms/', '/admin/realms/');
  const headers = { authorization: `Bearer ${admin}` };
  const [client] = await (await fetch(`${api}/clients?clientId=${CLIENT_ID}`, { headers })).json();
  const sessions = await (await fetch(`${api}/users/${subject}/offline-sessions/${client.id}`, { headers })).json();
  return sessions.map((s) => s.id);
}

async function mint(bearer, id) {
  const response = await fetch(`${BASE_URL}/v1/access-token?id=${id}`, { method: 'POST', headers: { authorization: `Bearer ${bearer}` } });
  const body = await response.json();
  learn(body?.data?.access_token);
  return { status: response.status, body };
}

test('an offline token added on the Vault page mints active access tokens until it is revoked there', async () => {
  const context = await browser.newContext();
  await signInWithKeycloak(context, 'alice-admin', 'alice-password');
  const { page, errors } = await openHydrated(context, '/vault');
  await page.getByTestId('vault-add-offline').click();
  // Keycloak knows the browser (its sign-in session): straight back through the callback.
  await page.waitForURL((url) => url.href.startsWith(BASE_URL) && url.pathname === '/vault' && url.searchParams.has('stored'), { timeout: 30_000 });
  const id = new URL(page.url()).searchParams.get('stored');
  await page.waitForSelector('body[data-hydrated="true"]');
  assert.match(await page.getByTestId('vault-notice').textContent(), /Offline token stored/);
  await page.getByTestId('vault-token-row').first().waitFor();
  assert.equal(await page.getByTestId('vault-token-row').count(), 1);

  const bearer = await accessToken();
  const minted = await mint(bearer, id);
  assert.equal(minted.status, 200, JSON.stringify(minted.body));
  const info = await keycloak('token/introspect', { token: minted.body.data.access_token });
  assert.equal(info.active, true);
  assert.equal(info.preferred_username, 'alice-admin');
  const session = (await page.getByTestId('vault-token-row').first().locator('td').nth(2).getAttribute('title'));
  assert.ok((await offlineSessions(info.sub)).includes(session), 'Keycloak holds the offline session');
  await page.reload();
  await page.waitForSelector('body[data-hydrated="true"]');
  await page.getByTestId('vault-session-row').first().waitFor();
  await page.screenshot({ path: `${RESULTS_DIR}vault.png`, fullPage: true });

  // Revoke: a confirmation first (Escape cancels it), then the row goes.
  await page.getByTestId('vault-token-revoke').click();
  const dialog = page.getByRole('alertdialog');
  await dialog.waitFor();
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  assert.equal(await page.getByTestId('vault-token-row').count(), 1, 'cancelled: nothing revoked');
  await page.getByTestId('vault-token-revoke').click();
  await dialog.getByRole('button', { name: 'Revoke' }).click();
  await page.getByTestId('vault-token-row').waitFor({ state: 'detached', timeout: 15_000 });
  await page.getByText('No stored tokens').waitFor();

  assert.ok(!(await offlineSessions(info.sub)).includes(session), 'Keycloak ended the offline session');
  const after = await mint(bearer, id);
  assert.equal(after.status, 404);
  assert.equal(after.body.code, 'token_not_found');
  assert.deepEqual(errors, [], `browser errors: ${errors.join('; ')}`);
  await context.close();
});
