//! Baileys' pino JSON lines: `{"level":30,"time":…,"pid":…,"hostname":…,
//! "msg":…, …}`.
//!
//! `time` is epoch milliseconds (pino's default) or an ISO string
//! (`pino.stdTimeFunctions.isoTime`). The user is read from the first of
//! `userId`, `user`, `sessionId`, `session`, `jid` that is a string. The
//! messages understood are Baileys' own (`connected to WA`, `opened connection
//! to WA`, `connection closed`, `connection errored`, `stream errored out`,
//! `pair success recv`) and the common application forms (`connection.update`
//! lines with `connection: "close"`/`"open"`, a `qr` field, `GET
//! /api/whatsapp/status` request logs).

use serde_json::Value;

use super::close_code::{self, find_stream_node};
use super::record::{InstanceKey, RecordKind};
use super::time::{self, Stamp};

/// A pino line, understood.
#[derive(Debug, Clone, PartialEq)]
pub struct PinoLine {
    pub stamp: Option<Stamp>,
    pub instance: InstanceKey,
    pub user: Option<String>,
    /// None when the line is valid pino but not about a connection.
    pub kind: Option<RecordKind>,
}

/// Why a JSON-looking line was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinoProblem {
    NotJson(String),
    NotAnObject,
}

const USER_FIELDS: [&str; 5] = ["userId", "user", "sessionId", "session", "jid"];

/// Reads one line that starts with `{`.
pub fn parse(text: &str) -> Result<PinoLine, PinoProblem> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| PinoProblem::NotJson(e.to_string()))?;
    let map = value.as_object().ok_or(PinoProblem::NotAnObject)?;
    let stamp = match map.get("time") {
        Some(Value::Number(n)) => n.as_i64().map(Stamp::Epoch),
        Some(Value::String(s)) => time::parse_whole(s),
        _ => None,
    };
    let field = |k: &str| match map.get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    let instance = InstanceKey {
        hostname: field("hostname"),
        pid: field("pid"),
    };
    let user = USER_FIELDS
        .iter()
        .find_map(|k| map.get(*k).and_then(Value::as_str))
        .map(|s| s.split(['@', ':']).next().unwrap_or(s).to_owned());
    let msg = map.get("msg").and_then(Value::as_str).unwrap_or_default();
    Ok(PinoLine {
        stamp,
        instance,
        user,
        kind: classify(&value, msg),
    })
}

fn classify(line: &Value, msg: &str) -> Option<RecordKind> {
    let lower = msg.to_ascii_lowercase();
    let connection = line.get("connection").and_then(Value::as_str);
    if lower.contains("stream errored") {
        let node = find_stream_node(line, 0).unwrap_or_default();
        return Some(RecordKind::StreamError {
            code: node.code,
            child: node.child,
            child_type: node.child_type,
        });
    }
    if lower.contains("connection closed")
        || lower.contains("connection errored")
        || connection == Some("close")
    {
        let (code, source) = close_code::resolve(line);
        return Some(RecordKind::Closed {
            code,
            how: source.describe().to_owned(),
        });
    }
    if lower.contains("opened connection") || connection == Some("open") {
        return Some(RecordKind::Opened);
    }
    if lower.contains("connected to wa") || connection == Some("connecting") {
        return Some(RecordKind::AttemptStarted);
    }
    if lower.contains("pair success") {
        return Some(RecordKind::Paired);
    }
    if line.get("qr").is_some() || lower.contains("qr code") || lower.contains("scan the qr") {
        return Some(RecordKind::Qr);
    }
    if is_status_request(line, msg) {
        return Some(RecordKind::StatusRequest);
    }
    None
}

fn is_status_request(line: &Value, msg: &str) -> bool {
    let url = line
        .get("req")
        .and_then(|r| r.get("url"))
        .and_then(Value::as_str)
        .unwrap_or(msg);
    url.contains("/api/whatsapp/status")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_close_with_a_boom_reads_its_code_pid_and_host() {
        let line = parse(r#"{"level":40,"time":1714557600123,"pid":42,"hostname":"web-1","userId":"5511999@s.whatsapp.net","msg":"connection closed","err":{"output":{"statusCode":440}}}"#).unwrap();
        assert_eq!(line.stamp, Some(Stamp::Epoch(1_714_557_600_123)));
        assert_eq!(
            line.instance,
            InstanceKey {
                hostname: "web-1".into(),
                pid: "42".into()
            }
        );
        assert_eq!(line.user.as_deref(), Some("5511999"));
        assert!(matches!(
            line.kind,
            Some(RecordKind::Closed { code: 440, .. })
        ));
    }

    #[test]
    fn a_stream_error_keeps_its_node_parts() {
        let line = parse(r#"{"time":"2024-05-01T10:00:00Z","msg":"stream errored out","node":{"tag":"stream:error","attrs":{"code":"401"},"content":[{"tag":"conflict","attrs":{"type":"device_removed"}}]}}"#).unwrap();
        assert_eq!(
            line.kind,
            Some(RecordKind::StreamError {
                code: Some(401),
                child: Some("conflict".into()),
                child_type: Some("device_removed".into())
            })
        );
    }

    #[test]
    fn an_unrelated_pino_line_has_no_kind() {
        assert_eq!(
            parse(r#"{"time":1,"msg":"sent message"}"#).unwrap().kind,
            None
        );
    }

    #[test]
    fn broken_json_is_a_problem_not_a_panic() {
        assert!(matches!(parse("{\"time\":"), Err(PinoProblem::NotJson(_))));
        assert_eq!(parse("[1]").err(), Some(PinoProblem::NotAnObject));
    }
}
