//! "The library": a college web app that signs people in with the `openidconnect` crate, as a
//! relying party would, for the browser tests. It keeps each browser's tokens, takes back-channel
//! logouts, can try its refresh token, and (for the tests only) shows the links the SMTP server
//! received at `/mailbox?to=…&path=…`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, RefreshToken, Scope, TokenResponse,
};

use crate::harness::{TestApp, reqwest};
use crate::mail::SmtpSink;

type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

#[derive(Default)]
struct Sessions {
    /// state → (PKCE verifier, nonce, the browser's session).
    waiting: HashMap<String, (String, String, String)>,
    /// the browser's session → (name, sid).
    signed_in: HashMap<String, (String, String)>,
    logout_tokens: Vec<String>,
    /// the browser's session → its last refresh token, kept after a logout so the tests can
    /// show that the provider refuses it.
    refresh_tokens: HashMap<String, String>,
}

#[derive(Clone)]
struct Rp {
    issuer: String,
    client_id: String,
    secret: Option<String>,
    base: String,
    sessions: Arc<Mutex<Sessions>>,
    sink: Arc<SmtpSink>,
}

pub struct RunningRp {
    pub url: String,
    sessions: Arc<Mutex<Sessions>>,
}

impl RunningRp {
    pub fn logout_tokens(&self) -> usize {
        self.sessions.lock().expect("lock").logout_tokens.len()
    }
}

/// Registers the library with `app` and serves it on a loopback port.
pub async fn start(app: &TestApp, sink: Arc<SmtpSink>) -> RunningRp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let client = app.create_client(false, false).await;
    let (callback, backchannel) = (format!("{base}/callback"), format!("{base}/backchannel"));
    app.edit_client(&client.client_id, |c| {
        c.name = "Library".into();
        c.redirect_uris = vec![callback];
        c.settings.backchannel_logout_uri = Some(backchannel);
        c.settings.allowed_scopes =
            hccc_sso::domain::ScopeSet::parse("openid profile email offline_access");
    })
    .await;
    let sessions = Arc::new(Mutex::new(Sessions::default()));
    let rp = Rp {
        issuer: app.base.clone(),
        client_id: client.client_id.clone(),
        secret: client.secret.clone(),
        base: base.clone(),
        sessions: sessions.clone(),
        sink,
    };
    let router = axum::Router::new()
        .route("/", axum::routing::get(home))
        .route("/login", axum::routing::get(login))
        .route("/callback", axum::routing::get(callback_page))
        .route("/refresh", axum::routing::get(refresh))
        .route("/backchannel", axum::routing::post(backchannel_logout))
        .route("/mailbox", axum::routing::get(mailbox))
        .with_state(rp);
    tokio::spawn(async move { axum::serve(listener, router).await });
    RunningRp {
        url: base,

        sessions,
    }
}

fn http() -> reqwest::Client {
    crate::harness::client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http")
}

async fn client(rp: &Rp) -> Client {
    let metadata = CoreProviderMetadata::discover_async(
        IssuerUrl::new(rp.issuer.clone()).expect("issuer"),
        &http(),
    )
    .await
    .expect("discovery");
    CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(rp.client_id.clone()),
        rp.secret.clone().map(ClientSecret::new),
    )
    .set_redirect_uri(RedirectUrl::new(format!("{}/callback", rp.base)).expect("redirect"))
}

fn browser_session(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::COOKIE)?
        .to_str()
        .ok()?
        .split(';')
        .find_map(|c| c.trim().strip_prefix("library=").map(str::to_owned))
}

fn page(body: &str) -> Response {
    Html(format!("<!doctype html><html lang=\"en\"><head><title>Library</title></head><body><main>{body}</main></body></html>")).into_response()
}

async fn home(State(rp): State<Rp>, headers: HeaderMap) -> Response {
    let sessions = rp.sessions.lock().expect("lock");
    match browser_session(&headers).and_then(|s| sessions.signed_in.get(&s).cloned()) {
        Some((name, _)) => page(&format!(
            "<h1 id=\"who\">Signed in to the library as {name}</h1>"
        )),
        None => page(
            "<h1 id=\"who\">Not signed in</h1><a id=\"sign-in\" href=\"/login\">Sign in with HCCC</a>",
        ),
    }
}

