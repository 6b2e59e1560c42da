use std::io::{Read, Write};
use std::time::Duration;

use super::{EventKind, TraceEvent};

/// Why a `trace.csv` could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum TraceReadError {
    #[error("trace line {line}: {source}")]
    Csv { line: u64, source: csv::Error },
    #[error("trace line {line}: bad {field}: {message}")]
    Field {
        line: u64,
        field: &'static str,
        message: String,
    },
}

/// Writes the trace as CSV: `time_ms,host,user,kind,details`.
pub fn write_trace<W: Write>(out: W, events: &[TraceEvent]) -> csv::Result<()> {
    let mut w = TraceWriter::new(out)?;
    for e in events {
        w.write(e)?;
    }
    w.flush()
}

/// A trace written row by row as a run goes (the same bytes as
/// [`write_trace`] of the whole trace): the header on creation, then one row
/// per [`TraceWriter::write`].
pub struct TraceWriter<W: Write> {
    csv: csv::Writer<W>,
}

impl<W: Write> TraceWriter<W> {
    /// Starts a trace: writes its header.
    pub fn new(out: W) -> csv::Result<Self> {
        let mut csv = csv::Writer::from_writer(out);
        csv.write_record(["time_ms", "host", "user", "kind", "details"])?;
        Ok(TraceWriter { csv })
    }

    /// Writes one row.
    pub fn write(&mut self, e: &TraceEvent) -> csv::Result<()> {
        self.csv.write_record([
            e.at_ms().to_string(),
            e.host.clone(),
            e.user().to_string(),
            e.kind.name(),
            e.kind.details(),
        ])
    }

    /// Pushes buffered rows out.
    pub fn flush(&mut self) -> csv::Result<()> {
        self.csv.flush()?;
        Ok(())
    }
}

/// Reads a trace written by [`write_trace`].
pub fn read_trace<R: Read>(input: R) -> Result<Vec<TraceEvent>, TraceReadError> {
    let mut r = csv::Reader::from_reader(input);
    let mut events = Vec::new();
    for record in r.records() {
        let record = record.map_err(|source| TraceReadError::Csv {
            line: source.position().map_or(0, |p| p.line()),
            source,
        })?;
        let line = record.position().map_or(0, |p| p.line());
        let field = |i: usize| record.get(i).unwrap_or_default();
        let at_ms: u64 =
            field(0)
                .parse()
                .map_err(|e: std::num::ParseIntError| TraceReadError::Field {
                    line,
                    field: "time_ms",
                    message: e.to_string(),
                })?;
        let kind =
            EventKind::from_columns(field(3), field(4)).map_err(|e| TraceReadError::Field {
                line,
                field: "details",
                message: e.to_string(),
            })?;
        let user = field(2);
        events.push(TraceEvent {
            at: Duration::from_millis(at_ms),
            host: field(1).to_string(),
            user: (!user.is_empty()).then(|| user.to_string()),
            kind,
        });
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{AttemptCause, ConnectionState};

    #[test]
    fn a_trace_reads_back_as_written() {
        let events = vec![
            TraceEvent {
                at: Duration::from_millis(1500),
                host: "app-1".into(),
                user: Some("alice".into()),
                kind: EventKind::AttemptStarted {
                    session: 1,
                    cause: AttemptCause::Backoff,
                    attempt: 2,
                },
            },
            TraceEvent {
                at: Duration::from_millis(2000),
                host: "app-1".into(),
                user: Some("alice".into()),
                kind: EventKind::StateChanged {
                    session: 1,
                    from: ConnectionState::Connecting,
                    to: ConnectionState::Connected,
                    reason: "open, \"quoted\"".into(),
                },
            },
            TraceEvent {
                at: Duration::ZERO,
                host: "sim".into(),
                user: None,
                kind: EventKind::RunEnded {},
            },
        ];
        let mut buf = Vec::new();
        write_trace(&mut buf, &events).unwrap();
        assert_eq!(read_trace(buf.as_slice()).unwrap(), events);
    }
}
