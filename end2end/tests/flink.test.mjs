// The Flink jobs page in a real browser against the real kube-apiserver: the list follows
// creates, status changes and deletes without a reload (Server-Sent Events), filters, sort and
// page live in the URL, the drawer shows a job and acts on it after a confirmation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { launchBrowser, openHydrated, signInWithPassword, ADMIN, RESULTS_DIR } from './browser.mjs';

const KUBECONFIG = process.env.HEIMDALL_TEST_ADMIN_KUBECONFIG;
const [NS_A, NS_B] = (process.env.HEIMDALL_E2E_FLINK_NAMESPACES ?? '').split(',');

/** kubectl as cluster admin (the test's own set-up, never Heimdall's credentials). */
function kubectl(args, input) {
  return execFileSync('kubectl', ['--kubeconfig', KUBECONFIG, ...args], { input, encoding: 'utf8' });
}

function deployment(ns, name, { labels = {}, parallelism = 2, session = false } = {}) {
  const spec = {
    image: `registry.example.com/streaming/${name}:1.0`,
    flinkVersion: 'v1_17',
    flinkConfiguration: { 'taskmanager.numberOfTaskSlots': '2' },
    serviceAccount: 'flink',
    jobManager: { replicas: 1, resource: { cpu: 1, memory: '2048m' } },
    taskManager: { replicas: 2, resource: { cpu: 2, memory: '4096m' } },
  };
  if (!session) spec.job = { jarURI: 'local:///opt/flink/job.jar', parallelism, state: 'running', upgradeMode: 'savepoint' };
  return { apiVersion: 'flink.apache.org/v1beta1', kind: 'FlinkDeployment', metadata: { name, namespace: ns, labels }, spec };
}

const create = (...objects) => kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
const setStatus = (ns, name, status) =>
  kubectl(['patch', 'flinkdeployment', name, '-n', ns, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })]);
const remove = (ns, name) => kubectl(['delete', 'flinkdeployment', name, '-n', ns, '--wait=false']);

let browser;
let context;
before(async () => {
  assert.ok(KUBECONFIG && NS_A && NS_B, 'the test command provides the cluster and namespaces');
  // Applied, not created: the accessibility test (which runs first) may have made one.
  for (const ns of [NS_A, NS_B]) kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }));
  browser = await launchBrowser();
  context = await browser.newContext();
  const { page } = await signInWithPassword(context, ADMIN.username, ADMIN.password);
  await page.close();
});
after(async () => {
  for (const ns of [NS_A, NS_B]) { try { kubectl(['delete', 'namespace', ns, '--wait=false']); } catch { /* gone */ } }
  await browser?.close();
});

/** The names in the list, once the list shows the view its address asks for (the server cuts
 * it: after a filter, sort or page change the new rows arrive over the feed). */
const rowNames = async (page) => {
  await page.locator('[data-testid="jobs-list"][aria-busy="false"]').waitFor();
  return page.getByTestId('job-name').allTextContents();
};

test('the job list follows the cluster live, without a reload', async () => {
  create(deployment(NS_A, 'orders', { labels: { team: 'payments' } }), deployment(NS_B, 'clicks', { parallelism: 8 }));
  const { page, errors } = await openHydrated(context, '/flink');
  await page.waitForSelector('[data-testid="feed-status"] [data-state="live"]');
  await page.getByTestId('job-row').filter({ hasText: 'orders' }).waitFor();
  await page.getByTestId('job-row').filter({ hasText: 'clicks' }).waitFor();
  let navigations = 0;
  page.on('framenavigated', (f) => { if (f === page.mainFrame()) navigations += 1; });

  // A status change (the operator's status subresource) shows up in the open page.
  setStatus(NS_A, 'orders', { jobStatus: { state: 'RUNNING', startTime: '1700000000000' }, lifecycleState: 'STABLE' });
  const orders = page.locator(`[data-key="${NS_A}/orders"]`);
  await orders.getByTestId('job-status').filter({ hasText: 'RUNNING' }).waitFor();
  // Relative in the page ("1119 d ago"), the moment itself in the element and on hover.
  const started = orders.getByTestId('job-started').locator('time');
  assert.equal(await started.getAttribute('datetime'), '2023-11-14T22:13:20+00:00');
  assert.match(await started.textContent(), /^\d+ d ago$/);
  assert.match(await started.getAttribute('title'), /2023/);

  // A new job appears, a deleted one disappears.
  create(deployment(NS_B, 'fraud'));
  await page.locator(`[data-key="${NS_B}/fraud"]`).waitFor();
  remove(NS_B, 'clicks');
  await page.locator(`[data-key="${NS_B}/clicks"]`).waitFor({ state: 'detached' });
  assert.equal(navigations, 0, 'no reload happened');
  // The configured endpoint patterns are links that open in a new tab.
  const ui = orders.getByRole('link', { name: /Flink UI/ });
  assert.equal(await ui.getAttribute('href'), `https://flink.example.com/${NS_A}/orders/`);
  assert.equal(await ui.getAttribute('target'), '_blank');
  assert.deepEqual(errors, [], `browser errors: ${errors.join('; ')}`);
  await page.close();
});

