use std::path::{Path, PathBuf};

use crate::trace::TraceReadError;

/// Why a plot or a report could not be written; every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: bad summary: {source}", path.display())]
    Summary {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{}: {source}", path.display())]
    Trace {
        path: PathBuf,
        source: TraceReadError,
    },
    #[error("{}: cannot draw the timeline: {message}", path.display())]
    Plot { path: PathBuf, message: String },
}

impl ReportError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        ReportError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn plot(path: &Path, message: impl ToString) -> Self {
        ReportError::Plot {
            path: path.to_path_buf(),
            message: message.to_string(),
        }
    }

    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            ReportError::Io { path, .. }
            | ReportError::Summary { path, .. }
            | ReportError::Trace { path, .. }
            | ReportError::Plot { path, .. } => path,
        }
    }
}

/// Writes `contents` to `path`, naming the file on failure.
pub(crate) fn write_file(path: &Path, contents: &[u8]) -> Result<(), ReportError> {
    crate::output::write_atomic(path, contents).map_err(|e| ReportError::io(path, e))
}
