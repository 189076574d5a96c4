//! Signing key rotation: published before use, retired after its tokens expire.

use reqwest::StatusCode;
use serde_json::Value;

use hccc_sso::crypto::DerivedKeys;
use hccc_sso::keys::KeyRing;

use crate::flows::{signed_in_tokens, userinfo_status};
use crate::harness::{TestApp, on_both_backends, reqwest};
use crate::token::decode_segment;

/// The published RSA kids (each rotation also adds an ES256 key, checked in robustness.rs).
async fn published_kids(app: &TestApp) -> Vec<String> {
    let jwks: Value = crate::harness::http()
        .get(app.url("/jwks.json"))
        .send()
        .await
        .expect("jwks")
        .json()
        .await
        .expect("json");
    jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .filter(|k| k["kty"] == "RSA")
        .map(|k| k["kid"].as_str().expect("kid").to_owned())
        .collect()
}

async fn a_rotated_key_is_published_before_it_signs_and_the_old_one_outlives_its_tokens(
    app: TestApp,
) {
    let (_, tokens) = signed_in_tokens(&app, "rotator").await;
    let old_token = tokens["access_token"].as_str().expect("access").to_owned();
    let old_kid = decode_segment(&old_token, 0)["kid"]
        .as_str()
        .expect("kid")
        .to_owned();
    let config = &app.state.config;
    let derived = DerivedKeys::derive(&config.secret_key).expect("keys");
    let lead = config.key_publish_lead;
    let max_ttl = config.access_token_ttl.max(config.id_token_ttl);
    let new_kid = KeyRing::rotate(
        app.store(),
        &derived.key_encryption,
        app.clock.now(),
        lead,
        max_ttl,
    )
    .await
    .expect("rotate");
    app.state
        .keys
        .reload(app.store(), app.clock.now())
        .await
        .expect("reload");

    assert_eq!(
        published_kids(&app).await.len(),
        2,
        "the new key is published at once"
    );
    assert_eq!(
        app.state.keys.signing_kid().as_deref(),
        Some(old_kid.as_str()),
        "but does not sign yet"
    );

    app.clock.advance(lead + 1);
    app.state
        .keys
        .reload(app.store(), app.clock.now())
        .await
        .expect("reload");
    assert_eq!(
        app.state.keys.signing_kid().as_deref(),
        Some(new_kid.as_str()),
        "signs after the lead time"
    );
    let kids = published_kids(&app).await;
    assert!(kids.contains(&old_kid) && kids.contains(&new_kid));

    app.clock.advance(max_ttl + 61);
    app.state
        .keys
        .reload(app.store(), app.clock.now())
        .await
        .expect("reload");
    assert_eq!(
        published_kids(&app).await,
        vec![new_kid],
        "the old key is retired once its tokens have expired"
    );
    assert_eq!(
        userinfo_status(&app, &old_token).await,
        StatusCode::UNAUTHORIZED
    );
}

async fn a_token_signed_before_rotation_still_works_after_it(app: TestApp) {
    let (_, tokens) = signed_in_tokens(&app, "continuity").await;
    let token = tokens["access_token"].as_str().expect("access").to_owned();
    let config = &app.state.config;
    let derived = DerivedKeys::derive(&config.secret_key).expect("keys");
    KeyRing::rotate(
        app.store(),
        &derived.key_encryption,
        app.clock.now(),
        0,
        config.id_token_ttl,
    )
    .await
    .expect("rotate");
    app.state
        .keys
        .reload(app.store(), app.clock.now())
        .await
        .expect("reload");
    assert_ne!(
        decode_segment(&token, 0)["kid"].as_str(),
        app.state.keys.signing_kid().as_deref()
    );
    assert_eq!(userinfo_status(&app, &token).await, StatusCode::OK);
}

async fn keys_rotate_on_schedule_once_across_replicas_and_all_replicas_agree(app: TestApp) {
    let (_replica_base, replica, _stop) = crate::harness::start_replica(&app).await;
    let first_kid = app.state.keys.signing_kid();
    hccc_sso::app::rotate_keys_if_due(&app.state, app.clock.now()).await;
    assert_eq!(
        published_kids(&app).await.len(),
        1,
        "a fresh key is not rotated"
    );

    app.clock
        .advance(app.state.config.key_rotation_days * 86_400 + 1);
    let now = app.clock.now();
    futures_util::future::join(
        hccc_sso::app::rotate_keys_if_due(&app.state, now),
        hccc_sso::app::rotate_keys_if_due(&replica, now),
    )
    .await;
    hccc_sso::app::rotate_keys_if_due(&replica, now + 400).await;
    app.state
        .keys
        .reload(app.store(), now)
        .await
        .expect("reload");
    assert_eq!(
        published_kids(&app).await.len(),
        2,
        "exactly one rotation, even with two replicas racing"
    );

    app.clock.advance(app.state.config.key_publish_lead + 1);
    let now = app.clock.now();
    app.state
        .keys
        .reload(app.store(), now)
        .await
        .expect("reload");
    replica
        .keys
        .reload(&replica.store, now)
        .await
        .expect("reload");
    assert_ne!(
        app.state.keys.signing_kid(),
        first_kid,
        "the new key signs after the lead time"
    );
    assert_eq!(
        app.state.keys.signing_kid(),
        replica.keys.signing_kid(),
        "both replicas sign with the same key"
    );
    assert_eq!(
        app.state.keys.signing_kid_for("ES256"),
        replica.keys.signing_kid_for("ES256")
    );
}

on_both_backends!(
    keys_rotate_on_schedule_once_across_replicas_and_all_replicas_agree,
    a_rotated_key_is_published_before_it_signs_and_the_old_one_outlives_its_tokens,
    a_token_signed_before_rotation_still_works_after_it,
);

#[tokio::test]
async fn a_wrong_secret_key_stops_start_up_with_a_clear_message() {
    let app = crate::harness::start(crate::harness::Backend::Sqlite)
        .await
        .expect("app");
    let other_secret = hccc_sso::crypto::random_bytes::<32>();
    let derived = DerivedKeys::derive(&other_secret).expect("keys");
    let err = KeyRing::load_or_init(app.store(), derived.key_encryption, app.clock.now())
        .await
        .expect_err("must fail");
    assert!(err.to_string().contains("HCCC_SSO_SECRET_KEY"), "{err}");
}
