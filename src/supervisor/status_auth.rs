//! Who is calling the status API: per-user session tokens, as the real
//! app's login cookie would carry them, and what a well-formed `user=` is.
//! Used by the API's handlers when the policy's `status_api_auth` is on.

use std::collections::BTreeMap;

use axum::http::HeaderMap;

/// The cookie that carries a session token: `cookie: session=<token>`.
pub const SESSION_COOKIE: &str = "session";
/// Longest user id the API accepts.
pub const MAX_USER_ID_BYTES: usize = 64;

/// Every logged-in user's session token. Cheap to clone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionBook {
    user_by_token: BTreeMap<String, String>,
}

impl SessionBook {
    /// A book with one token per user, as given.
    pub fn new<'a>(tokens: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        SessionBook {
            user_by_token: tokens
                .into_iter()
                .map(|(user, token)| (token.to_string(), user.to_string()))
                .collect(),
        }
    }

    /// The user a request's session cookie belongs to, if any.
    pub fn caller(&self, headers: &HeaderMap) -> Option<&str> {
        let token = session_cookie(headers)?;
        self.user_by_token.get(token).map(String::as_str)
    }
}

/// The value of the `session` cookie of a request, if it has one.
pub fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value)
}

/// The session token of `user` in a run from `seed`: 32 hex digits, the
/// same for the same seed and user, unguessable from another user's.
pub fn session_token(seed: u64, user: &str) -> String {
    use rand::{Rng, SeedableRng};
    // FNV-1a over the id: a fixed, platform-independent hash.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in user.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ h ^ 0x5e55_1011);
    format!("{:016x}{:016x}", rng.random::<u64>(), rng.random::<u64>())
}

/// A user id the API accepts: 1 to [`MAX_USER_ID_BYTES`] bytes of letters,
/// digits and `. _ - @ +` (what scenario files allow).
pub fn is_well_formed_user(user: &str) -> bool {
    !user.is_empty()
        && user.len() <= MAX_USER_ID_BYTES
        && user
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@' | '+'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn the_session_cookie_is_found_among_other_cookies() {
        let mut h = HeaderMap::new();
        h.insert(
            axum::http::header::COOKIE,
            HeaderValue::from_static("theme=dark; session=abc; x=1"),
        );
        assert_eq!(session_cookie(&h), Some("abc"));
        let book = SessionBook::new([("alice", "abc")]);
        assert_eq!(book.caller(&h), Some("alice"));
    }

    #[test]
    fn tokens_differ_between_users_and_seeds_and_repeat_for_the_same_pair() {
        assert_eq!(session_token(7, "alice"), session_token(7, "alice"));
        assert_ne!(session_token(7, "alice"), session_token(7, "bob"));
        assert_ne!(session_token(7, "alice"), session_token(8, "alice"));
        assert_eq!(session_token(7, "alice").len(), 32);
    }

    #[test]
    fn a_user_id_with_a_space_or_an_ampersand_or_65_bytes_is_malformed() {
        assert!(is_well_formed_user("alice.b+1@x"));
        assert!(!is_well_formed_user(""));
        assert!(!is_well_formed_user("al ice"));
        assert!(!is_well_formed_user("a&b"));
        assert!(!is_well_formed_user(&"a".repeat(65)));
    }
}
