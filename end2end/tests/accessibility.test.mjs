// Every page on a phone (390×844) and a desktop (1440×900), in light and in dark: nothing wider
// than the screen (WCAG's reflow), and zero serious or critical findings of axe-core (from npm,
// run inside the page). The pages hold real data: Flink jobs in the real API server (one
// failed), a pipeline waiting at its gate, a catalog service. It also takes the README's
// screenshots (end2end/test-results/screens/).
//
// It runs first of the browser files (by name) and leaves no Flink job behind: the Flink test
// counts the rows it makes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { launchBrowser, openHydrated, signInWithPassword, srv, createUser, ADMIN, BASE_URL, RESULTS_DIR, bearer } from './browser.mjs';

const KUBECONFIG = process.env.HEIMDALL_TEST_ADMIN_KUBECONFIG;
const [NS] = (process.env.HEIMDALL_E2E_FLINK_NAMESPACES ?? '').split(',');
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const SCREENS_DIR = `${RESULTS_DIR}screens/`;
mkdirSync(SCREENS_DIR, { recursive: true });

const SIZES = { phone: { width: 390, height: 844 }, desktop: { width: 1440, height: 900 } };
const THEMES = ['light', 'dark'];
const JOBS = ['a11y-orders', 'a11y-clicks', 'a11y-payments'];

function kubectl(args, input) {
  return execFileSync('kubectl', ['--kubeconfig', KUBECONFIG, ...args], { input, encoding: 'utf8' });
}

function flinkDeployment(name) {
  return {
    apiVersion: 'flink.apache.org/v1beta1', kind: 'FlinkDeployment',
    metadata: { name, namespace: NS, labels: { team: 'streaming' } },
    spec: {
      image: `registry.example.com/streaming/${name}:1.0`, flinkVersion: 'v1_17', serviceAccount: 'flink',
      jobManager: { replicas: 1, resource: { cpu: 1, memory: '2048m' } },
      taskManager: { replicas: 2, resource: { cpu: 2, memory: '4096m' } },
      job: { jarURI: 'local:///opt/flink/job.jar', parallelism: 4, state: 'running', upgradeMode: 'savepoint' },
    },
  };
}

const setStatus = (name, status) =>
  kubectl(['patch', 'flinkdeployment', name, '-n', NS, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })]);

