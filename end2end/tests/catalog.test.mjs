// The service catalog in real browsers against the real API server: an admin registers a
// service on the page (a refused field says why beside it), Dora (developer) provisions prod
// and asks for a deploy there; it waits for approval, Arno (developer) approves on the
// pipeline's page, and the Deployment appears — Dora's page follows every step live. A second
// deploy is rejected and applies nothing. Then deprovision, and the admin deletes the service.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { launchBrowser, openHydrated, signInWithPassword, srv, createUser, ADMIN, BASE_URL, RESULTS_DIR } from './browser.mjs';

const KUBECONFIG = process.env.HEIMDALL_TEST_ADMIN_KUBECONFIG;

/** kubectl as cluster admin (the test's own look at the cluster, never Heimdall's credentials). */
function kubectl(args) {
  return execFileSync('kubectl', ['--kubeconfig', KUBECONFIG, ...args], { encoding: 'utf8' });
}

/** The Deployment `name` in `ns`, or null. */
function deploymentOf(ns, name) {
  try {
    return JSON.parse(kubectl(['get', 'deployment', name, '-n', ns, '-o', 'json']));
  } catch {
    return null;
  }
}

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

const env = (page, name) => page.locator(`[data-testid="environment"][data-env="${name}"]`);

/** Waits until the environment's deploy (or provision) chip reads `text`. */
async function chipIs(page, name, which, text) {
  await page.waitForFunction(
    ([name, which, text]) => document
      .querySelector(`[data-testid="environment"][data-env="${name}"] [data-testid="env-${which}"]`)
      ?.textContent.trim() === text,
    [name, which, text],
    { timeout: 20_000 },
  );
}

/** Opens the confirmation with `button`, fills its `fields` (test id → value), and confirms it
 * with `label`. */
async function confirm(page, button, label, fields = {}) {
  await button.click();
  const dialog = page.getByRole('alertdialog');
  await dialog.waitFor();
  for (const [id, value] of Object.entries(fields)) await dialog.getByTestId(id).fill(value);
  await dialog.getByRole('button', { name: label }).click();
  await dialog.waitFor({ state: 'detached' });
}

