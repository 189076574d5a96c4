#!/usr/bin/env node
// Admin user search latency: for each query, ROUNDS requests one after another to the admin
// users page (signed in as an admin through the sign-in form) and to GET /api/v1/users (a
// service client's token), and prints p50/p95/max per query and path, and the matches counted.
// Node 20's fetch only; no packages.
//
// Environment: ISSUER, ADMIN_USERNAME, ADMIN_PASSWORD, API_CLIENT_ID, API_CLIENT_SECRET,
// ROUNDS (default 40).
const env = (name, fallback) => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};
const ISSUER = env('ISSUER');
const ROUNDS = Number(env('ROUNDS', '40'));

// The queries an admin types: a prefix of a username, part of a name, an e-mail, with the role
// and status filters, and a page deep in a long list.
const QUERIES = [
  { label: 'no filter', params: {} },
  { label: 'username prefix "s00042"', params: { search: 's00042' } },
  { label: 'exact username', params: { search: 's0424242' } },
  { label: 'two letters "ga"', params: { search: 'ga' } },
  { label: 'name part "rodrig"', params: { search: 'rodrig' } },
  { label: 'full name "maria garcia"', params: { search: 'maria garcia' } },
  { label: 'no match "zzqx"', params: { search: 'zzqx' } },
  { label: 'e-mail "s0999999@students"', params: { search: 's0999999@students' } },
  { label: 'role admin', params: { role: 'admin' } },
  { label: 'role staff + "lopez"', params: { role: 'staff', search: 'lopez' } },
  { label: 'disabled', params: { status: 'disabled' } },
  { label: 'active + "kim"', params: { status: 'active', search: 'kim' } },
  { label: 'page 150 of all', params: { page: '150' } },
];

const jar = new Map();
const cookieHeader = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
function keepCookies(response) {
  for (const cookie of response.headers.getSetCookie()) {
    const pair = cookie.split(';')[0];
    const eq = pair.indexOf('=');
    jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1));
  }
}

async function signInAsAdmin() {
  let url = new URL('/admin/users', ISSUER);
  for (let hop = 0; hop < 10; hop += 1) {
    const response = await fetch(url, { headers: { cookie: cookieHeader() }, redirect: 'manual' });
    keepCookies(response);
    if (response.status >= 300 && response.status < 400) {
      url = new URL(response.headers.get('location'), url);
      continue;
    }
    const html = await response.text();
    if (response.ok && url.pathname === '/admin/users') return;
    const action = html.match(/<form[^>]*method="post"[^>]*action="([^"]*)"/i)?.[1]
      ?? html.match(/<form[^>]*action="([^"]*)"[^>]*method="post"/i)?.[1];
    if (!action) throw new Error(`HTTP ${response.status} at ${url.pathname} without a sign-in form`);
    const body = new URLSearchParams({ username: env('ADMIN_USERNAME'), password: env('ADMIN_PASSWORD') });
    // Every hidden field of the page's first form (CSRF token, where to return).
    const form = html.slice(html.search(/<form/i));
    for (const m of form.slice(0, form.search(/<\/form>/i)).matchAll(/<input\b[^>]*type="hidden"[^>]*>/gi)) {
      const name = m[0].match(/name="([^"]*)"/)?.[1];
      const value = m[0].match(/value="([^"]*)"/)?.[1] ?? '';
      if (name) body.set(name, value.replace(/&amp;/g, '&').replace(/&#x2F;/g, '/').replace(/&#x3D;/g, '='));
    }
    const posted = await fetch(new URL(action.replace(/&amp;/g, '&'), url), {
      method: 'POST', body, redirect: 'manual',
      headers: { cookie: cookieHeader(), 'content-type': 'application/x-www-form-urlencoded' },
    });
    keepCookies(posted);
    if (posted.status < 300 || posted.status >= 400) throw new Error(`sign-in: HTTP ${posted.status}`);
    url = new URL(posted.headers.get('location'), url);
  }
  throw new Error('too many hops signing in');
}

async function apiToken() {
  const basic = Buffer.from(`${env('API_CLIENT_ID')}:${env('API_CLIENT_SECRET')}`).toString('base64');
  const response = await fetch(new URL('/token', ISSUER), {
    method: 'POST', body: 'grant_type=client_credentials',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
  });
  const body = await response.json();
  if (!body.access_token) throw new Error(`token: ${JSON.stringify(body)}`);
  return body.access_token;
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function measure(path, params, headers, read) {
  const latencies = [];
  let matched;
  for (let n = 0; n < ROUNDS; n += 1) {
    const t0 = performance.now();
    const response = await fetch(new URL(`${path}?${new URLSearchParams(params)}`, ISSUER), { headers });
    const body = await response.text();
    latencies.push(performance.now() - t0);
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
    matched = read(body);
  }
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 50), p95: percentile(latencies, 95), max: latencies.at(-1), matched };
}

await signInAsAdmin();
const token = await apiToken();
console.log('| query | page p50 / p95 / max ms | API p50 / p95 / max ms | matches (API) |');
console.log('|---|---|---|---|');
const all = [];
for (const { label, params } of QUERIES) {
  const page = await measure('/admin/users', params, { cookie: cookieHeader() }, () => null);
  const api = await measure('/api/v1/users', { ...params, per_page: '50' }, { authorization: `Bearer ${token}` },
    (body) => { const j = JSON.parse(body); return `${j.total}${j.more ? '+' : ''}`; });
  all.push(page.p95, api.p95);
  const f = (m) => `${m.p50.toFixed(1)} / ${m.p95.toFixed(1)} / ${m.max.toFixed(1)}`;
  console.log(`| ${label} | ${f(page)} | ${f(api)} | ${api.matched} |`);
}
console.log(`\nWorst p95: ${Math.max(...all).toFixed(1)} ms (${ROUNDS} requests per query and path, one at a time).`);