test('filters, sort and page are in the URL and survive a reload', async () => {
  setStatus(NS_B, 'fraud', { jobStatus: { state: 'FAILED' }, error: 'java.lang.OutOfMemoryError' });
  const { page } = await openHydrated(context, '/flink');
  await page.locator(`[data-key="${NS_B}/fraud"]`).getByTestId('job-status').filter({ hasText: 'FAILED' }).waitFor();
  // A failed job says why under its name, without opening it.
  assert.equal(await page.locator(`[data-key="${NS_B}/fraud"]`).getByTestId('job-error-line').textContent(), 'java.lang.OutOfMemoryError');

  await page.getByTestId('namespace-filter').selectOption(NS_A);
  await page.waitForURL(new RegExp(`ns=${NS_A}`));
  assert.deepEqual(await rowNames(page), ['orders']);
  await page.getByTestId('namespace-filter').selectOption('');

  // Name is the default (ascending) sort: one click turns it round. Then reload: the order and
  // the URL stay.
  await page.getByTestId('sort-name').click();
  await page.waitForURL(/sort=name&dir=desc/);
  const mine = (names) => names.filter((n) => ['orders', 'fraud'].includes(n));
  assert.deepEqual(mine(await rowNames(page)), ['orders', 'fraud']);
  await page.reload();
  await page.waitForSelector('body[data-hydrated="true"]');
  await page.getByTestId('job-row').first().waitFor();
  assert.deepEqual(mine(await rowNames(page)), ['orders', 'fraud']);

  // `/` focuses the name filter from anywhere on the page; typing filters.
  await page.keyboard.press('/');
  await page.keyboard.type('fra');
  await page.waitForURL(/q=fra/);
  assert.deepEqual(await rowNames(page), ['fraud']);

  // Cards show the same jobs.
  await page.getByTestId('view-cards').click();
  await page.waitForURL(/view=cards/);
  assert.equal(await page.getByTestId('job-card').count(), 1);
  await page.close();
});

test('the drawer shows a job and a suspend needs a confirmation', async () => {
  const { page, errors } = await openHydrated(context, `/flink?job=${NS_A}/orders`);
  const drawer = page.getByTestId('job-drawer');
  await drawer.waitFor();
  assert.match(await drawer.textContent(), /lifecycle STABLE/);
  await drawer.getByTestId('load-yaml').click();
  assert.match(await drawer.getByTestId('job-yaml').textContent(), /kind: FlinkDeployment/);

  await drawer.getByTestId('action-suspend').click();
  const dialog = page.getByRole('alertdialog');
  await dialog.waitFor();
  assert.match(await dialog.textContent(), /Suspend/);
  // The operator updates the job while the question is open: the drawer follows, the
  // question stays.
  setStatus(NS_A, 'orders', { error: 'checkpoint 7 expired before completing' });
  await drawer.getByTestId('job-error').filter({ hasText: 'checkpoint 7 expired' }).waitFor();
  assert.equal(await dialog.isVisible(), true, 'the confirmation survives a live update');
  assert.equal(await drawer.getByTestId('job-yaml').count(), 1, 'so does the loaded YAML');
  await dialog.getByRole('button', { name: 'Suspend' }).click();
  // The spec changes in the cluster, and the drawer follows it (Resume replaces Suspend).
  await drawer.getByTestId('action-resume').waitFor();
  assert.equal(kubectl(['get', 'flinkdeployment', 'orders', '-n', NS_A, '-o', 'jsonpath={.spec.job.state}']), 'suspended');
  await page.screenshot({ path: `${RESULTS_DIR}flink-drawer.png` });

  // Escape closes the drawer and the URL forgets the job.
  await page.keyboard.press('Escape');
  await drawer.waitFor({ state: 'detached' });
  assert.doesNotMatch(page.url(), /job=/);
  assert.deepEqual(errors, [], `browser errors: ${errors.join('; ')}`);
  await page.close();
});

test('the overview counts the failed job, says why, opens the filtered list and follows a change live', async () => {
  const { page, errors } = await openHydrated(context, '/');
  const tile = page.getByTestId('tile-flink-failed');
  await page.waitForFunction(() => document.querySelector('[data-testid="tile-flink-failed"]')?.dataset.count === '1');
  assert.match(await tile.getByTestId('tile-detail').textContent(), /^fraud: java\.lang\.OutOfMemoryError$/);
  await page.waitForFunction(() => document.querySelector('[data-testid="home-feed"]')?.textContent === 'Live');
  // Another job fails in the cluster: the count follows without a reload.
  setStatus(NS_A, 'orders', { jobStatus: { state: 'FAILED' }, error: 'org.apache.flink.runtime.JobException: Recovery is suppressed' });
  await page.waitForFunction(() => document.querySelector('[data-testid="tile-flink-failed"]')?.dataset.count === '2', null, { timeout: 15_000 });
  await tile.click();
  await page.waitForURL(/\/flink\?status=FAILED$/);
  assert.deepEqual((await rowNames(page)).sort(), ['fraud', 'orders']);
  // The System page keeps the counts by state.
  const { page: system } = await openHydrated(context, '/admin/system');
  assert.match(await system.getByTestId('job-counts').textContent(), /^\d+ jobs · .*FAILED 2/);
  setStatus(NS_A, 'orders', { jobStatus: { state: 'RUNNING' }, error: null });
  assert.deepEqual(errors, [], `browser errors: ${errors.join('; ')}`);
  // Each open page holds a live stream, and a browser opens at most six connections to one
  // HTTP/1.1 origin: every test here closes its pages.
  await Promise.all([page.close(), system.close()]);
});

