//! Who may connect: which users are paired, and which connects are refused.
//!
//! WhatsApp knows a device by the credentials it got when the user scanned a
//! QR code. The book keeps, per user, whether those credentials are valid
//! now (paired, not logged out), and the scripted "refuse the next N
//! connects" faults, which are counted per user.

use std::collections::BTreeMap;

use super::protocol::credentials_for;

/// The endpoint's accounts. BTreeMaps only: iteration order must not depend
/// on hashing, or traces would differ run to run.
#[derive(Debug, Default)]
pub(crate) struct Accounts {
    /// user → paired (its credentials are valid).
    paired: BTreeMap<String, bool>,
    /// user → the pending refusals for its next hellos.
    refusals: BTreeMap<String, Refusal>,
}

#[derive(Debug, Clone, Copy)]
struct Refusal {
    remaining: u32,
    code: u16,
}

impl Accounts {
    pub(crate) fn new(accounts: impl IntoIterator<Item = (String, bool)>) -> Self {
        Accounts {
            paired: accounts.into_iter().collect(),
            refusals: BTreeMap::new(),
        }
    }

    /// Whether `credentials` are the valid, unrevoked credentials of `user`.
    /// Unknown users have no valid credentials.
    pub(crate) fn credentials_valid(&self, user: &str, credentials: &str) -> bool {
        self.paired.get(user).copied().unwrap_or(false) && credentials == credentials_for(user)
    }

    /// Makes the user paired or unpaired (pairing creates unknown users).
    pub(crate) fn set_paired(&mut self, user: &str, paired: bool) {
        self.paired.insert(user.to_string(), paired);
    }

    /// Arms a refusal of the user's next `count` hellos with `code`,
    /// replacing any refusal still pending for that user.
    pub(crate) fn refuse_next(&mut self, user: &str, count: u32, code: u16) {
        if count == 0 {
            self.refusals.remove(user);
        } else {
            self.refusals.insert(
                user.to_string(),
                Refusal {
                    remaining: count,
                    code,
                },
            );
        }
    }

    /// Consumes one pending refusal of `user`: its code, and whether it was
    /// the last one (the fault is over).
    pub(crate) fn take_refusal(&mut self, user: &str) -> Option<(u16, bool)> {
        let refusal = self.refusals.get_mut(user)?;
        let code = refusal.code;
        refusal.remaining = refusal.remaining.saturating_sub(1);
        let last = refusal.remaining == 0;
        if last {
            self.refusals.remove(user);
        }
        Some((code, last))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_counted_down_then_gone() {
        let mut book = Accounts::new([("alice".to_string(), true)]);
        book.refuse_next("alice", 2, 500);
        assert_eq!(book.take_refusal("alice"), Some((500, false)));
        assert_eq!(book.take_refusal("alice"), Some((500, true)));
        assert_eq!(book.take_refusal("alice"), None);
        assert_eq!(book.take_refusal("bob"), None);
    }

    #[test]
    fn only_paired_users_own_credentials_are_valid() {
        let mut book = Accounts::new([("alice".to_string(), true), ("bob".to_string(), false)]);
        assert!(book.credentials_valid("alice", "creds-alice"));
        assert!(!book.credentials_valid("alice", "creds-bob"));
        assert!(!book.credentials_valid("bob", "creds-bob"));
        assert!(!book.credentials_valid("carol", "creds-carol"));
        book.set_paired("alice", false);
        assert!(!book.credentials_valid("alice", "creds-alice"));
        book.set_paired("carol", true);
        assert!(book.credentials_valid("carol", "creds-carol"));
    }
}
