// Pipelines with human-in-the-loop gates in three real browsers: Rita (developer) starts a
// pipeline on the page, a worker (this test, with Rita's bearer JWT) advances it to a gate over
// the seed's API, Arno (developer) sees it waiting and approves in his browser, and Vic
// (viewer), whose page is open the whole time, sees each step arrive live — never reloading.
// Then a rejection with notes pauses it, and Rita resumes it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, openHydrated, signInWithPassword, srv, createUser, ADMIN, BASE_URL, RESULTS_DIR, bearer } from './browser.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

/** A worker's call on the seed's jobs API. */
async function worker(token, method, path, body) {
  const response = await fetch(`${BASE_URL}/api/v1/jobs${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await response.json();
  assert.equal(response.status, 200, `${method} ${path}: ${JSON.stringify(json)}`);
  return json;
}

const gateCard = (page, stage) => page.locator(`[data-testid="gate-card"][data-stage="${stage}"]`);

/** Waits until the page's status badge reads `status`. */
async function statusIs(page, status) {
  await page.waitForFunction(
    (s) => document.querySelector('[data-testid="pipeline-status"]')?.textContent === s,
    status,
    { timeout: 15_000 },
  );
}

test('a gate is approved in one browser and seen live in another; a rejection pauses, resume goes on', async () => {
  const suffix = Date.now().toString(36);
  const adminContext = await browser.newContext();
  const { page: admin } = await signInWithPassword(adminContext, ADMIN.username, ADMIN.password);
  const tenant = await srv(admin, 'create_tenant', `slug=pipes-${suffix}&name=Pipes`);
  assert.equal(tenant.status, 200, JSON.stringify(tenant.body));
  const rita = { name: `rita-${suffix}`, password: await createUser(admin, `rita-${suffix}`, 'developer', tenant.body.id) };
  const arno = { name: `arno-${suffix}`, password: await createUser(admin, `arno-${suffix}`, 'developer', tenant.body.id) };
  const vic = { name: `vic-${suffix}`, password: await createUser(admin, `vic-${suffix}`, 'viewer', tenant.body.id) };
  await adminContext.close();

  // Rita starts it on the page.
  const ritaContext = await browser.newContext();
  const { page: ritaPage, errors } = await signInWithPassword(ritaContext, rita.name, rita.password, '/pipelines');
  await ritaPage.getByTestId('pipeline-new').click();
  await ritaPage.getByTestId('pipeline-slug').fill('episode-9');
  await ritaPage.getByTestId('pipeline-intent').fill('narrative history');
  await ritaPage.getByTestId('pipeline-brief').fill('The long summer of 1911');
  await ritaPage.getByTestId('pipeline-create').click();
  await ritaPage.waitForURL(/\/pipelines\/[0-9a-f-]{36}$/, { timeout: 15_000 });
  const id = new URL(ritaPage.url()).pathname.split('/').pop();
  await statusIs(ritaPage, 'queued');

  // Vic opens it now and keeps watching.
  const vicContext = await browser.newContext();
  const { page: vicPage, errors: vicErrors } = await signInWithPassword(vicContext, vic.name, vic.password, `/pipelines/${id}`);
  await statusIs(vicPage, 'queued');
  await vicPage.waitForFunction(() => document.querySelector('[data-testid="event-feed"]')?.textContent.includes('live'), null, { timeout: 15_000 });

  // The worker runs outline and research; the script gate opens — Vic sees it without reloading.
  const token = await bearer(rita.name, rita.password);
  await worker(token, 'POST', `/${id}/claim`);
  await worker(token, 'POST', `/${id}/stages/outline/report`, { outcome: 'succeeded' });
  const atGate = await worker(token, 'POST', `/${id}/stages/research/report`, {
    outcome: 'succeeded', artifacts: [{ name: 'research.md', uri: 's3://episodes/9/research.md' }],
  });
  assert.equal(atGate.status, 'needs_approval');
  await statusIs(vicPage, 'needs approval');
  assert.match(await gateCard(vicPage, 'script').getByTestId('gate-who').textContent(), /developer or admin.*not the requester/);
  await gateCard(vicPage, 'script').getByTestId('gate-why-not').waitFor();
  await vicPage.getByTestId('artifact-row').first().waitFor();

  // Rita may not approve her own; Arno sees the count, finds it through "waiting for me", approves.
  await statusIs(ritaPage, 'needs approval');
  assert.match(await gateCard(ritaPage, 'script').getByTestId('gate-why-not').textContent(), /you requested this pipeline/);
  assert.equal(await ritaPage.locator('[data-testid="main-nav"] a[href="/pipelines"]').getAttribute('data-count'), null, 'nothing waits for Rita');
  // Rita's overview counts it among hers and opens her list.
  const { page: ritaHome } = await openHydrated(ritaContext, '/');
  await ritaHome.getByTestId('tile-my-pipelines').waitFor();
  assert.equal(await ritaHome.getByTestId('tile-my-pipelines').getAttribute('data-count'), '1');
  await ritaHome.getByTestId('tile-my-pipelines').click();
  await ritaHome.waitForURL(/\/pipelines\?mine=1$/);
  await ritaHome.getByTestId('pipeline-row').first().waitFor();
  assert.equal(await ritaHome.getByTestId('pipeline-row').count(), 1);
  await ritaHome.close();
  const arnoContext = await browser.newContext();
  const { page: arnoPage, errors: arnoErrors } = await signInWithPassword(arnoContext, arno.name, arno.password, '/');
  await arnoPage.getByTestId('tile-approvals').waitFor();
  assert.equal(await arnoPage.getByTestId('tile-approvals').getAttribute('data-count'), '1');
  assert.equal(await arnoPage.locator('[data-testid="main-nav"] a[href="/pipelines"]').getAttribute('data-count'), '1');
  await arnoPage.getByTestId('tile-approvals').click();
  await arnoPage.waitForURL(/\/pipelines\?waiting=1/);
  await arnoPage.getByTestId('pipeline-row').first().waitFor();
  assert.equal(await arnoPage.getByTestId('pipeline-row').count(), 1);
  await arnoPage.getByTestId('pipeline-link').click();
  await arnoPage.waitForURL(new RegExp(`/pipelines/${id}$`));
  // The gated stage's mark is drawn (an SVG with a name), not an emoji a font may lack.
  const mark = arnoPage.getByTestId('gate-mark').first();
  assert.equal(await mark.evaluate((el) => el.tagName.toLowerCase()), 'svg');
  assert.equal(await mark.getAttribute('aria-label'), 'approval gate');
  await gateCard(arnoPage, 'script').getByTestId('gate-approve').click();
  const dialog = arnoPage.getByRole('alertdialog');
  await dialog.waitFor();
  // Escape cancels: nothing is decided.
  await arnoPage.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  await statusIs(arnoPage, 'needs approval');
  await gateCard(arnoPage, 'script').getByTestId('gate-approve').click();
  await dialog.getByRole('button', { name: 'Approve' }).click();
  await statusIs(arnoPage, 'running');

  // Vic's page shows the decision arrive: who, and the event in the log.
  await gateCard(vicPage, 'script').getByTestId('gate-decision').waitFor({ timeout: 15_000 });
  assert.match(await gateCard(vicPage, 'script').getByTestId('gate-decision').textContent(), new RegExp(`approved by ${arno.name}`));
  await statusIs(vicPage, 'running');
  await vicPage.locator('[data-testid="event"][data-kind="gate_approved"]').waitFor();
  await vicPage.screenshot({ path: `${RESULTS_DIR}pipeline-approved-live.png`, fullPage: true });

  // The worker finishes script; storyboard's gate opens on Arno's page live; he rejects with notes.
  await worker(token, 'POST', `/${id}/stages/script/report`, { outcome: 'succeeded' });
  await statusIs(arnoPage, 'needs approval');
  const storyboard = gateCard(arnoPage, 'storyboard');
  assert.equal(await storyboard.getByTestId('gate-reject').isDisabled(), true, 'a rejection needs notes first');
  await storyboard.getByTestId('gate-notes-input').fill('Tighten act two');
  await storyboard.getByTestId('gate-reject').click();
  await dialog.getByRole('button', { name: 'Reject' }).click();
  await statusIs(arnoPage, 'paused');
  await statusIs(vicPage, 'paused');
  assert.match(await gateCard(vicPage, 'storyboard').getByTestId('gate-notes').textContent(), /Tighten act two/);

  // Rita resumes it from her page (which followed along live).
  await statusIs(ritaPage, 'paused');
  await ritaPage.getByTestId('pipeline-resume').click();
  await statusIs(ritaPage, 'running');
  await statusIs(vicPage, 'running');
  await ritaPage.screenshot({ path: `${RESULTS_DIR}pipeline-resumed.png`, fullPage: true });

  for (const [who, list] of [['rita', errors], ['vic', vicErrors], ['arno', arnoErrors]]) {
    assert.deepEqual(list, [], `${who}'s browser errors: ${list.join('; ')}`);
  }
  await Promise.all([ritaContext.close(), vicContext.close(), arnoContext.close()]);
});

