//! A close's code, resolved in Baileys' own order.
//!
//! A pino line carries a close as an error object (a Boom, serialised), a
//! `stream:error` node, or only a message. Baileys itself decides the code in
//! this order, and so does the importer:
//! 1. the Boom's `output.statusCode`;
//! 2. the node's `attrs.code`;
//! 3. a `conflict` child: 440 (connection replaced), but 401 (logged out) when
//!    its `type` is `device_removed`;
//! 4. the message text: "Connection was lost", "QR refs attempts ended" and
//!    "Timed Out" → 408; "Connection Terminated" → 428; "restart required" →
//!    515; "Intentional Logout" → 401;
//! 5. otherwise 500 (bad session).

use serde_json::Value;

/// What the code was read from, for the comment above the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeSource {
    BoomStatusCode,
    NodeCodeAttribute,
    ConflictChild,
    MessageText,
    Default,
}

impl CodeSource {
    pub fn describe(self) -> &'static str {
        match self {
            CodeSource::BoomStatusCode => "the error's output.statusCode",
            CodeSource::NodeCodeAttribute => "the stream:error node's code attribute",
            CodeSource::ConflictChild => "the stream:error node's conflict child",
            CodeSource::MessageText => "the error message's text",
            CodeSource::Default => "no code in the line (Baileys' default, 500)",
        }
    }
}

/// The texts Baileys closes with, and their codes (step 4).
pub const MESSAGE_CODES: [(&str, u16); 6] = [
    ("Connection was lost", 408),
    ("QR refs attempts ended", 408),
    ("Timed Out", 408),
    ("Connection Terminated", 428),
    ("restart required", 515),
    ("Intentional Logout", 401),
];

/// How deep the importer looks into a line's JSON for the error and node:
/// enough for `lastDisconnect.error.output.statusCode`, bounded so a hostile
/// line cannot make it recurse without end.
const MAX_DEPTH: usize = 8;

/// A `stream:error` node's parts as Baileys reads them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamNode {
    pub code: Option<u16>,
    pub child: Option<String>,
    pub child_type: Option<String>,
}

/// Resolves the code of a close described by a pino line's JSON object.
pub fn resolve(line: &Value) -> (u16, CodeSource) {
    if let Some(code) = find_status_code(line, 0) {
        return (code, CodeSource::BoomStatusCode);
    }
    if let Some(node) = find_stream_node(line, 0) {
        if let Some(code) = node.code {
            return (code, CodeSource::NodeCodeAttribute);
        }
        if node.child.as_deref() == Some("conflict") {
            let code = if node.child_type.as_deref() == Some("device_removed") {
                401
            } else {
                440
            };
            return (code, CodeSource::ConflictChild);
        }
    }
    let mut texts = Vec::new();
    collect_texts(line, 0, &mut texts);
    texts
        .iter()
        .find_map(|t| code_from_text(t))
        .map_or((500, CodeSource::Default), |c| (c, CodeSource::MessageText))
}

/// Step 4 alone: the code a close message's text maps to.
pub fn code_from_text(text: &str) -> Option<u16> {
    let lower = text.to_ascii_lowercase();
    MESSAGE_CODES
        .iter()
        .find(|(needle, _)| lower.contains(&needle.to_ascii_lowercase()))
        .map(|(_, code)| *code)
}

fn as_code(v: &Value) -> Option<u16> {
    match v {
        Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn find_status_code(v: &Value, depth: usize) -> Option<u16> {
    if depth > MAX_DEPTH {
        return None;
    }
    let map = v.as_object()?;
    if let Some(code) = map
        .get("output")
        .and_then(|o| o.get("statusCode"))
        .and_then(as_code)
    {
        return Some(code);
    }
    map.values()
        .find_map(|child| find_status_code(child, depth + 1))
}

/// Finds a `stream:error` node anywhere in the line (as `node`, a Boom's
/// `data`, or deeper).
pub fn find_stream_node(v: &Value, depth: usize) -> Option<StreamNode> {
    if depth > MAX_DEPTH {
        return None;
    }
    let map = v.as_object()?;
    if map.get("tag").and_then(Value::as_str) == Some("stream:error") {
        let attrs = map.get("attrs");
        let code = attrs.and_then(|a| a.get("code")).and_then(as_code);
        let first = map
            .get("content")
            .and_then(Value::as_array)
            .and_then(|c| c.iter().find(|n| n.get("tag").is_some()));
        let child = first
            .and_then(|n| n.get("tag"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let child_type = first
            .and_then(|n| n.get("attrs"))
            .and_then(|a| a.get("type"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        return Some(StreamNode {
            code,
            child,
            child_type,
        });
    }
    map.values()
        .find_map(|child| find_stream_node(child, depth + 1))
}

fn collect_texts<'a>(v: &'a Value, depth: usize, out: &mut Vec<&'a str>) {
    if depth > MAX_DEPTH {
        return;
    }
    match v {
        Value::Object(map) => {
            for key in ["message", "msg", "reason", "error"] {
                if let Some(Value::String(s)) = map.get(key) {
                    out.push(s);
                }
            }
            for child in map.values() {
                collect_texts(child, depth + 1, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_texts(i, depth + 1, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_booms_status_code_comes_first() {
        let line = json!({"err": {"output": {"statusCode": 428}, "message": "Connection was lost",
            "data": {"tag": "stream:error", "attrs": {"code": "515"}}}});
        assert_eq!(resolve(&line), (428, CodeSource::BoomStatusCode));
    }

    #[test]
    fn the_nodes_code_attribute_comes_before_its_children() {
        let line = json!({"node": {"tag": "stream:error", "attrs": {"code": "515"},
            "content": [{"tag": "conflict", "attrs": {"type": "replaced"}}]}});
        assert_eq!(resolve(&line), (515, CodeSource::NodeCodeAttribute));
    }

    #[test]
    fn a_bare_conflict_child_is_440() {
        let line = json!({"node": {"tag": "stream:error", "attrs": {},
            "content": [{"tag": "conflict", "attrs": {"type": "replaced"}}]}});
        assert_eq!(resolve(&line), (440, CodeSource::ConflictChild));
    }

    #[test]
    fn a_device_removed_conflict_is_logged_out() {
        let line = json!({"node": {"tag": "stream:error", "attrs": {},
            "content": [{"tag": "conflict", "attrs": {"type": "device_removed"}}]}});
        assert_eq!(resolve(&line), (401, CodeSource::ConflictChild));
    }

    #[test]
    fn message_texts_map_to_their_codes() {
        for (text, code) in MESSAGE_CODES {
            assert_eq!(
                resolve(&json!({"err": {"message": text}})),
                (code, CodeSource::MessageText)
            );
        }
    }

    #[test]
    fn anything_else_is_a_bad_session() {
        assert_eq!(
            resolve(&json!({"msg": "connection closed"})),
            (500, CodeSource::Default)
        );
    }

    #[test]
    fn a_hostile_nesting_depth_is_not_followed() {
        let mut v = json!({"output": {"statusCode": 408}});
        for _ in 0..100 {
            v = json!({ "e": v });
        }
        assert_eq!(resolve(&v), (500, CodeSource::Default));
    }
}
