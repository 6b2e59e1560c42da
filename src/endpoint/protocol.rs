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
//!                     {"type":"stream_error","code":401,"reason":"...",
//!                      "child":{"tag":"conflict","type":"device_removed"}}
//!                     (a Baileys stream:error node: `code` and `child` are
//!                     each optional; see `close_code::stream_error_code`)
//!                     {"type":"message","id":3}   (an incoming message)
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
    Connected {
        user: String,
    },
    Qr {
        index: u32,
        ttl_ms: u64,
    },
    Paired {
        credentials: String,
    },
    Pong {
        id: u64,
    },
    /// A Baileys `stream:error` node. Frames from before children were
    /// modelled (a `code` and a `reason`) read the same.
    StreamError {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<u16>,
        #[serde(default)]
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        child: Option<StreamErrorChild>,
    },
    /// An incoming chat message (its content is of no interest here): the
    /// traffic an idle watchdog waits for. `id` counts the socket's messages.
    Message {
        id: u64,
    },
}

/// A `stream:error` node's child, e.g. `<conflict type="device_removed"/>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamErrorChild {
    pub tag: String,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

impl ServerFrame {
    /// A plain `stream_error {code, reason}`, as every scripted close sends.
    pub fn stream_error(code: u16, reason: impl Into<String>) -> Self {
        ServerFrame::StreamError {
            code: Some(code),
            reason: reason.into(),
            child: None,
        }
    }
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
