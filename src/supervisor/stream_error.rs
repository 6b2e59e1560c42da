//! What a `stream_error` frame means to the supervisor: the close code it
//! acts on, decided in Baileys' order (the `code` attribute, then a
//! `conflict` child → 440, else 500; see
//! [`stream_error_code`](crate::close_code::stream_error_code)).

use super::connection::Outcome;
use crate::close_code::stream_error_code;
use crate::endpoint::protocol::StreamErrorChild;

/// The outcome of a socket that received this stream error.
pub(crate) fn outcome(
    code: Option<u16>,
    reason: String,
    child: Option<&StreamErrorChild>,
) -> Outcome {
    let code = stream_error_code(code, child.map(|c| c.tag.as_str()));
    Outcome::Closed { code, reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn child(tag: &str, kind: Option<&str>) -> StreamErrorChild {
        StreamErrorChild {
            tag: tag.to_string(),
            kind: kind.map(str::to_string),
        }
    }

    fn code_of(o: Outcome) -> u16 {
        match o {
            Outcome::Closed { code, .. } => code,
            other => panic!("not a close: {other:?}"),
        }
    }

    #[test]
    fn device_removed_with_code_401_is_a_logout() {
        let c = child("conflict", Some("device_removed"));
        assert_eq!(code_of(outcome(Some(401), String::new(), Some(&c))), 401);
    }

    #[test]
    fn a_bare_conflict_is_a_replacement() {
        let c = child("conflict", None);
        assert_eq!(code_of(outcome(None, String::new(), Some(&c))), 440);
    }

    #[test]
    fn an_unknown_child_without_code_is_a_bad_session() {
        let c = child("xml-not-well-formed", None);
        assert_eq!(code_of(outcome(None, String::new(), Some(&c))), 500);
    }
}
