//! Writing what a run leaves behind so that nothing half-written is ever
//! taken for a result, and printing it so that nothing in it can act on the
//! reader's terminal or shell.
//!
//! - [`atomic`]: every file is written under a temporary name in its own
//!   folder and renamed into place, so a crash or SIGKILL leaves either the
//!   old file or the new one, never a truncated one;
//! - [`hash`]: SHA-256 of the files a run folder keeps, to tell a complete
//!   folder from a damaged one;
//! - [`text`]: shell quoting of the commands loopguard prints, and escaping
//!   of control characters in text that came from a scenario file.

pub mod atomic;
pub mod hash;
pub mod text;

pub use atomic::{write_atomic, AtomicFile};
pub use hash::{sha256_file, sha256_hex};
pub use text::{escape_control, shell_command, shell_quote};
