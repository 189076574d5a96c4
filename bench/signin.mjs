#!/usr/bin/env node
// Full browser sign-in as a load: authorize -> login form -> (consent form) -> code -> token,
// each loop with its own cookie jar and PKCE pair, walking whatever HTML forms the provider
// serves (ours and the peer's). Node 20's fetch only; no packages.
//
//   node bench/signin.mjs bench      run CONCURRENCY loops for DURATION seconds and print
//                                    "RESULT requests=… rps=… p50_ms=… p99_ms=… errors=…"
//   node bench/signin.mjs refresh N  sign in N times and print the N refresh tokens, one a line
//   node bench/signin.mjs access     sign in once and print the access token
//
// Environment: ISSUER CLIENT_ID CLIENT_SECRET REDIRECT_URI USERNAME PASSWORD, and optionally
// SCOPE (default "openid profile email"), PROMPT, CONCURRENCY (8), DURATION (10).
import { createHash, randomBytes } from 'node:crypto';

const env = (name, fallback) => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};
const ISSUER = env('ISSUER');
const CLIENT_ID = env('CLIENT_ID');
const CLIENT_SECRET = env('CLIENT_SECRET');
const REDIRECT_URI = env('REDIRECT_URI');
const USERNAME = env('USERNAME');
const PASSWORD = env('PASSWORD');
const SCOPE = env('SCOPE', 'openid profile email');
const PROMPT = env('PROMPT', '');
const BASIC = 'Basic ' + Buffer.from(`${encodeURIComponent(CLIENT_ID)}:${encodeURIComponent(CLIENT_SECRET)}`).toString('base64');

const b64url = (bytes) => Buffer.from(bytes).toString('base64url');
const decodeEntities = (text) => text
  .replace(/&#x([0-9a-f]+);/gi, (_, hex) => String.fromCodePoint(parseInt(hex, 16)))
  .replace(/&#(\d+);/g, (_, dec) => String.fromCodePoint(Number(dec)))
  .replace(/&quot;/g, '"').replace(/&#39;|&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>')
  .replace(/&amp;/g, '&');
const attributes = (tag) => {
  const found = {};
  for (const m of tag.matchAll(/([a-zA-Z_:][-\w:.]*)\s*(?:=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/g)) {
    found[m[1].toLowerCase()] = decodeEntities(m[2] ?? m[3] ?? m[4] ?? '');
  }
  return found;
};

// The form to submit on a page and its fields: the one with a password box gets the
// credentials; otherwise the first POST form, submitted with its approving button.
function chooseForm(html) {
  const forms = [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)].map((m) => {
    const attrs = attributes(m[1]);
    const inputs = [...m[2].matchAll(/<input\b([^>]*)>/gi)].map((i) => attributes(i[1]));
    const buttons = [...m[2].matchAll(/<button\b([^>]*)>([\s\S]*?)<\/button>/gi)]
      .map((b) => ({ ...attributes(b[1]), text: b[2].replace(/<[^>]*>/g, '').trim() }));
    return { attrs, inputs, buttons };
  });
  const form = forms.find((f) => f.inputs.some((i) => i.type === 'password'))
    ?? forms.find((f) => (f.attrs.method ?? 'get').toLowerCase() === 'post');
  if (!form) return null;
  const fields = new URLSearchParams();
  const hasPassword = form.inputs.some((i) => i.type === 'password');
  for (const input of form.inputs) {
    if (!input.name) continue;
    const type = (input.type ?? 'text').toLowerCase();
    if (type === 'password') fields.append(input.name, PASSWORD);
    else if (hasPassword && ['text', 'email'].includes(type)) fields.append(input.name, USERNAME);
    else if (type === 'checkbox' || type === 'radio') { if ('checked' in input) fields.append(input.name, input.value ?? 'on'); }
    else if (type !== 'submit') fields.append(input.name, input.value ?? '');
  }
  const refuse = /deny|don.?t|cancel|abort|reject|no\b/i;
  const approve = form.buttons.find((b) => b.name && !refuse.test(`${b.value} ${b.text}`));
  if (approve) fields.append(approve.name, approve.value ?? '');
  return { action: form.attrs.action ?? '', fields, hasPassword };
}

async function discover() {
  const response = await fetch(`${ISSUER}/.well-known/openid-configuration`);
  if (!response.ok) throw new Error(`discovery: HTTP ${response.status}`);
  return response.json();
}

async function signIn(meta) {
  const jar = new Map();
  const verifier = b64url(randomBytes(32));
  const state = b64url(randomBytes(16));
  const query = new URLSearchParams({
    response_type: 'code', client_id: CLIENT_ID, redirect_uri: REDIRECT_URI, scope: SCOPE, state,
    nonce: b64url(randomBytes(16)), code_challenge_method: 'S256',
    code_challenge: b64url(createHash('sha256').update(verifier).digest()),
  });
  if (PROMPT) query.set('prompt', PROMPT);
  let url = new URL(`${meta.authorization_endpoint}?${query}`);
  let init = { method: 'GET' };
  let passwordSent = false;
  for (let hop = 0; hop < 20; hop += 1) {
    const headers = { ...(init.headers ?? {}) };
    if (jar.size) headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair, ...flags] = cookie.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      if (flags.some((f) => /^\s*max-age=0\s*$/i.test(f)) || pair.slice(eq + 1) === '') jar.delete(name);
      else jar.set(name, pair.slice(eq + 1));
    }
    if (response.status >= 300 && response.status < 400) {
      await response.arrayBuffer();
      const next = new URL(response.headers.get('location'), url);
      if (`${next.origin}${next.pathname}` === REDIRECT_URI) {
        if (next.searchParams.get('state') !== state) throw new Error('state mismatch');
        const code = next.searchParams.get('code');
        if (!code) throw new Error(`no code: ${next.search}`);
        return exchange(meta, code, verifier);
      }
      url = next;
      init = { method: 'GET' };
      continue;
    }
    const html = await response.text();
    const form = response.ok || response.status === 401 ? chooseForm(html) : null;
    if (!form) throw new Error(`HTTP ${response.status} at ${url.pathname} without a form`);
    if (form.hasPassword && passwordSent) throw new Error('login form shown again: credentials refused');
    passwordSent ||= form.hasPassword;
    url = new URL(form.action, url);
    init = { method: 'POST', body: form.fields.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } };
  }
  throw new Error('too many hops');
}

