//! Baileys' close codes (`DisconnectReason`): the one table the endpoint
//! sends from (`stream_error`), the supervisor acts on, and scenario files
//! are checked against.

use std::fmt;

/// A close code a WhatsApp socket can end with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CloseCode {
    /// 401: the device was unlinked; reconnecting cannot help.
    LoggedOut,
    /// 403: the account may not connect.
    Forbidden,
    /// 408: connection lost or timed out; also "QR refs attempts ended".
    TimedOut,
    /// 411: multi-device mismatch.
    MultideviceMismatch,
    /// 428: the connection closed without a code.
    ConnectionClosed,
    /// 440: another socket for the same account replaced this one.
    ConnectionReplaced,
    /// 500: bad session.
    BadSession,
    /// 503: the service is unavailable.
    Unavailable,
    /// 515: restart required (after pairing); reconnect at once, not a failure.
    RestartRequired,
}

impl CloseCode {
    pub const ALL: [CloseCode; 9] = [
        CloseCode::LoggedOut,
        CloseCode::Forbidden,
        CloseCode::TimedOut,
        CloseCode::MultideviceMismatch,
        CloseCode::ConnectionClosed,
        CloseCode::ConnectionReplaced,
        CloseCode::BadSession,
        CloseCode::Unavailable,
        CloseCode::RestartRequired,
    ];

    pub const fn code(self) -> u16 {
        match self {
            CloseCode::LoggedOut => 401,
            CloseCode::Forbidden => 403,
            CloseCode::TimedOut => 408,
            CloseCode::MultideviceMismatch => 411,
            CloseCode::ConnectionClosed => 428,
            CloseCode::ConnectionReplaced => 440,
            CloseCode::BadSession => 500,
            CloseCode::Unavailable => 503,
            CloseCode::RestartRequired => 515,
        }
    }

    pub fn from_code(code: u16) -> Option<CloseCode> {
        Self::ALL.into_iter().find(|c| c.code() == code)
    }

    /// The reason text the endpoint sends with it.
    pub fn reason(self) -> &'static str {
        match self {
            CloseCode::LoggedOut => "logged out",
            CloseCode::Forbidden => "forbidden",
            CloseCode::TimedOut => "connection lost",
            CloseCode::MultideviceMismatch => "multi-device mismatch",
            CloseCode::ConnectionClosed => "connection closed",
            CloseCode::ConnectionReplaced => "conflict: replaced",
            CloseCode::BadSession => "bad session",
            CloseCode::Unavailable => "service unavailable",
            CloseCode::RestartRequired => "restart required",
        }
    }

    /// Baileys' name for it.
    pub fn name(self) -> &'static str {
        match self {
            CloseCode::LoggedOut => "loggedOut",
            CloseCode::Forbidden => "forbidden",
            CloseCode::TimedOut => "timedOut",
            CloseCode::MultideviceMismatch => "multideviceMismatch",
            CloseCode::ConnectionClosed => "connectionClosed",
            CloseCode::ConnectionReplaced => "connectionReplaced",
            CloseCode::BadSession => "badSession",
            CloseCode::Unavailable => "unavailableService",
            CloseCode::RestartRequired => "restartRequired",
        }
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code(), self.name())
    }
}

/// The code a `stream:error` node amounts to, in Baileys' own order
/// (`getErrorCodeFromStreamError`): the node's `code` attribute first; else
/// its first child's tag looked up in Baileys' `CODE_MAP`, where only
/// `conflict` is listed (440, connection replaced); else 500 (bad session).
/// So `code=401` with a `conflict type=device_removed` child is a logout,
/// and a bare `conflict` is a replacement. The child's `type` attribute
/// never changes the code.
pub fn stream_error_code(code: Option<u16>, child: Option<&str>) -> u16 {
    match (code, child) {
        (Some(code), _) => code,
        (None, Some("conflict")) => CloseCode::ConnectionReplaced.code(),
        (None, _) => CloseCode::BadSession.code(),
    }
}
