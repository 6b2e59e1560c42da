use std::path::PathBuf;

/// Why a log could not be imported at all. Each names the file, and the
/// line where there is one.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: no connection events found in {lines} lines ({skipped} skipped); loopguard import reads Baileys' pino JSON lines and the reference service's console lines")]
    NothingToImport {
        path: PathBuf,
        lines: usize,
        skipped: usize,
    },
    #[error("{path}:{line}: {message}")]
    AtLine {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("--window {window}: {message}")]
    Window { window: String, message: String },
    #[error("{path}: {message}")]
    UserMap { path: PathBuf, message: String },
}

/// Something the importer read but could not use, with where it was. Warnings
/// never stop an import; they are printed and counted in the header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub path: PathBuf,
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.path.display(), self.line, self.message)
    }
}
