//! Reading log files into records: one line at a time, bounded, never
//! panicking, whatever the file holds.
//!
//! - A line longer than [`MAX_LINE_BYTES`] is skipped with a warning (the
//!   rest of it is read past, never held).
//! - Bad UTF-8 is replaced and warned about with its line and byte offset.
//! - Each line is read by its shape: `{` starts a pino JSON line, anything
//!   else is tried as a console line; other lines are skipped and counted.
//! - Lines out of time order are warned about, then ordered by time (file
//!   order among equal times).

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use super::console::{self, ConsoleLine};
use super::error::{ImportError, Warning};
use super::pino::{self, PinoProblem};
use super::record::{quote, InstanceKey, Record, RecordKind};
use super::time::Stamp;

/// Longest line read; longer ones are skipped with a warning.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// Most warnings kept per file; the rest are only counted.
pub const MAX_WARNINGS_PER_FILE: usize = 50;

/// Every record of every log, in time order, with what was skipped.
#[derive(Debug, Clone, Default)]
pub struct LogSet {
    pub files: Vec<PathBuf>,
    pub records: Vec<Record>,
    pub warnings: Vec<Warning>,
    /// Warnings beyond [`MAX_WARNINGS_PER_FILE`], not kept.
    pub warnings_dropped: usize,
    pub lines: usize,
    /// Lines of a known kind that say nothing about the outside world.
    pub known: usize,
    /// Lines of no kind the importer reads.
    pub skipped: usize,
    /// Whether some file had no dates (times of day, or no times at all).
    pub relative_times: bool,
}

/// Reads every log into one time-ordered [`LogSet`].
pub fn read_logs(paths: &[PathBuf]) -> Result<LogSet, ImportError> {
    let mut set = LogSet::default();
    for (index, path) in paths.iter().enumerate() {
        let file = File::open(path).map_err(|source| ImportError::Io {
            path: path.clone(),
            source,
        })?;
        let before = set.records.len();
        let lines_before = set.lines;
        let skipped_before = set.skipped;
        read_one(index, path, BufReader::new(file), &mut set)?;
        if set.records.len() == before
            || !set.records[before..]
                .iter()
                .any(|r| !matches!(r.kind, RecordKind::Wait { .. }))
        {
            return Err(ImportError::NothingToImport {
                path: path.clone(),
                lines: set.lines - lines_before,
                skipped: set.skipped - skipped_before,
            });
        }
        set.files.push(path.clone());
    }
    set.records.sort_by_key(|r| (r.at_ms, r.file, r.line));
    Ok(set)
}

/// One line's bytes, cut at the cap; `len` is its whole length.
struct RawLine {
    bytes: Vec<u8>,
    len: usize,
}

/// Reads the next line without ever holding more than [`MAX_LINE_BYTES`].
fn next_line<R: BufRead>(reader: &mut R) -> std::io::Result<Option<RawLine>> {
    let mut bytes = Vec::new();
    let mut len = 0usize;
    let mut any = false;
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            return Ok(any.then_some(RawLine { bytes, len }));
        }
        any = true;
        let (chunk, used, done) = match buf.iter().position(|b| *b == b'\n') {
            Some(nl) => (&buf[..nl], nl + 1, true),
            None => (buf, buf.len(), false),
        };
        let room = MAX_LINE_BYTES.saturating_sub(bytes.len());
        bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
        len = len.saturating_add(chunk.len());
        reader.consume(used);
        if done {
            return Ok(Some(RawLine { bytes, len }));
        }
    }
}

struct FileState<'a> {
    index: usize,
    path: &'a Path,
    warnings: usize,
    /// Time of the last timed line, plus the waits announced since.
    clock_ms: i64,
    /// Date (epoch ms of midnight) of the last dated line, for times of day.
    day_ms: Option<i64>,
    last_at: Option<(i64, usize)>,
    pino_lines: usize,
    console_lines: usize,
}

impl FileState<'_> {
    fn warn(&mut self, set: &mut LogSet, line: usize, message: String) {
        self.warnings += 1;
        if self.warnings > MAX_WARNINGS_PER_FILE {
            set.warnings_dropped += 1;
        } else {
            set.warnings.push(Warning {
                path: self.path.to_path_buf(),
                line,
                message,
            });
        }
    }

    fn place(&mut self, set: &mut LogSet, stamp: Option<Stamp>) -> i64 {
        match stamp {
            Some(Stamp::Epoch(ms)) => {
                self.day_ms = Some(ms - ms.rem_euclid(86_400_000));
                self.clock_ms = ms;
            }
            Some(Stamp::TimeOfDay(ms)) => {
                if self.day_ms.is_none() {
                    set.relative_times = true;
                }
                self.clock_ms = self.day_ms.unwrap_or(0) + ms;
            }
            None => {
                if self.last_at.is_none() {
                    set.relative_times = true;
                }
            }
        }
        self.clock_ms
    }
}

