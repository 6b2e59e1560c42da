//! Why a scenario file was refused: always one line naming file, line and field.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A scenario file that could not be read or does not say something loopguard
/// can run. Its `Display` is one line:
///
/// ```text
/// scenarios/x.toml:12: events[2].code: unknown close code 999 (known: 401, 403, ...)
/// scenarios/x.toml:3: unknown field `durration` (did you mean `duration`? expected one of ...)
/// scenarios/x.toml:14: events[0]: unknown field `cod` for action `close` (...)
/// scenarios/missing.toml: cannot read: No such file or directory
/// ```
///
/// For an unknown or missing field the prefix is the table it belongs to (none
/// at the top level) and the message names the key; otherwise the prefix is
/// the field itself. [`ScenarioError::field`] is always the full path of the
/// offending field (`events[2].code`, `durration`, `events[0].cod`); array
/// indices count from 0.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("{}: cannot read: {reason}", .file.display())]
    Read {
        file: PathBuf,
        /// The OS's words, without the `(os error N)` suffix.
        reason: String,
        #[source]
        source: std::io::Error,
    },
    /// The file was read but is not a valid scenario.
    #[error("{}:{line}: {}{message}{}", .file.display(), prefix(.context.as_deref()), suffix(.detail.help.as_deref()))]
    Invalid {
        file: PathBuf,
        /// 1-based line.
        line: usize,
        /// Full path of the offending field, when there is one.
        field: Option<String>,
        /// What the message is prefixed with (the field, or for an unknown
        /// or missing field the table holding it).
        context: Option<String>,
        message: String,
        /// Help, place and text for the rendered form (boxed: an error is
        /// passed around by value on every parse step).
        detail: Box<Detail>,
    },
}

/// What [`render`](crate::scenario::render) needs beyond the one-line form.
#[derive(Debug, Default)]
pub struct Detail {
    /// What to write instead, when the message does not say it already
    /// (shown in parentheses on the one-line form, as `help:` rendered).
    pub help: Option<String>,
    /// Byte range of the offending key or value in the file, when known
    /// (the caret of the rendered snippet).
    pub span: Option<Range<usize>>,
    /// The file's text, for the rendered snippet.
    pub text: Option<SourceText>,
}

/// A file's text, shared by its errors; its `Debug` is only its length, so a
/// failing test does not print the whole file.
#[derive(Clone)]
pub struct SourceText(pub Arc<str>);

impl std::fmt::Debug for SourceText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SourceText({} bytes)", self.0.len())
    }
}

fn suffix(help: Option<&str>) -> String {
    help.map(|h| format!(" ({h})")).unwrap_or_default()
}

fn prefix(context: Option<&str>) -> String {
    match context {
        Some(c) if !c.is_empty() => format!("{c}: "),
        _ => String::new(),
    }
}

impl ScenarioError {
    pub(crate) fn read(file: &Path, source: std::io::Error) -> Self {
        let text = source.to_string();
        let reason = match text.rfind(" (os error ") {
            Some(i) if text.ends_with(')') => text[..i].to_string(),
            _ => text,
        };
        ScenarioError::Read {
            file: file.to_path_buf(),
            reason,
            source,
        }
    }

    /// An error about `field`, shown as `file:line: field: message`.
    pub(crate) fn at(file: &Path, line: usize, field: &str, message: impl Into<String>) -> Self {
        let field = (!field.is_empty()).then(|| field.to_string());
        ScenarioError::Invalid {
            file: file.to_path_buf(),
            line,
            context: field.clone(),
            field,
            message: one_line(message.into()),
            detail: Box::default(),
        }
    }

    /// An error about key `key` of table `parent`, shown as
    /// `file:line: parent: message` (the message names the key).
    pub(crate) fn within(
        file: &Path,
        line: usize,
        parent: &str,
        key: &str,
        message: impl Into<String>,
    ) -> Self {
        ScenarioError::Invalid {
            file: file.to_path_buf(),
            line,
            field: Some(join(parent, key)),
            context: (!parent.is_empty()).then(|| parent.to_string()),
            message: one_line(message.into()),
            detail: Box::default(),
        }
    }

    /// The same error, saying what to write instead.
    pub(crate) fn with_help(mut self, what: impl Into<String>) -> Self {
        if let ScenarioError::Invalid { detail, .. } = &mut self {
            detail.help = Some(one_line(what.into()));
        }
        self
    }

    /// The same error, pointing at bytes `at` of the file.
    pub(crate) fn with_span(mut self, at: Range<usize>) -> Self {
        if let ScenarioError::Invalid { detail, .. } = &mut self {
            detail.span = Some(at);
        }
        self
    }

    /// The same error, carrying the file's text for its snippet (kept if it
    /// has one already).
    pub(crate) fn with_text(mut self, source: &Arc<str>) -> Self {
        if let ScenarioError::Invalid { detail, .. } = &mut self {
            detail
                .text
                .get_or_insert_with(|| SourceText(Arc::clone(source)));
        }
        self
    }

    /// The file, as it was given.
    pub fn file(&self) -> &Path {
        match self {
            ScenarioError::Read { file, .. } | ScenarioError::Invalid { file, .. } => file,
        }
    }

    /// 1-based line of the problem; `None` when the file could not be read.
    pub fn line(&self) -> Option<usize> {
        match self {
            ScenarioError::Read { .. } => None,
            ScenarioError::Invalid { line, .. } => Some(*line),
        }
    }

    /// Full path of the offending field (`events[2].code`, array indices from
    /// 0); `None` when the file could not be read or is not valid TOML at a
    /// place that is not a key.
    pub fn field(&self) -> Option<&str> {
        match self {
            ScenarioError::Read { .. } => None,
            ScenarioError::Invalid { field, .. } => field.as_deref(),
        }
    }

    /// What the one-line form prefixes the message with: the field, or for an
    /// unknown or missing field the table holding it.
    pub fn context(&self) -> Option<&str> {
        match self {
            ScenarioError::Invalid {
                context: Some(c), ..
            } if !c.is_empty() => Some(c),
            _ => None,
        }
    }

    /// What to write instead, when it is not in the message already.
    pub fn help(&self) -> Option<&str> {
        match self {
            ScenarioError::Read { .. } => None,
            ScenarioError::Invalid { detail, .. } => detail.help.as_deref(),
        }
    }

    /// Byte range in the file the error is about, when known.
    pub fn span(&self) -> Option<Range<usize>> {
        match self {
            ScenarioError::Read { .. } => None,
            ScenarioError::Invalid { detail, .. } => detail.span.clone(),
        }
    }

    /// The file's text, when the error carries it.
    pub fn source_text(&self) -> Option<&str> {
        match self {
            ScenarioError::Invalid { detail, .. } => detail.text.as_ref().map(|t| &*t.0),
            ScenarioError::Read { .. } => None,
        }
    }

    /// The message alone, without file, line and field.
    pub fn message(&self) -> &str {
        match self {
            ScenarioError::Read { reason, .. } => reason,
            ScenarioError::Invalid { message, .. } => message,
        }
    }
}

/// `parent.key`, or `key` at the top level.
pub(crate) fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

fn one_line(message: String) -> String {
    if !message.contains('\n') {
        return message;
    }
    message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}
