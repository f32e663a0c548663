// /metrics scraped while a browser works: the server behind the browser tests runs with
// `metrics.token`; a scrape before and during a signed-in session shows the counters moving —
// requests by route, the live stream a page holds open, a gate decision, ForwardAuth answers,
// the watches' states. A scrape without the token is refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, signInWithPassword, ADMIN, BASE_URL } from './browser.mjs';

const TOKEN = process.env.HEIMDALL_E2E_METRICS_TOKEN;

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

async function scrape() {
  const response = await fetch(`${BASE_URL}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type'), /^text\/plain/);
  return response.text();
}

/** The sum of every series of `name` whose labels include each of `labels` (`key="value"`). */
function sum(text, name, ...labels) {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const [series, value] = [line.slice(0, line.lastIndexOf(' ')), line.slice(line.lastIndexOf(' ') + 1)];
    if (labels.every((l) => series.includes(l))) total += Number(value);
  }
  return total;
}

async function json(method, path, token, body) {
  const response = await fetch(`${BASE_URL}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  const parsed = await response.json();
  assert.ok(response.ok, `${method} ${path}: ${response.status} ${JSON.stringify(parsed)}`);
  return parsed;
}

test('a scrape needs the token', async () => {
  assert.ok(TOKEN, 'HEIMDALL_E2E_METRICS_TOKEN is set by the test command');
  const none = await fetch(`${BASE_URL}/metrics`);
  assert.equal(none.status, 401);
  const wrong = await fetch(`${BASE_URL}/metrics`, { headers: { authorization: 'Bearer not-the-metrics-token' } });
  assert.equal(wrong.status, 401);
});

/** The live Flink feeds the server counts as open now. */
const flinkStreams = (text) => sum(text, 'heimdall_sse_subscribers', 'stream="flink_jobs"');

/** Scrapes until `ok(text)` holds (45 s at most, the server notices a closed stream at its next
 *  keep-alive, every 15 s); the last scrape. */
async function until(ok, what) {
  const deadline = Date.now() + 45_000;
  let text = await scrape();
  while (!ok(text) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    text = await scrape();
  }
  assert.ok(ok(text), what);
  return text;
}

test('the counters move while a browser works', { timeout: 180_000 }, async () => {
  // The earlier test files' browsers are closed: their feeds leave the count first, so the
  // page below is the only one counted.
  const before = await until((t) => flinkStreams(t) === 0, "earlier pages' live feeds are no longer counted");
  const context = await browser.newContext();
  // A signed-in page with a live stream open: the Flink jobs page holds /api/jobs/events.
  const { page } = await signInWithPassword(context, ADMIN.username, ADMIN.password, '/flink');
  await page.waitForURL(/\/flink$/);
  const feeds = (t) => sum(t, 'heimdall_http_requests_total', 'route="/api/jobs/events"');
  await until((t) => flinkStreams(t) === 1 && feeds(t) > feeds(before), "the page's live feed is open and counted");

  // A gate decided over the seed's API, with the admin's bearer token.
  const login = await fetch(`${BASE_URL}/auth/jwt/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: ADMIN.username, password: ADMIN.password }),
  });
  assert.equal(login.status, 200);
  const token = (await login.json()).access_token;
  const created = await json('POST', '/api/v1/jobs', token, {
    slug: 'metered', intent: 'metrics', stages: ['deploy'], gates: { deploy: { allow_self_approval: true } },
  });
  const claimed = await json('POST', `/api/v1/jobs/${created.id}/claim`, token);
  assert.equal(claimed.status, 'needs_approval');
  await json('POST', `/api/v1/jobs/${created.id}/approve`, token, { decision: 'approved', stage: 'deploy', operator: ADMIN.username });

  // ForwardAuth: a request with no session is sent to sign in.
  const forward = await fetch(`${BASE_URL}/forward-auth/session`, { headers: { accept: 'application/json' }, redirect: 'manual' });
  assert.equal(forward.status, 401);

  const during = await scrape();
  const moved = (name, ...labels) => {
    const [a, b] = [sum(before, name, ...labels), sum(during, name, ...labels)];
    assert.ok(b > a, `${name}{${labels.join(',')}}: ${a} → ${b}`);
  };
  moved('heimdall_http_requests_total', 'route="/flink"');
  moved('heimdall_http_requests_total', 'route="/api/jobs/events"');
  moved('heimdall_http_requests_total', 'route="/api/v1/jobs/{id}/approve"', 'status="200"');
  moved('heimdall_http_request_duration_seconds_count', 'route="/auth/jwt/login"');
  moved('heimdall_gate_decisions_total', 'decision="approved"');
  moved('heimdall_forward_auth_decisions_total', 'mode="session"', 'decision="sign_in"');
  assert.equal(flinkStreams(during), 1, 'the open page is counted');
  assert.ok(during.includes('heimdall_watch_ready{watch="flink '), 'the Flink watches report their state');
  assert.ok(!/[0-9a-f]{8}-[0-9a-f]{4}-/.test(during.split('\n').filter((l) => l.includes('route=')).join('\n')),
    'ids never become route labels');

  // The page closes: its feed is no longer counted.
  await context.close();
  await until((t) => flinkStreams(t) === 0, 'a closed page is no longer a subscriber');
});
