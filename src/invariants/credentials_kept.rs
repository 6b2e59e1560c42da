//! `credentials_kept`: a user's stored credentials are deleted only after
//! the endpoint logged it out (a 401). Deleting them on any other close
//! (baileys-api#330: the rolling-deploy loser wiped them on 440) forces a
//! person to scan a QR code again for nothing.

use crate::trace::truth::Truth;
use crate::trace::{EventKind, TraceEvent};

use super::common::{secs, violation};
use super::{Invariant, Params, RunContext, Violation};

/// Each `CredentialsDeleted` row of user U (the store's own record) needs an
/// earlier `EndpointClosed` of one of U's sockets with code 401 (the
/// endpoint's record). One violation per deletion without one.
pub struct CredentialsKept;

const ID: &str = "credentials_kept";

impl Invariant for CredentialsKept {
    fn id(&self) -> &'static str {
        ID
    }

    fn meaning(&self) -> &'static str {
        "stored credentials are deleted only after the endpoint closed the user with 401 \
         (logged out)"
    }

    fn check(
        &self,
        trace: &[TraceEvent],
        _truth: &Truth,
        _ctx: &RunContext,
        _params: &Params,
    ) -> Vec<Violation> {
        let mut out = Vec::new();
        for (i, e) in trace.iter().enumerate() {
            let (EventKind::CredentialsDeleted {}, Some(user)) = (&e.kind, e.user.as_deref())
            else {
                continue;
            };
            let logged_out = trace[..i].iter().any(|p| {
                p.user.as_deref() == Some(user)
                    && matches!(
                        p.kind,
                        EventKind::EndpointClosed {
                            code: Some(401),
                            ..
                        }
                    )
            });
            if !logged_out {
                let message = format!(
                    "{} deleted the credentials at {} with no 401 from the endpoint before: \
                     the user must pair again",
                    e.host,
                    secs(e.at)
                );
                out.push(violation(ID, e.at, user, message, trace, &[i]));
            }
        }
        out
    }
}
