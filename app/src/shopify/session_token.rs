//! App Bridge session tokens: the HS256 JWT the embedded admin sends with every request.
//!
//! Checked as Shopify specifies: signed with the app secret (current or previous), HS256
//! only (`none` and every other algorithm are refused), `aud` is the app's client id,
//! `exp` and `nbf` hold with 10 s of leeway, and `iss` and `dest` name the same shop.

use jsonwebtoken::{decode, Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use super::signature::AppSecrets;
use crate::domain::ShopDomain;
use crate::error::AppError;

const LEEWAY_SECONDS: u64 = 10;

#[derive(Debug, Deserialize)]
struct Claims {
    iss: String,
    dest: String,
    /// The staff member's user id; absent in some token kinds.
    #[serde(default)]
    sub: Option<String>,
}

/// A verified session token.
#[derive(Debug, Clone)]
pub struct SessionToken {
    pub shop: ShopDomain,
    pub user: Option<String>,
}

pub fn verify_session_token(
    token: &str,
    client_id: &str,
    secrets: &AppSecrets,
) -> Result<SessionToken, AppError> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_audience(&[client_id]);
    validation.leeway = LEEWAY_SECONDS;
    validation.validate_nbf = true;
    validation.set_required_spec_claims(&["exp", "nbf", "aud", "iss"]);

    let mut last_error = None;
    for secret in secrets.all() {
        let key = DecodingKey::from_secret(secret.expose().as_bytes());
        match decode::<Claims>(token, &key, &validation) {
            Ok(data) => return shop_of(&data.claims),
            Err(err) => last_error = Some(err),
        }
    }
    Err(AppError::InvalidSessionToken(
        last_error.map(|e| e.to_string()).unwrap_or_default(),
    ))
}

fn shop_of(claims: &Claims) -> Result<SessionToken, AppError> {
    let host = |raw: &str| {
        url::Url::parse(raw)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
    };
    let dest = host(&claims.dest)
        .ok_or_else(|| AppError::InvalidSessionToken("`dest` is not a URL".into()))?;
    let iss = host(&claims.iss)
        .ok_or_else(|| AppError::InvalidSessionToken("`iss` is not a URL".into()))?;
    if dest != iss {
        return Err(AppError::InvalidSessionToken(
            "`iss` and `dest` name different shops".into(),
        ));
    }
    let shop = ShopDomain::parse(&dest)
        .map_err(|_| AppError::InvalidSessionToken("`dest` is not a myshopify.com shop".into()))?;
    Ok(SessionToken {
        shop,
        user: claims.sub.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shopify::signature::Secret;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use jsonwebtoken::{encode, EncodingKey, Header};
    use serde_json::json;

    const CLIENT_ID: &str = "kindred-client-id";

    fn now() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
    }

    fn claims(shop: &str) -> serde_json::Value {
        json!({
            "iss": format!("https://{shop}/admin"), "dest": format!("https://{shop}"),
            "aud": CLIENT_ID, "sub": "42", "exp": now() + 60, "nbf": now() - 5, "iat": now() - 5,
            "jti": "f8912129-1af6-4cad-9ca3-76b0f7621087", "sid": "aaea182f2732d44c23057c0fea584021",
        })
    }

    fn sign(claims: &serde_json::Value, secret: &str) -> String {
        encode(
            &Header::new(Algorithm::HS256),
            claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    }

    fn secrets() -> AppSecrets {
        AppSecrets::new(Secret::new("current"), Some(Secret::new("previous")))
    }

    #[test]
    fn accepts_tokens_signed_with_either_secret() {
        let token = sign(&claims("demo-yoga.myshopify.com"), "current");
        let verified = verify_session_token(&token, CLIENT_ID, &secrets()).unwrap();
        assert_eq!(verified.shop.as_str(), "demo-yoga.myshopify.com");
        assert_eq!(verified.user.as_deref(), Some("42"));
        let token = sign(&claims("demo-yoga.myshopify.com"), "previous");
        assert!(verify_session_token(&token, CLIENT_ID, &secrets()).is_ok());
    }

    #[test]
    fn rejects_bad_tokens() {
        let shop = "demo-yoga.myshopify.com";
        let with = |edit: &dyn Fn(&mut serde_json::Value)| {
            let mut c = claims(shop);
            edit(&mut c);
            sign(&c, "current")
        };
        let cases = [
            ("wrong secret", sign(&claims(shop), "someone-else")),
            ("wrong audience", with(&|c| c["aud"] = json!("another-app"))),
            ("expired", with(&|c| c["exp"] = json!(now() - 11))),
            ("not yet valid", with(&|c| c["nbf"] = json!(now() + 30))),
            (
                "iss and dest differ",
                with(&|c| c["iss"] = json!("https://evil.myshopify.com/admin")),
            ),
            (
                "not a shop",
                with(&|c| {
                    c["dest"] = json!("https://evil.com");
                    c["iss"] = json!("https://evil.com/admin");
                }),
            ),
            (
                "no nbf",
                with(&|c| {
                    c.as_object_mut().unwrap().remove("nbf");
                }),
            ),
        ];
        for (what, token) in cases {
            assert!(
                matches!(
                    verify_session_token(&token, CLIENT_ID, &secrets()),
                    Err(AppError::InvalidSessionToken(_))
                ),
                "{what} accepted"
            );
        }
        // Within the leeway an expired token still passes.
        let late = with(&|c| c["exp"] = json!(now() - 5));
        assert!(verify_session_token(&late, CLIENT_ID, &secrets()).is_ok());
    }

    #[test]
    fn rejects_other_algorithms_and_none() {
        let payload = URL_SAFE_NO_PAD.encode(claims("demo-yoga.myshopify.com").to_string());
        let none = format!(
            "{}.{payload}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#)
        );
        assert!(verify_session_token(&none, CLIENT_ID, &secrets()).is_err());
        let hs512 = encode(
            &Header::new(Algorithm::HS512),
            &claims("demo-yoga.myshopify.com"),
            &EncodingKey::from_secret(b"current"),
        )
        .unwrap();
        assert!(verify_session_token(&hs512, CLIENT_ID, &secrets()).is_err());
        assert!(verify_session_token("not.a.jwt", CLIENT_ID, &secrets()).is_err());
    }
}