test('a few dozen jobs in mixed states, in light and dark (the README screenshots)', async () => {
  const teams = ['payments', 'search', 'ads', 'risk', 'growth'];
  const states = ['RUNNING', 'RUNNING', 'RUNNING', 'FAILED', 'FINISHED', 'RECONCILING', 'CREATED', 'SUSPENDED', 'CANCELED'];
  const names = ['orders-enricher', 'clickstream-sessionizer', 'fraud-scoring', 'ad-impressions', 'inventory-sync',
    'search-indexer', 'payment-ledger', 'user-activity', 'recommendations', 'geo-aggregator', 'alerts-router', 'billing-events'];
  const objects = [];
  for (let i = 0; i < 30; i += 1) {
    const name = `${names[i % names.length]}-${Math.floor(i / names.length) + 1}`;
    objects.push(deployment(NS_B, name, { labels: { team: teams[i % teams.length] }, parallelism: 1 + (i % 6) * 2, session: i % 11 === 5 }));
  }
  create(...objects);
  objects.forEach((o, i) => {
    const state = states[i % states.length];
    setStatus(NS_B, o.metadata.name, {
      jobStatus: { state, startTime: String(1763900000000 + i * 3_600_000) },
      lifecycleState: state === 'FAILED' ? 'FAILED' : state === 'SUSPENDED' ? 'SUSPENDED' : 'STABLE',
      ...(state === 'FAILED' ? { error: 'org.apache.flink.runtime.JobException: Recovery is suppressed' } : {}),
    });
  });
  const { page, errors } = await openHydrated(context, `/flink?ns=${NS_B}&size=50`);
  await page.setViewportSize({ width: 1440, height: 1000 });
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid="job-row"]').length >= n, 30, { timeout: 15_000 });
  assert.match(await page.getByTestId('status-chips').textContent(), /FAILED · 4/);
  const dark = () => page.evaluate(() => document.documentElement.classList.contains('dark'));
  if (await dark()) await page.getByTestId('theme-toggle').click();
  await page.screenshot({ path: `${RESULTS_DIR}flink-light.png` });
  await page.getByTestId('theme-toggle').click();
  assert.equal(await dark(), true);
  await page.screenshot({ path: `${RESULTS_DIR}flink-dark.png` });
  await page.getByTestId('theme-toggle').click();
  assert.deepEqual(errors, [], `browser errors: ${errors.join('; ')}`);
  await page.close();
});

test('when the API server goes away the page keeps its list, says it is stale, and recovers', async () => {
  const relay = process.env.HEIMDALL_E2E_RELAY;
  assert.ok(relay, 'the test command runs the API server behind a relay');
  const { page } = await openHydrated(context, `/flink?ns=${NS_A}`);
  // The watch retries at most 8 s apart (plus jitter), then relists.
  const state = (s) => page.waitForSelector(`[data-testid="feed-status"] [data-state="${s}"]`, { timeout: 45_000 });
  await state('live');
  await page.locator(`[data-key="${NS_A}/orders"]`).waitFor();
  let navigations = 0;
  page.on('framenavigated', (f) => { if (f === page.mainFrame()) navigations += 1; });
  // The home page, open meanwhile, gains a "not in sync" count and loses it again, live.
  const { page: home } = await openHydrated(context, '/');
  await home.waitForFunction(() => document.querySelector('[data-testid="home-feed"]')?.textContent === 'Live');
  assert.equal(await home.getByTestId('tile-flink-sync').count(), 0);

  await fetch(`${relay}/stop`, { method: 'POST' });
  await state('stale');
  await home.getByTestId('tile-flink-sync').waitFor({ timeout: 45_000 });
  assert.equal(await home.getByTestId('tile-flink-sync').getAttribute('href'), '/flink');
  assert.equal(await page.locator(`[data-key="${NS_A}/orders"]`).count(), 1, 'the last list stays');
  await page.screenshot({ path: `${RESULTS_DIR}flink-stale.png` });

  // Created while Heimdall cannot see the API server; shown once it can again.
  create(deployment(NS_A, 'after-outage'));
  await fetch(`${relay}/start`, { method: 'POST' });
  await state('live');
  await page.locator(`[data-key="${NS_A}/after-outage"]`).waitFor({ timeout: 30_000 });
  assert.equal(navigations, 0, 'no reload happened');
  await home.getByTestId('tile-flink-sync').waitFor({ state: 'detached', timeout: 45_000 });
  await Promise.all([page.close(), home.close()]);
});
