//! One log line, once understood: when, where, who and what.

/// Which process wrote a line. Two processes logging for one user are two
/// app instances; console logs without a pid are one process per file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct InstanceKey {
    pub hostname: String,
    pub pid: String,
}

/// What a line says happened.
#[derive(Debug, Clone, PartialEq)]
pub enum RecordKind {
    /// The supervisor starts connecting a user (an attempt): the console's
    /// "Inicializando conexión", pino's "connected to WA".
    AttemptStarted,
    /// A socket authenticated: "Conexión establecida", "opened connection to WA".
    Opened,
    /// A socket closed with this code (see [`close_code`](super::close_code)).
    Closed { code: u16, how: String },
    /// A `stream:error` node arrived: its code attribute, first child tag and
    /// that child's `type`, as Baileys reads them.
    StreamError {
        code: Option<u16>,
        child: Option<String>,
        child_type: Option<String>,
    },
    /// A QR code was shown: nobody had paired the user yet.
    Qr,
    /// The user scanned the QR ("pair success recv").
    Paired,
    /// The dashboard asked for the status (`GET /api/whatsapp/status`).
    StatusRequest,
    /// The supervisor announced a wait before reconnecting ("Esperando Nms").
    Wait { ms: u64 },
}

/// One understood line.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Index of the log file in the command line's order.
    pub file: usize,
    /// 1-based line number in that file.
    pub line: usize,
    /// Milliseconds since the Unix epoch, or since the file's first line
    /// when the log gives only times of day or none.
    pub at_ms: i64,
    pub instance: InstanceKey,
    /// The user as the log names it, if it does.
    pub user: Option<String>,
    pub kind: RecordKind,
    /// The line itself, trimmed and cut to [`QUOTE_CHARS`], for the comment
    /// that quotes it above the event it became.
    pub quote: String,
}

/// How much of a line a comment quotes.
pub const QUOTE_CHARS: usize = 160;

/// Cuts `text` to [`QUOTE_CHARS`] characters and replaces control characters,
/// so a quote is one safe TOML comment line.
pub fn quote(text: &str) -> String {
    let mut out: String = text
        .trim()
        .chars()
        .take(QUOTE_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.trim().chars().count() > QUOTE_CHARS {
        out.push('…');
    }
    out
}
