//! The reference service's console lines (`../shared/reference/
//! reconnect-loop-fix.md`), as `console.log` prints them:
//!
//! ```text
//! [Baileys] 🚀 Inicializando conexión para usuario alice
//! [Baileys] ✅ Conexión establecida para usuario: alice
//! [Baileys] 🔌 Conexión cerrada. Código: 440, Reconectar: true
//! [Baileys] 🔄 Intento de reconexión #1
//! [Baileys] ⏳ Esperando 1000ms antes de reconectar...
//! ```
//!
//! A line may start with a pm2 prefix (`0|app  | `: the number is the
//! process) and a timestamp (ISO 8601 or a time of day, bare or in brackets).
//! Lines without a timestamp take the previous line's time, advanced by any
//! "Esperando Nms" since, which is how the reference's own excerpt is timed.

use super::record::RecordKind;
use super::time::{self, Stamp};

/// What a console line says.
#[derive(Debug, Clone, PartialEq)]
pub enum ConsoleLine {
    /// A line about the connection that becomes a record.
    Record {
        stamp: Option<Stamp>,
        process: Option<String>,
        user: Option<String>,
        kind: RecordKind,
    },
    /// A line of the supervisor's that says nothing about the outside world
    /// ("Reconectando...", "Intento de reconexión #N", "Keep-alive ...").
    Known {
        stamp: Option<Stamp>,
        process: Option<String>,
    },
    /// Not a line this reader knows.
    Unknown,
}

/// Lines of the supervisor's own talk, read and not used.
const KNOWN: [&str; 6] = [
    "Reconectando",
    "Intento de reconexión",
    "Keep-alive",
    "Conflicto de sesión",
    "[Auto-Reconnect]",
    "Deteniendo reconexión",
];

/// Reads one console line.
pub fn parse(text: &str) -> ConsoleLine {
    let (process, rest) = pm2_prefix(text);
    let (stamp, rest) = stamp_prefix(rest);
    if let Some(kind_user) = classify(rest) {
        let (kind, user) = kind_user;
        return ConsoleLine::Record {
            stamp,
            process,
            user,
            kind,
        };
    }
    if KNOWN.iter().any(|k| rest.contains(k)) {
        return ConsoleLine::Known { stamp, process };
    }
    ConsoleLine::Unknown
}

fn pm2_prefix(text: &str) -> (Option<String>, &str) {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || text.as_bytes().get(digits) != Some(&b'|') {
        return (None, text);
    }
    let after = &text[digits + 1..];
    match after.find('|') {
        Some(bar) => (
            Some(text[..digits].to_owned()),
            after[bar + 1..].trim_start(),
        ),
        None => (None, text),
    }
}

fn stamp_prefix(text: &str) -> (Option<Stamp>, &str) {
    let trimmed = text.trim_start();
    let (inner, bracket) = match trimmed.strip_prefix('[') {
        Some(inner) => (inner, true),
        None => (trimmed, false),
    };
    match time::parse_prefix(inner) {
        Some((stamp, used)) => {
            let mut rest = &inner[used..];
            if bracket {
                rest = rest.strip_prefix(']').unwrap_or(rest);
            }
            (Some(stamp), rest.trim_start_matches([' ', ':', '-']))
        }
        None => (None, trimmed),
    }
}

/// The word after `marker`, without trailing punctuation, if it is a name.
fn word_after<'a>(text: &'a str, marker: &str) -> Option<&'a str> {
    let at = text.find(marker)? + marker.len();
    let word = text[at..]
        .trim_start_matches([' ', ':'])
        .split_whitespace()
        .next()?
        .trim_end_matches(['.', ',', ':', ';']);
    (!word.is_empty()).then_some(word)
}

fn number_after(text: &str, marker: &str) -> Option<u64> {
    let at = text.find(marker)? + marker.len();
    let digits: String = text[at..]
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .take(12)
        .collect();
    digits.parse().ok()
}

fn classify(text: &str) -> Option<(RecordKind, Option<String>)> {
    if text.contains("Inicializando conexión") {
        let user = word_after(text, "para usuario").map(str::to_owned);
        return Some((RecordKind::AttemptStarted, user));
    }
    if text.contains("Conexión establecida") {
        let user = word_after(text, "para usuario").map(str::to_owned);
        return Some((RecordKind::Opened, user));
    }
    if text.contains("Conexión cerrada") {
        let code = number_after(text, "Código:")
            .and_then(|c| u16::try_from(c).ok())
            .unwrap_or(500);
        let how = "the line's Código".to_owned();
        return Some((RecordKind::Closed { code, how }, None));
    }
    if text.contains("Esperando") {
        let ms = number_after(text, "Esperando")?;
        return Some((RecordKind::Wait { ms }, None));
    }
    if text.contains("QR") {
        return Some((RecordKind::Qr, None));
    }
    if text.contains("/api/whatsapp/status") {
        return Some((RecordKind::StatusRequest, None));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_references_close_line_gives_its_code() {
        let line = parse("[Baileys] 🔌 Conexión cerrada. Código: 440, Reconectar: true");
        assert!(matches!(
            line,
            ConsoleLine::Record {
                kind: RecordKind::Closed { code: 440, .. },
                stamp: None,
                ..
            }
        ));
    }

    #[test]
    fn a_wait_line_gives_its_milliseconds() {
        let line = parse("[Baileys] ⏳ Esperando 1000ms antes de reconectar...");
        assert!(matches!(
            line,
            ConsoleLine::Record {
                kind: RecordKind::Wait { ms: 1000 },
                ..
            }
        ));
    }

    #[test]
    fn pm2_and_timestamp_prefixes_give_process_and_time() {
        let line = parse("1|api  | 2024-05-01T10:00:00.000Z: [Baileys] 🚀 Inicializando conexión para usuario bob...");
        assert_eq!(
            line,
            ConsoleLine::Record {
                stamp: Some(Stamp::Epoch(1_714_557_600_000)),
                process: Some("1".into()),
                user: Some("bob".into()),
                kind: RecordKind::AttemptStarted,
            }
        );
    }

    #[test]
    fn the_supervisors_own_talk_is_known_and_other_text_unknown() {
        assert!(matches!(
            parse("[Baileys] 🔄 Reconectando..."),
            ConsoleLine::Known { .. }
        ));
        assert_eq!(parse("GET /favicon.ico 200"), ConsoleLine::Unknown);
    }
}