test('the list filters by status (in the address) and says so when nothing matches', async () => {
  // A tenant of its own: what other tests (and the catalog's approvals) leave behind does not
  // show in its list.
  const suffix = Date.now().toString(36);
  const context = await browser.newContext();
  const { page: admin } = await signInWithPassword(context, ADMIN.username, ADMIN.password);
  const tenant = `lists-${suffix}`;
  assert.equal((await srv(admin, 'create_tenant', `slug=${tenant}&name=Lists`)).status, 200);
  const { page, errors } = await openHydrated(context, `/pipelines?tenant=${tenant}&status=completed`);
  await page.getByTestId('pipeline-filters').waitFor();
  assert.equal(await page.getByTestId('filter-status').inputValue(), 'completed');
  await page.getByText('Nothing matches').waitFor();
  const created = await srv(page, 'create_pipeline', `slug=listed-${suffix}&intent=lists&tenant=${tenant}&brief=`);
  assert.equal(created.status, 200, JSON.stringify(created.body));
  await page.getByTestId('filter-status').selectOption('queued');
  await page.waitForURL(/status=queued/);
  assert.match(page.url(), new RegExp(`tenant=${tenant}`), 'the other filter stays');
  await page.getByTestId('pipeline-row').first().waitFor();
  const statuses = await page.getByTestId('pipeline-status').allTextContents();
  assert.deepEqual(statuses, ['queued']);
  assert.deepEqual(errors, [], `browser errors: ${errors.join('; ')}`);
  await context.close();
});
