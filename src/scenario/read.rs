//! Reading a file for the parser: never more than
//! [`MAX_FILE_BYTES`](super::limits::MAX_FILE_BYTES) from disk, and text only
//! when it is UTF-8 (else the error gives line and byte offset).

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use super::error::ScenarioError;
use super::limits::{self, MAX_FILE_BYTES};

/// The file's bytes, read up to one byte past the limit (so a huge file is
/// refused without being read whole).
pub fn read_capped(path: &Path) -> Result<Vec<u8>, ScenarioError> {
    let file = std::fs::File::open(path).map_err(|e| ScenarioError::read(path, e))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ScenarioError::read(path, e))?;
    Ok(bytes)
}

/// The bytes as text, or an error at the first byte that is not UTF-8 (its
/// snippet shows the line with the byte replaced).
pub fn utf8<'b>(path: &Path, bytes: &'b [u8]) -> Result<&'b str, ScenarioError> {
    limits::file_text(bytes).map_err(|(at, r)| {
        let lossy = String::from_utf8_lossy(bytes);
        let line = limits::line_at(bytes, at);
        let end = lossy
            .get(at..)
            .and_then(|rest| rest.chars().next())
            .map_or(at, |c| at + c.len_utf8());
        ScenarioError::at(path, line, "", r.message)
            .with_help(r.help)
            .with_span(at..end)
            .with_text(&Arc::from(lossy.as_ref()))
    })
}