async fn login(State(rp): State<Rp>, headers: HeaderMap) -> Response {
    let client = client(&rp).await;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("offline_access".into()))
        .add_extra_param("prompt", "consent")
        .set_pkce_challenge(challenge)
        .url();
    let session = browser_session(&headers).unwrap_or_else(hccc_sso::crypto::random_token);
    rp.sessions.lock().expect("lock").waiting.insert(
        state.secret().clone(),
        (
            verifier.secret().clone(),
            nonce.secret().clone(),
            session.clone(),
        ),
    );
    let mut response = Redirect::to(url.as_str()).into_response();
    let cookie = format!("library={session}; Path=/; HttpOnly; SameSite=Lax");
    response
        .headers_mut()
        .insert(header::SET_COOKIE, cookie.parse().expect("cookie"));
    response
}

async fn callback_page(State(rp): State<Rp>, Query(q): Query<HashMap<String, String>>) -> Response {
    let Some((verifier, nonce, session)) = q
        .get("state")
        .and_then(|s| rp.sessions.lock().expect("lock").waiting.remove(s))
    else {
        return page("<h1>Unknown sign-in</h1>");
    };
    let Some(code) = q.get("code") else {
        return page(&format!(
            "<h1>Refused: {}</h1>",
            q.get("error").cloned().unwrap_or_default()
        ));
    };
    let client = client(&rp).await;
    let tokens = client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .expect("token endpoint")
        .set_pkce_verifier(PkceCodeVerifier::new(verifier))
        .request_async(&http())
        .await
        .expect("code exchange");
    let id_token = tokens.id_token().expect("id token");
    let claims = id_token
        .claims(&client.id_token_verifier(), &Nonce::new(nonce))
        .expect("the ID token verifies");
    let name = claims
        .preferred_username()
        .map(|u| u.as_str().to_owned())
        .unwrap_or_else(|| claims.subject().as_str().to_owned());
    let payload = crate::token::decode_segment(&id_token.to_string(), 1);
    let sid = payload["sid"].as_str().unwrap_or_default().to_owned();
    let mut sessions = rp.sessions.lock().expect("lock");
    if let Some(refresh) = tokens.refresh_token() {
        sessions
            .refresh_tokens
            .insert(session.clone(), refresh.secret().clone());
    }
    sessions.signed_in.insert(session, (name, sid));
    drop(sessions);
    Redirect::to("/").into_response()
}

/// Tries the browser's refresh token, as the app would when its access token expires.
async fn refresh(State(rp): State<Rp>, headers: HeaderMap) -> Response {
    let token = browser_session(&headers).and_then(|s| {
        rp.sessions
            .lock()
            .expect("lock")
            .refresh_tokens
            .get(&s)
            .cloned()
    });
    let Some(token) = token else {
        return page("<h1 id=\"refresh\">no refresh token</h1>");
    };
    let client = client(&rp).await;
    let outcome = client
        .exchange_refresh_token(&RefreshToken::new(token))
        .expect("token endpoint")
        .request_async(&http())
        .await;
    match outcome {
        Ok(tokens) => {
            if let (Some(session), Some(rotated)) =
                (browser_session(&headers), tokens.refresh_token())
            {
                let mut sessions = rp.sessions.lock().expect("lock");
                sessions
                    .refresh_tokens
                    .insert(session, rotated.secret().clone());
            }
            page("<h1 id=\"refresh\">refresh worked</h1>")
        }
        Err(_) => page("<h1 id=\"refresh\">refresh refused</h1>"),
    }
}

/// Back-Channel Logout: the session named by the token's `sid` is signed out of the library.
async fn backchannel_logout(State(rp): State<Rp>, body: String) -> Response {
    let token = url::form_urlencoded::parse(body.as_bytes())
        .find(|(k, _)| k == "logout_token")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let claims = crate::token::decode_segment(&token, 1);
    let sid = claims["sid"].as_str().unwrap_or_default().to_owned();
    let mut sessions = rp.sessions.lock().expect("lock");
    sessions.signed_in.retain(|_, (_, s)| *s != sid);
    sessions.logout_tokens.push(token);
    axum::http::StatusCode::OK.into_response()
}

/// The newest link to `to` whose path is `path` (tests only: a mailbox the browser can read).
async fn mailbox(State(rp): State<Rp>, Query(q): Query<HashMap<String, String>>) -> Response {
    let to = q.get("to").cloned().unwrap_or_default();
    let prefix = format!(
        "{}{}",
        rp.issuer,
        q.get("path").cloned().unwrap_or_default()
    );
    let link = rp
        .sink
        .messages()
        .into_iter()
        .rev()
        .filter(|m| m.to.contains(&to))
        .find_map(|m| m.link(&prefix));
    match link {
        Some(link) => link.into_response(),
        None => (axum::http::StatusCode::NOT_FOUND, "no such message yet").into_response(),
    }
}
