//! The registry of open sockets, through which scripted faults reach them.
//!
//! Faults are called from outside the serving tasks (between simulation
//! steps, possibly outside any runtime), so they never touch a socket
//! directly: they decide under the endpoint's lock which sockets are hit,
//! mark them closing, and post a [`Command`] on the socket's channel. The
//! socket's task wakes on it at once and carries it out. A socket marked
//! closing is no longer anyone's target, so each socket ends exactly once.

use std::collections::BTreeMap;

use std::time::Duration;

use tokio::sync::mpsc;

use super::protocol::StreamErrorChild;

use crate::close_code::CloseCode;

/// What a fault asks a socket's task to do; each ends the socket (a late
/// close only `after` its arrival).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Command {
    /// Send `stream_error {code, reason}`, then close.
    Close { code: u16, reason: String },
    /// The user scanned the QR: send `paired {credentials}`, then 515.
    Pair { credentials: String },
    /// Send a Baileys `stream:error` node (optional code attribute,
    /// optional child), then close.
    Node {
        code: Option<u16>,
        reason: String,
        child: Option<StreamErrorChild>,
    },
    /// The socket was replaced but stays open (serving pings as before):
    /// send `stream_error {code}` `after` from now, then close
    /// (`stale_close`).
    LateClose { code: u16, after: Duration },
}

/// How far a socket got, as far as faults care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Waiting for hello, or for the hello's answer to be due.
    Opening,
    /// Showing QR refs (an unpaired device).
    Qr,
    /// Authenticated with valid credentials.
    Connected,
}

/// One open socket.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) user: Option<String>,
    pub(crate) phase: Phase,
    /// Set once the socket's end is decided (by a fault or by the socket's
    /// own task); a closing socket is no longer a fault's target.
    pub(crate) closing: bool,
    commands: mpsc::UnboundedSender<Command>,
}

/// Open sockets by id. A BTreeMap so that "every socket of the user" is
/// walked in accept order, the same every run.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    sockets: BTreeMap<u64, Entry>,
}

impl Registry {
    pub(crate) fn insert(&mut self, sock: u64, commands: mpsc::UnboundedSender<Command>) {
        let entry = Entry {
            user: None,
            phase: Phase::Opening,
            closing: false,
            commands,
        };
        self.sockets.insert(sock, entry);
    }

    pub(crate) fn remove(&mut self, sock: u64) {
        self.sockets.remove(&sock);
    }

    pub(crate) fn get_mut(&mut self, sock: u64) -> Option<&mut Entry> {
        self.sockets.get_mut(&sock)
    }

    /// Ids of the sockets not yet closing that match, in accept order.
    pub(crate) fn live(&self, mut filter: impl FnMut(&Entry) -> bool) -> Vec<u64> {
        self.sockets
            .iter()
            .filter(|(_, e)| !e.closing && filter(e))
            .map(|(sock, _)| *sock)
            .collect()
    }

    /// Ids of the user's live sockets in `phase`, in accept order.
    pub(crate) fn live_of(&self, user: &str, phase: Phase) -> Vec<u64> {
        self.live(|e| e.phase == phase && e.user.as_deref() == Some(user))
    }

    /// Marks the socket closing and hands it the command. False if it was
    /// gone or already closing (its end is decided elsewhere).
    pub(crate) fn command(&mut self, sock: u64, command: Command) -> bool {
        match self.sockets.get_mut(&sock) {
            Some(entry) if !entry.closing => {
                entry.closing = true;
                // The receiver lives as long as the entry; a failed send
                // means the task is already past reading commands.
                entry.commands.send(command).is_ok()
            }
            _ => false,
        }
    }
}

/// The reason sent with each close code, as Baileys names the codes.
pub fn reason_for(code: u16) -> &'static str {
    CloseCode::from_code(code).map_or("stream error", CloseCode::reason)
}