test('a deploy to prod waits for approval in another browser, then the Deployment appears; a rejection applies nothing', async () => {
  const suffix = Date.now().toString(36);
  const tenantSlug = `cat-${suffix}`;
  const service = `shop-${suffix}`;
  const namespace = `${tenantSlug}-${service}-prod`;

  // The admin registers the service on the page; a bad URL is refused beside its field.
  const adminContext = await browser.newContext();
  const { page: admin, errors: adminErrors } = await signInWithPassword(adminContext, ADMIN.username, ADMIN.password, '/catalog');
  const tenant = await srv(admin, 'create_tenant', `slug=${tenantSlug}&name=Shop`);
  assert.equal(tenant.status, 200, JSON.stringify(tenant.body));
  const dora = { name: `dora-${suffix}`, password: await createUser(admin, `dora-${suffix}`, 'developer', tenant.body.id) };
  const arno = { name: `arno-${suffix}`, password: await createUser(admin, `arno-${suffix}`, 'developer', tenant.body.id) };
  await admin.getByTestId('service-new').click();
  await admin.waitForURL(/\/catalog\/new$/);
  await admin.getByTestId('service-form').waitFor();
  await admin.getByTestId('service-name').fill(service);
  await admin.getByTestId('service-tenant').selectOption(tenantSlug);
  await admin.getByTestId('service-repo_url').fill('git.example.com/shop');
  await admin.getByTestId('service-owner_team').fill('Shop');
  await admin.getByTestId('service-runtime').fill('go');
  await admin.getByTestId('service-tier').fill('tier-1');
  await admin.getByTestId('service-environments').fill('dev, prod');
  await admin.getByTestId('service-tags').fill('shop, pci');
  await admin.getByTestId('service-save').click();
  await admin.waitForFunction(() => document.querySelector('[data-testid="error-repo_url"]')?.textContent.includes('http'), null, { timeout: 15_000 });
  assert.equal(await admin.getByTestId('service-repo_url').getAttribute('aria-invalid'), 'true');
  await admin.getByTestId('service-repo_url').fill('https://git.example.com/shop');
  await admin.getByTestId('service-save').click();
  await admin.waitForURL(/\/catalog\/\d+$/, { timeout: 15_000 });
  const id = new URL(admin.url()).pathname.split('/').pop();
  await admin.getByTestId('service-title').waitFor();
  // The audit log names the service it kept by number, and links it; its filters are labelled.
  const { page: auditPage } = await openHydrated(adminContext, '/admin/audit');
  await auditPage.getByLabel('Action').fill('catalog.service.created');
  const target = auditPage.getByTestId('audit-row').first().getByTestId('audit-target');
  await auditPage.waitForFunction((name) => document.querySelector('[data-testid="audit-row"] [data-testid="audit-target"]')?.textContent === name, service);
  assert.equal(await target.getAttribute('href'), `/catalog/${id}`);
  assert.equal(await target.getAttribute('title'), id);
  await adminContext.close();

  // Dora finds it by searching, opens it, and provisions prod.
  const doraContext = await browser.newContext();
  const { page: dora_, errors } = await signInWithPassword(doraContext, dora.name, dora.password, '/catalog');
  const page = dora_;
  await page.getByTestId('catalog-search').fill(service);
  await page.getByTestId('catalog-search').press('Enter');
  await page.waitForURL(new RegExp(`q=${service}`));
  assert.equal(await page.getByTestId('service-row').count(), 1);
  await page.getByTestId('service-link').click();
  await page.waitForURL(new RegExp(`/catalog/${id}$`));
  await page.waitForFunction(() => document.querySelector('[data-testid="history-feed"]')?.textContent.includes('live'), null, { timeout: 15_000 });
  await chipIs(page, 'prod', 'provision', 'not requested');
  // A deploy to an environment never provisioned is questioned first (and Escape sends none).
  await env(page, 'prod').getByTestId('deploy').click();
  const warning = page.getByRole('alertdialog').getByTestId('deploy-warning');
  assert.match(await warning.textContent(), /^prod was never provisioned: .*Provision it first, or deploy anyway\.$/);
  await page.keyboard.press('Escape');
  await page.getByRole('alertdialog').waitFor({ state: 'detached' });
  await chipIs(page, 'prod', 'deploy', 'never');
  await confirm(page, env(page, 'prod').getByTestId('provision'), 'Provision');
  await chipIs(page, 'prod', 'provision', 'succeeded');
  const ns = JSON.parse(kubectl(['get', 'namespace', namespace, '-o', 'json']));
  assert.equal(ns.metadata.labels['heimdall.io/tenant'], tenantSlug);

  // The deploy to prod (image and version asked in its question, no warning now) waits:
  // nothing is applied yet.
  await env(page, 'prod').getByTestId('deploy').click();
  assert.equal(await page.getByRole('alertdialog').getByTestId('deploy-warning').count(), 0);
  await page.keyboard.press('Escape');
  await confirm(page, env(page, 'prod').getByTestId('deploy'), 'Deploy',
    { 'deploy-image': 'registry.example.com/shop', 'deploy-version': '3.1.0' });
  await chipIs(page, 'prod', 'deploy', '⟳ awaiting approval');
  assert.equal(deploymentOf(namespace, service), null, 'nothing before approval');
  // Dora's home page counts her deploy under way and leads to the service; it follows live.
  const { page: doraHome } = await openHydrated(doraContext, '/');
  const underWay = doraHome.getByTestId('tile-my-actions');
  assert.equal(await underWay.getAttribute('data-count'), '1');
  assert.equal(await underWay.getAttribute('href'), `/catalog/${id}`);
  assert.match(await underWay.getByTestId('tile-detail').textContent(), /^newest: deploy to prod · awaiting approval$/);
  await doraHome.waitForFunction(() => document.querySelector('[data-testid="home-feed"]')?.textContent === 'Live');
  const approval = await env(page, 'prod').getByTestId('env-approval').getAttribute('href');
  assert.match(approval, /^\/pipelines\/[0-9a-f-]{36}$/);

  // Arno approves on the pipeline's page; Dora's page follows live; the Deployment appears.
  const arnoContext = await browser.newContext();
  const { page: arnoPage, errors: arnoErrors } = await signInWithPassword(arnoContext, arno.name, arno.password, approval);
  const gate = arnoPage.locator('[data-testid="gate-card"][data-stage="deploy"]');
  await confirm(arnoPage, gate.getByTestId('gate-approve'), 'Approve');
  await chipIs(page, 'prod', 'deploy', '⟳ in progress');
  const applied = deploymentOf(namespace, service);
  assert.ok(applied, 'the approved deploy applied its Deployment');
  assert.equal(applied.spec.template.spec.containers[0].image, 'registry.example.com/shop:3.1.0');

  // The controller's part (there is none here): the rollout completes; the page says so live.
  kubectl(['patch', 'deployment', service, '-n', namespace, '--subresource=status', '--type=merge', '-p', JSON.stringify({
    status: { observedGeneration: applied.metadata.generation, replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 },
  })]);
  await chipIs(page, 'prod', 'deploy', 'succeeded');
  await doraHome.waitForFunction(() => document.querySelector('[data-testid="tile-my-actions"]')?.dataset.count === '0', null, { timeout: 15_000 });
  // The history says who let it through, linking the pipeline where it was decided.
  const decided = page.locator('[data-testid="history-row"][data-status="succeeded"]').getByTestId('history-decided');
  assert.equal((await decided.textContent()).trim(), `approved by ${arno.name}`);
  assert.equal(await decided.locator('a').getAttribute('href'), approval);
  await page.screenshot({ path: `${RESULTS_DIR}catalog-deployed.png`, fullPage: true });

  // The next version is rejected with notes: rejected on Dora's page, the cluster unchanged.
  await confirm(page, env(page, 'prod').getByTestId('deploy'), 'Deploy', { 'deploy-version': '3.2.0' });
  await chipIs(page, 'prod', 'deploy', '⟳ awaiting approval');
  const second = await env(page, 'prod').getByTestId('env-approval').getAttribute('href');
  await arnoPage.goto(`${BASE_URL}${second}`);
  await arnoPage.waitForSelector('body[data-hydrated="true"]');
  const secondGate = arnoPage.locator('[data-testid="gate-card"][data-stage="deploy"]');
  await secondGate.getByTestId('gate-notes-input').fill('change freeze');
  await confirm(arnoPage, secondGate.getByTestId('gate-reject'), 'Reject');
  await chipIs(page, 'prod', 'deploy', 'rejected');
  // The rejection counts among Dora's failed actions, live, and opens the service.
  await doraHome.waitForFunction(() => document.querySelector('[data-testid="tile-my-actions-failed"]')?.dataset.count === '1', null, { timeout: 15_000 });
  await doraHome.getByTestId('tile-my-actions-failed').click();
  await doraHome.waitForURL(new RegExp(`/catalog/${id}$`));
  await page.waitForFunction(() => document.querySelector('[data-testid="history-row"]')?.textContent.includes('change freeze'), null, { timeout: 15_000 });
  assert.equal((await page.locator('[data-testid="history-row"]').first().getByTestId('history-decided').textContent()).trim(), `rejected by ${arno.name}`);
  assert.equal(deploymentOf(namespace, service).spec.template.spec.containers[0].image, 'registry.example.com/shop:3.1.0', 'a rejected deploy applies nothing');

  // Deprovision, after a confirmation that Escape first cancels.
  await env(page, 'prod').getByTestId('deprovision').click();
  await page.getByRole('alertdialog').waitFor();
  await page.keyboard.press('Escape');
  await page.getByRole('alertdialog').waitFor({ state: 'detached' });
  assert.ok(deploymentOf(namespace, service), 'Escape deprovisioned nothing');
  await confirm(page, env(page, 'prod').getByTestId('deprovision'), 'Deprovision');
  await chipIs(page, 'prod', 'provision', 'deprovisioned');
  assert.equal(deploymentOf(namespace, service), null, 'the Deployment is gone');

  for (const [who, list] of [['admin', adminErrors], ['dora', errors], ['arno', arnoErrors]]) {
    assert.deepEqual(list, [], `${who}'s browser errors: ${list.join('; ')}`);
  }
  await Promise.all([doraContext.close(), arnoContext.close()]);
});