fn read_one<R: Read>(
    index: usize,
    path: &Path,
    reader: BufReader<R>,
    set: &mut LogSet,
) -> Result<(), ImportError> {
    let mut reader = reader;
    let mut state = FileState {
        index,
        path,
        warnings: 0,
        clock_ms: 0,
        day_ms: None,
        last_at: None,
        pino_lines: 0,
        console_lines: 0,
    };
    let mut number = 0usize;
    while let Some(raw) = next_line(&mut reader).map_err(|source| ImportError::Io {
        path: path.to_path_buf(),
        source,
    })? {
        number += 1;
        set.lines += 1;
        if raw.len > MAX_LINE_BYTES {
            state.warn(
                set,
                number,
                format!(
                    "line of {} bytes, longer than the {MAX_LINE_BYTES} read; skipped",
                    raw.len
                ),
            );
            set.skipped += 1;
            continue;
        }
        let text = match std::str::from_utf8(&raw.bytes) {
            Ok(text) => text.trim_end_matches('\r').to_owned(),
            Err(e) => {
                state.warn(
                    set,
                    number,
                    format!(
                        "invalid UTF-8 at byte {} of the line; replaced",
                        e.valid_up_to()
                    ),
                );
                String::from_utf8_lossy(&raw.bytes)
                    .trim_end_matches('\r')
                    .to_owned()
            }
        };
        read_text(&mut state, set, number, &text);
    }
    if state.pino_lines > 0 && state.console_lines > 0 {
        let message = format!(
            "mixes pino JSON ({} lines) and console lines ({} lines); each line is read by its own shape",
            state.pino_lines, state.console_lines
        );
        state.warn(set, number, message);
    }
    Ok(())
}

fn file_instance(index: usize, process: Option<String>) -> InstanceKey {
    InstanceKey {
        hostname: format!("file{}", index + 1),
        pid: process.unwrap_or_default(),
    }
}

fn read_text(state: &mut FileState<'_>, set: &mut LogSet, number: usize, text: &str) {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return;
    }
    let (stamp, instance, user, kind) = if trimmed.starts_with('{') {
        match pino::parse(trimmed) {
            Ok(line) => {
                state.pino_lines += 1;
                let instance = if line.instance.hostname.is_empty() && line.instance.pid.is_empty()
                {
                    file_instance(state.index, None)
                } else {
                    line.instance
                };
                match line.kind {
                    Some(kind) => (line.stamp, instance, line.user, kind),
                    None => {
                        state.place(set, line.stamp);
                        set.known += 1;
                        return;
                    }
                }
            }
            Err(problem) => {
                let why = match problem {
                    PinoProblem::NotJson(e) => format!("looks like JSON but is not: {e}; skipped"),
                    PinoProblem::NotAnObject => "JSON that is not an object; skipped".to_owned(),
                };
                state.warn(set, number, why);
                set.skipped += 1;
                return;
            }
        }
    } else {
        match console::parse(trimmed) {
            ConsoleLine::Record {
                stamp,
                process,
                user,
                kind,
            } => {
                state.console_lines += 1;
                (stamp, file_instance(state.index, process), user, kind)
            }
            ConsoleLine::Known { stamp, .. } => {
                state.console_lines += 1;
                state.place(set, stamp);
                set.known += 1;
                return;
            }
            ConsoleLine::Unknown => {
                set.skipped += 1;
                return;
            }
        }
    };
    let at_ms = state.place(set, stamp);
    if let Some((last, last_line)) = state.last_at {
        if at_ms < last {
            let back = (last - at_ms) as f64 / 1000.0;
            state.warn(
                set,
                number,
                format!(
                    "time goes back {back:.3} s from line {last_line}; lines are ordered by time"
                ),
            );
        }
    }
    state.last_at = Some((at_ms, number));
    if let RecordKind::Wait { ms } = kind {
        // An untimed log advances by the waits it announces.
        state.clock_ms = state
            .clock_ms
            .saturating_add(i64::try_from(ms).unwrap_or(i64::MAX));
    }
    set.records.push(Record {
        file: state.index,
        line: number,
        at_ms,
        instance,
        user,
        kind,
        quote: quote(text),
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn read(text: &[u8]) -> LogSet {
        let mut set = LogSet::default();
        read_one(
            0,
            Path::new("x.log"),
            BufReader::new(Cursor::new(text.to_vec())),
            &mut set,
        )
        .unwrap();
        set
    }

    #[test]
    fn untimed_lines_advance_by_announced_waits() {
        let set = read("🔌 Conexión cerrada. Código: 440\n⏳ Esperando 1000ms\n🚀 Inicializando conexión para usuario a\n".as_bytes());
        let times: Vec<i64> = set.records.iter().map(|r| r.at_ms).collect();
        assert_eq!(times, vec![0, 0, 1000]);
        assert!(set.relative_times);
    }

    #[test]
    fn an_overlong_line_is_skipped_with_its_line_number() {
        let mut text = vec![b'x'; MAX_LINE_BYTES * 3];
        text.extend_from_slice("\n🔌 Conexión cerrada. Código: 408\n".as_bytes());
        let set = read(&text);
        assert_eq!(set.warnings[0].line, 1);
        assert!(
            set.warnings[0].message.contains("longer than"),
            "{}",
            set.warnings[0]
        );
        assert_eq!(set.records.len(), 1);
        assert_eq!(set.records[0].line, 2);
    }

    #[test]
    fn bad_utf8_is_warned_with_line_and_byte_offset() {
        let set = read(b"ok\nab\xffcd Conexi\xc3\xb3n cerrada. C\xc3\xb3digo: 428\n");
        assert_eq!(set.warnings[0].line, 2);
        assert!(
            set.warnings[0].message.contains("byte 2"),
            "{}",
            set.warnings[0]
        );
        assert!(matches!(
            set.records[0].kind,
            RecordKind::Closed { code: 428, .. }
        ));
    }

    #[test]
    fn time_going_back_is_warned() {
        let set = read(b"2024-05-01T10:00:05Z Conexi\xc3\xb3n establecida\n2024-05-01T10:00:01Z Conexi\xc3\xb3n cerrada. C\xc3\xb3digo: 440\n");
        assert!(set
            .warnings
            .iter()
            .any(|w| w.line == 2 && w.message.contains("time goes back 4.000 s")));
    }
}
