// A relying party built on openid-client, driven by tests/it/openid_client.rs against the real server.
// It walks hccc-sso's own login and consent forms over HTTP, then does what a college app does:
// code exchange with ID token validation, userinfo, refresh, revocation and RP-initiated logout.
// Environment: ISSUER CLIENT_ID CLIENT_SECRET REDIRECT_URI POST_LOGOUT_REDIRECT_URI USERNAME PASSWORD.
// Prints one line per step and exits non-zero on the first failure.
import * as oidc from 'openid-client';

const env = process.env;
const jar = new Map();

function remember(response) {
  for (const line of response.headers.getSetCookie()) {
    const [pair] = line.split(';');
    const eq = pair.indexOf('=');
    jar.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
}

async function browse(url, init = {}) {
  const headers = { ...(init.headers || {}), cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') };
  const response = await fetch(url, { ...init, headers, redirect: 'manual' });
  remember(response);
  return response;
}

function field(html, name) {
  const tag = html.match(new RegExp(`<input[^>]*name="${name}"[^>]*>`));
  const value = tag && tag[0].match(/value="([^"]*)"/);
  return value ? value[1].replace(/&#x2f;/g, '/').replace(/&amp;/g, '&') : undefined;
}

async function submit(path, fields) {
  return browse(new URL(path, env.ISSUER), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
}

function step(name, detail) {
  console.log(`PASS  ${name}  ${detail}`);
}

const config = await oidc.discovery(new URL(env.ISSUER), env.CLIENT_ID, env.CLIENT_SECRET, oidc.ClientSecretBasic(env.CLIENT_SECRET), {
  execute: [oidc.allowInsecureRequests],
});
step('discovery', config.serverMetadata().issuer);

const verifier = oidc.randomPKCECodeVerifier();
const state = oidc.randomState();
const nonce = oidc.randomNonce();
const authUrl = oidc.buildAuthorizationUrl(config, {
  redirect_uri: env.REDIRECT_URI,
  scope: 'openid profile email',
  code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
  code_challenge_method: 'S256',
  state,
  nonce,
});

let response = await browse(authUrl);
let next = new URL(response.headers.get('location'), env.ISSUER);
let html = await (await browse(next)).text();
response = await submit('/login', {
  csrf_token: field(html, 'csrf_token'),
  request: field(html, 'request'),
  username: env.USERNAME,
  password: env.PASSWORD,
});
next = new URL(response.headers.get('location'), env.ISSUER);
if (next.pathname === '/consent') {
  html = await (await browse(next)).text();
  response = await submit('/consent', { csrf_token: field(html, 'csrf_token'), request: field(html, 'request'), decision: 'allow' });
  next = new URL(response.headers.get('location'), env.ISSUER);
}
if (!next.href.startsWith(env.REDIRECT_URI)) throw new Error(`expected the redirect URI, got ${next.href}`);
step('login', 'signed in through the login and consent pages');

const tokens = await oidc.authorizationCodeGrant(config, next, {
  pkceCodeVerifier: verifier,
  expectedState: state,
  expectedNonce: nonce,
  idTokenExpected: true,
});
const claims = tokens.claims();
step('code_exchange', `ID token validated by openid-client, sub=${claims.sub}`);

const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
if (info.preferred_username !== env.USERNAME) throw new Error(`userinfo gave ${JSON.stringify(info)}`);
step('userinfo', `preferred_username=${info.preferred_username}`);

const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token);
if (refreshed.refresh_token === tokens.refresh_token) throw new Error('refresh token was not rotated');
step('refresh', 'new tokens, refresh token rotated');

await oidc.tokenRevocation(config, refreshed.refresh_token, { token_type_hint: 'refresh_token' });
try {
  await oidc.refreshTokenGrant(config, refreshed.refresh_token);
  throw new Error('a revoked refresh token still worked');
} catch (err) {
  if (err.error !== 'invalid_grant') throw err;
}
step('revocation', 'revoked refresh token is refused with invalid_grant');

const logoutState = oidc.randomState();
const endSession = oidc.buildEndSessionUrl(config, {
  id_token_hint: refreshed.id_token ?? tokens.id_token,
  post_logout_redirect_uri: env.POST_LOGOUT_REDIRECT_URI,
  state: logoutState,
});
response = await browse(endSession);
const back = new URL(response.headers.get('location') ?? 'about:blank');
if (!back.href.startsWith(env.POST_LOGOUT_REDIRECT_URI) || back.searchParams.get('state') !== logoutState) {
  throw new Error(`logout did not return to the app with its state: ${back.href}`);
}
response = await browse(oidc.buildAuthorizationUrl(config, { redirect_uri: env.REDIRECT_URI, scope: 'openid', prompt: 'none',
  code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' }));
const silent = new URL(response.headers.get('location'));
if (silent.searchParams.get('error') !== 'login_required') throw new Error(`still signed in after logout: ${silent.href}`);
step('logout', 'returned to the app with its state; prompt=none now says login_required');
