//! The fake endpoint's wire protocol: JSON text frames over a WebSocket.
//!
//! ```text
//! client → endpoint   {"type":"hello","user":"alice","credentials":"creds-alice"}
//!                     (credentials null: not paired yet, asks for QR refs)
//!                     {"type":"ping","id":7}
//! endpoint → client   {"type":"connected","user":"alice"}
//!                     {"type":"qr","index":1,"ttl_ms":60000}
//!                     {"type":"paired","credentials":"creds-alice"}
//!                     {"type":"pong","id":7}
//!                     {"type":"stream_error","code":440,"reason":"conflict: replaced"}
//!                     then a WebSocket close frame
//! ```
//!
//! A socket must say hello first. After a `stream_error` the endpoint closes
//! the socket; the code is the Baileys close code the supervisor acts on.
//! A socket that sends no hello within 20 s of the accept, whose first frame
//! is not a hello, or that sends anything that is not one of these frames is
//! closed without a `stream_error`.

use serde::{Deserialize, Serialize};

/// Frames the supervisor sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    Hello {
        user: String,
        credentials: Option<String>,
    },
    Ping {
        id: u64,
    },
}

/// Frames the endpoint sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    Connected { user: String },
    Qr { index: u32, ttl_ms: u64 },
    Paired { credentials: String },
    Pong { id: u64 },
    StreamError { code: u16, reason: String },
}

impl ClientFrame {
    pub fn to_text(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl ServerFrame {
    pub fn to_text(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The credentials the endpoint hands out when `user` pairs.
pub fn credentials_for(user: &str) -> String {
    format!("creds-{user}")
}