async function exchange(meta, code, verifier) {
  const response = await fetch(meta.token_endpoint, {
    method: 'POST',
    headers: { authorization: BASIC, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier }),
  });
  const body = await response.json();
  if (!response.ok || !body.access_token || !body.id_token) throw new Error(`token: HTTP ${response.status} ${JSON.stringify(body)}`);
  return body;
}

const percentile = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : 0);

async function bench(meta) {
  const concurrency = Number(env('CONCURRENCY', '8'));
  const deadline = performance.now() + 1000 * Number(env('DURATION', '10'));
  const latencies = [];
  let errors = 0;
  let firstError;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      try {
        await signIn(meta);
        latencies.push(performance.now() - t0);
      } catch (error) {
        errors += 1;
        firstError ??= error;
      }
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  if (firstError) console.error(`first error: ${firstError.message}`);
  console.log(`RESULT requests=${latencies.length} rps=${(latencies.length / seconds).toFixed(1)} `
    + `p50_ms=${percentile(latencies, 50).toFixed(3)} p99_ms=${percentile(latencies, 99).toFixed(3)} errors=${errors}`);
}

async function refreshTokens(meta, count) {
  const tokens = [];
  while (tokens.length < count) {
    const batch = await Promise.all(Array.from({ length: Math.min(8, count - tokens.length) }, () => signIn(meta)));
    for (const body of batch) {
      if (!body.refresh_token) throw new Error('no refresh_token in the token response');
      tokens.push(body.refresh_token);
    }
  }
  console.log(tokens.join('\n'));
}

const [mode, count] = process.argv.slice(2);
const meta = await discover();
if (mode === 'bench') await bench(meta);
else if (mode === 'refresh') await refreshTokens(meta, Number(count));
else if (mode === 'access') console.log((await signIn(meta)).access_token);
else { console.error('usage: signin.mjs bench | refresh N | access'); process.exit(2); }
