// ForwardAuth through a real nginx (`auth_request`, Debian's build) in front of a small app:
// CARTA sessions from Kubernetes labels, and Heimdall's own sessions for a browser — signed
// out, it is sent to Heimdall's login and comes back to the app.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { launchBrowser, signInWithPassword, ADMIN, BASE_URL, RESULTS_DIR } from './browser.mjs';

const PROXY = process.env.HEIMDALL_E2E_PROXY_URL;
const NS = process.env.HEIMDALL_E2E_CARTA_NAMESPACE;
const KUBECONFIG = process.env.HEIMDALL_TEST_ADMIN_KUBECONFIG;

function kubectl(args, input) {
  return execFileSync('kubectl', ['--kubeconfig', KUBECONFIG, ...args], { input, encoding: 'utf8' });
}

/** A CARTA session as Skaha makes one: a headless Service labelled with session and user. */
function session(name, id, user) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: NS, labels: { 'canfar-net-sessionID': id, 'canfar-net-userid': user } },
    spec: { clusterIP: 'None', ports: [{ port: 6901 }] },
  };
}

/**
 * Asks through nginx until the answer has `status` (bounded): another browser test may cut
 * Heimdall's line to the API server for a moment, and a brand-new session needs one look.
 */
async function throughProxy(path, status, headers = {}) {
  let last;
  for (let i = 0; i < 100; i++) {
    const response = await fetch(PROXY + path, { headers, redirect: 'manual' });
    last = { status: response.status, body: await response.text(), location: response.headers.get('location') };
    if (last.status === status) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`${path}: wanted ${status}, last answer ${JSON.stringify(last)}`);
}

let browser;
before(async () => {
  assert.ok(PROXY && NS && KUBECONFIG, 'the test command sets HEIMDALL_E2E_PROXY_URL, HEIMDALL_E2E_CARTA_NAMESPACE and the admin kubeconfig');
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  try { kubectl(['delete', 'service', '--all', '-n', NS, '--wait=false']); } catch { /* gone */ }
});

test('a live CARTA session reaches the app with its user; an unknown one is refused', async () => {
  kubectl(['apply', '-f', '-'], JSON.stringify(session('carta-e2e', 'e2esession1', 'e2e-carta-user')));
  const passed = await throughProxy('/session/carta/e2esession1/?socketUrl=x', 200);
  assert.match(passed.body, /^carta-auth-token=e2e-carta-user$/m);
  assert.match(passed.body, /^path=\/session\/carta\/e2esession1\//m);

  // An admin sees the session on the ForwardAuth page, its id shortened.
  const context = await browser.newContext();
  const { page, errors } = await signInWithPassword(context, ADMIN.username, ADMIN.password, '/admin/forward-auth');
  const row = page.getByTestId('carta-session').filter({ hasText: 'e2e-carta-user' });
  await row.waitFor();
  assert.match(await row.textContent(), /e2es…/);
  assert.doesNotMatch(await page.textContent('body'), /e2esession1/);
  assert.equal(await page.getByTestId('forward-auth-watch').count(), 2);
  assert.match(await page.getByTestId('forward-auth-return-hosts').textContent(), /127\.0\.0\.1:/);
  await page.screenshot({ path: `${RESULTS_DIR}forward-auth-admin.png`, fullPage: true });
  assert.deepEqual(errors, [], `browser errors: ${errors.join('; ')}`);
  await context.close();

  // The user header a client sends itself never reaches the app.
  const refused = await throughProxy('/session/carta/nosuchsession/', 403, { 'carta-auth-token': 'mallory' });
  assert.doesNotMatch(refused.body, /mallory/);

  // The session ends (its Service goes): refused from then on.
  kubectl(['delete', 'service', 'carta-e2e', '-n', NS]);
  await throughProxy('/session/carta/e2esession1/', 403);
});

test('a signed-out browser is sent to the login and back; signed in, it passes as itself', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${PROXY}/app/reports?week=47`);
  // nginx turned Heimdall's 401 into a redirect to the login, with the way back in `next`.
  await page.waitForURL((url) => url.href.startsWith(`${BASE_URL}/login`));
  assert.equal(new URL(page.url()).searchParams.get('next'), `${PROXY}/app/reports?week=47`);
  await page.waitForSelector('body[data-hydrated="true"]', { timeout: 30_000 });
  await page.fill('input[name="username"]', ADMIN.username);
  await page.fill('input[name="password"]', ADMIN.password);
  await page.getByTestId('login-submit').click();

  await page.waitForURL(`${PROXY}/app/reports?week=47`, { timeout: 15_000 });
  const body = await page.textContent('body');
  assert.match(body, new RegExp(`^x-user=${ADMIN.username}$`, 'm'));
  await page.screenshot({ path: `${RESULTS_DIR}forward-auth-app.png` });

  // Signed in: straight through, no login.
  await page.goto(`${PROXY}/app/other`);
  assert.equal(page.url(), `${PROXY}/app/other`);
  assert.match(await page.textContent('body'), new RegExp(`^x-user=${ADMIN.username}$`, 'm'));

  // A client without the session (another browser's cookies, or none) is turned away.
  const anonymous = await fetch(`${PROXY}/app/other`, { redirect: 'manual' });
  assert.equal(anonymous.status, 302);
  assert.ok(anonymous.headers.get('location').startsWith(`${BASE_URL}/login`));
  await context.close();
});