test('the list filters by tier in the address; an admin edits a service and deletes it after confirming', async () => {
  const suffix = Date.now().toString(36);
  const context = await browser.newContext();
  const { page, errors } = await signInWithPassword(context, ADMIN.username, ADMIN.password, '/catalog');
  const tenant = await srv(page, 'create_tenant', `slug=edit-${suffix}&name=Edit`);
  assert.equal(tenant.status, 200, JSON.stringify(tenant.body));
  const made = await srv(page, 'save_service', new URLSearchParams({
    name: `ledger-${suffix}`, repo_url: 'https://git.example.com/ledger', owner_team: 'Ledger', runtime: 'python',
    tier: `tier-${suffix}`, environments: 'dev', tenant: `edit-${suffix}`, description: '', links: '', tags: '',
  }).toString());
  assert.equal(made.status, 200, JSON.stringify(made.body));

  await page.goto(`${BASE_URL}/catalog?tier=tier-${suffix}`);
  await page.waitForSelector('body[data-hydrated="true"]');
  assert.equal(await page.getByTestId('filter-tier').inputValue(), `tier-${suffix}`);
  await page.getByTestId('service-row').first().waitFor();
  assert.equal(await page.getByTestId('service-row').count(), 1);
  await page.getByTestId('filter-runtime').selectOption('go');
  await page.waitForURL(/runtime=go/);
  await page.getByText('Nothing matches').waitFor();

  await page.goto(`${BASE_URL}/catalog/${made.body}`);
  await page.waitForSelector('body[data-hydrated="true"]');
  await page.getByTestId('service-edit').click();
  await page.getByTestId('service-form').waitFor();
  await page.getByTestId('service-description').fill('The books, balanced');
  await page.getByTestId('service-links').fill('Runbook https://wiki.example.com/ledger');
  await page.getByTestId('service-save').click();
  await page.waitForURL(new RegExp(`/catalog/${made.body}$`));
  await page.getByText('The books, balanced').waitFor();
  await page.getByTestId('service-link-list').getByText('Runbook').waitFor();

  await page.getByTestId('service-delete').click();
  await page.getByRole('alertdialog').waitFor();
  await page.keyboard.press('Escape');
  await page.getByRole('alertdialog').waitFor({ state: 'detached' });
  await confirm(page, page.getByTestId('service-delete'), 'Delete');
  await page.waitForURL(/\/catalog$/);
  const gone = await srv(page, 'get_service_page', `id=${made.body}`);
  assert.equal(gone.status, 404);
  assert.deepEqual(errors, [], `browser errors: ${errors.join('; ')}`);
  await context.close();
});
