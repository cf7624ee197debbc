//! Admin session tokens: any string is refused unless it is a token this app signed; and a
//! correctly signed token with any claims (the fuzzer's JSON) is believed only when its
//! audience is this app.
#![no_main]

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use kindred::shopify::session_token::verify_session_token;
use kindred::shopify::{AppSecrets, Secret};
use libfuzzer_sys::fuzz_target;

const CLIENT_ID: &str = "fuzz-client-id";
const SECRET: &str = "fuzz-app-secret";

fuzz_target!(|data: &[u8]| {
    let secrets = AppSecrets::new(Secret::new(SECRET), None);
    let text = String::from_utf8_lossy(data);
    assert!(
        verify_session_token(&text, CLIENT_ID, &secrets).is_err(),
        "an unsigned string was believed: {text}"
    );
    let Ok(claims) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let key = EncodingKey::from_secret(SECRET.as_bytes());
    let Ok(signed) = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key) else {
        return;
    };
    let ours = claims["aud"] == CLIENT_ID
        || claims["aud"]
            .as_array()
            .is_some_and(|audiences| audiences.iter().any(|v| v == CLIENT_ID));
    let verified = verify_session_token(&signed, CLIENT_ID, &secrets);
    assert!(verified.is_err() || ours, "a token for another app was believed: {claims}");
});