async function json(method, path, token, body) {
  const response = await fetch(`${BASE_URL}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  const answer = await response.json();
  assert.ok(response.ok, `${method} ${path}: ${response.status} ${JSON.stringify(answer)}`);
  return answer;
}

let browser;
let pipelineId;
let serviceId;
before(async () => {
  assert.ok(KUBECONFIG && NS, 'the test command provides the cluster and the watched namespaces');
  kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }));
  kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: JOBS.map(flinkDeployment) }));
  setStatus(JOBS[0], { jobStatus: { state: 'RUNNING', startTime: String(Date.now() - 3 * 86_400_000) }, lifecycleState: 'STABLE', jobManagerDeploymentStatus: 'READY' });
  setStatus(JOBS[1], { jobStatus: { state: 'FAILED' }, lifecycleState: 'STABLE', jobManagerDeploymentStatus: 'READY', error: 'java.lang.OutOfMemoryError: Java heap space in the window operator' });

  browser = await launchBrowser();
  const context = await browser.newContext();
  const { page: admin } = await signInWithPassword(context, ADMIN.username, ADMIN.password);
  const tenant = await srv(admin, 'create_tenant', 'slug=a11y&name=Accessibility');
  assert.equal(tenant.status, 200, JSON.stringify(tenant.body));
  const password = await createUser(admin, 'ada-a11y', 'developer', tenant.body.id);
  await context.close();

  // A pipeline at its gate, with an artifact; a service with two environments.
  const token = await bearer('ada-a11y', password);
  pipelineId = (await json('POST', '/api/v1/jobs', token, { slug: 'episode-1', intent: 'narrative history' })).id;
  await json('POST', `/api/v1/jobs/${pipelineId}/claim`, token);
  await json('POST', `/api/v1/jobs/${pipelineId}/stages/outline/report`, token, { outcome: 'succeeded' });
  await json('POST', `/api/v1/jobs/${pipelineId}/stages/research/report`, token, {
    outcome: 'succeeded', artifacts: [{ name: 'research.md', uri: 's3://episodes/1/research.md' }],
  });
  const adminToken = await bearer(ADMIN.username, ADMIN.password);
  serviceId = (await json('POST', '/services', adminToken, {
    name: 'checkout', tenant: 'a11y', repo_url: 'https://git.example.com/checkout', owner_team: 'Shop',
    runtime: 'go', tier: 'tier-1', environments: ['dev', 'prod'], tags: ['shop', 'pci'],
    description: 'Takes the money.',
  })).id;
});
after(async () => {
  try { kubectl(['delete', 'flinkdeployment', ...JOBS, '-n', NS, '--wait=true']); } catch { /* gone */ }
  await browser?.close();
});

/** Every page, with what shows it is drawn (data loaded, not a spinner). */
const PAGES = () => [
  { name: 'overview', path: '/', ready: '[data-testid="tile-approvals"]' },
  { name: 'flink', path: '/flink', ready: '[data-testid="job-name"]' },
  { name: 'flink-job', path: `/flink?job=${NS}/${JOBS[1]}`, ready: '[data-testid="job-drawer"]' },
  { name: 'pipelines', path: '/pipelines', ready: '[data-testid="pipeline-row"]' },
  { name: 'pipeline', path: `/pipelines/${pipelineId}`, ready: '[data-testid="gate-card"]' },
  { name: 'pipeline-new', path: '/pipelines', ready: '[data-testid="pipeline-row"]', act: async (page) => {
    await page.getByTestId('pipeline-new').click();
    await page.getByTestId('pipeline-form').waitFor();
  } },
  { name: 'gate-dialog', path: `/pipelines/${pipelineId}`, ready: '[data-testid="gate-card"]', act: async (page) => {
    await page.getByTestId('gate-approve').first().click();
    await page.getByRole('alertdialog').waitFor();
  } },
  { name: 'catalog', path: '/catalog', ready: '[data-testid="service-row"]' },
  { name: 'service', path: `/catalog/${serviceId}`, ready: '[data-testid="environment"]' },
  { name: 'service-new', path: '/catalog/new', ready: '[data-testid="service-form"]' },
  { name: 'vault', path: '/vault', ready: 'main h1' },
  { name: 'account', path: '/account', ready: '[data-testid="account-username"]' },
  { name: 'users', path: '/admin/users', ready: '[data-testid="user-row"]' },
  { name: 'tenants', path: '/admin/tenants', ready: '[data-testid="tenant-row"]' },
  { name: 'audit', path: '/admin/audit', ready: '[data-testid="audit-row"]' },
  { name: 'forward-auth', path: '/admin/forward-auth', ready: 'main h1' },
  { name: 'system', path: '/admin/system', ready: '[data-testid="db-backend"]' },
  { name: 'not-found', path: '/no/such/page', ready: 'main h1' },
  { name: 'docs', path: '/docs', ready: 'h1', plain: true },
];
const SIGNED_OUT = [
  { name: 'login', path: '/login', ready: '[data-testid="login-form"]' },
  { name: 'register', path: '/register', ready: 'main h1' },
];
/** The phone's menu, opened (its links and the user menu). */
const MENU = { name: 'menu', path: '/', ready: '[data-testid="tile-approvals"]', act: async (page) => {
  await page.getByTestId('menu-toggle').click();
  await page.getByTestId('user-name').waitFor();
} };

/** What is wrong with the page as drawn: elements wider than the screen, axe's serious and critical. */
async function findings(page) {
  const overflow = await page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    if (document.documentElement.scrollWidth <= width) return [];
    // The outermost elements that stick out, so the report names the culprit, not its parents.
    const out = [...document.querySelectorAll('body *')].filter((el) => el.getBoundingClientRect().right > width + 1);
    return out.filter((el) => !out.includes(el.parentElement) || el.parentElement.getBoundingClientRect().right <= width + 1)
      .slice(0, 5)
      .map((el) => `${el.tagName.toLowerCase()}${el.dataset.testid ? `[${el.dataset.testid}]` : ''}.${[...el.classList].slice(0, 4).join('.')} right=${Math.round(el.getBoundingClientRect().right)}`)
      .concat([`page ${document.documentElement.scrollWidth}px wide on a ${width}px screen`]);
  });
  await page.evaluate(AXE);
  const axe = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.impact} ${v.id}: ${v.nodes.slice(0, 3).map((n) => `${n.target.join(' ')} (${(n.any[0]?.message ?? n.failureSummary ?? '').split('\n')[0]})`).join(' | ')}${v.nodes.length > 3 ? ` and ${v.nodes.length - 3} more` : ''}`);
  });
  return [...overflow.map((o) => `overflow ${o}`), ...axe];
}

async function visit(context, { name, path, ready, plain, act }, size, theme, problems) {
  let page;
  if (plain) {
    page = await context.newPage();
    await page.goto(BASE_URL + path);
  } else {
    ({ page } = await openHydrated(context, path));
  }
  await page.locator(ready).first().waitFor({ timeout: 15_000 });
  // Nothing still loading inside the page.
  await page.waitForFunction(() => !document.querySelector('main .animate-spin'), null, { timeout: 15_000 });
  if (act) await act(page);
  for (const found of await findings(page)) problems.push(`${name} ${size} ${theme}: ${found}`);
  await page.screenshot({ path: `${SCREENS_DIR}${name}-${size}-${theme}.png` });
  await page.close();
}

for (const [size, viewport] of Object.entries(SIZES)) {
  for (const theme of THEMES) {
    test(`every page at ${viewport.width}×${viewport.height} in ${theme}: no overflow, no serious accessibility fault`, async () => {
      const problems = [];
      const signedOut = await browser.newContext({ viewport, colorScheme: theme });
      for (const p of SIGNED_OUT) await visit(signedOut, p, size, theme, problems);
      await signedOut.close();
      const context = await browser.newContext({ viewport, colorScheme: theme });
      const { page } = await signInWithPassword(context, ADMIN.username, ADMIN.password);
      await page.close();
      for (const p of PAGES()) await visit(context, p, size, theme, problems);
      if (size === 'phone') await visit(context, MENU, size, theme, problems);
      await context.close();
      assert.deepEqual(problems, [], `\n${problems.join('\n')}`);
    });
  }
}
