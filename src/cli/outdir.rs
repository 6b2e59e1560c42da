//! The batch's output directory, checked before any run starts.
//!
//! A `--out` that cannot be made a directory (a path that is a file, a
//! folder without write permission) must not cost the user the runs: they
//! are made in a scratch directory under the system's temporary folder, their
//! verdicts are printed, and the batch then reports the bad path and exits 2.
//! The scratch directory is removed at the end.

use std::path::{Path, PathBuf};

/// Where a batch writes its run folders.
pub struct OutDir {
    /// Where runs are written: `--out`, or the scratch directory.
    pub path: PathBuf,
    /// Why `--out` cannot be used, naming it.
    pub error: Option<String>,
    scratch: bool,
}

impl OutDir {
    pub fn prepare(out: &Path) -> OutDir {
        let error = match std::fs::create_dir_all(out) {
            Ok(()) if out.is_dir() => return OutDir::usable(out),
            Ok(()) => format!("{}: --out is not a directory", out.display()),
            Err(e) => format!("{}: cannot use it as --out: {e}", out.display()),
        };
        let scratch = std::env::temp_dir().join(format!("loopguard-{}", std::process::id()));
        match std::fs::create_dir_all(&scratch) {
            Ok(()) => OutDir {
                path: scratch,
                error: Some(format!(
                    "{error}; the runs were made in a scratch directory and not kept"
                )),
                scratch: true,
            },
            Err(e) => OutDir {
                path: out.to_path_buf(),
                error: Some(format!("{error} (and no scratch directory: {e})")),
                scratch: false,
            },
        }
    }

    fn usable(out: &Path) -> OutDir {
        OutDir {
            path: out.to_path_buf(),
            error: None,
            scratch: false,
        }
    }
}

impl Drop for OutDir {
    fn drop(&mut self) {
        if self.scratch {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}
