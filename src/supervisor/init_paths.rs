//! Init paths that each own the user's session (enudler/nudlers#105).
//!
//! In nudlers the instrumentation pre-warm and the auto-restore each created
//! their own Baileys client for the same user: two sockets, each with its own
//! close handler that reconnects on 440. Whichever socket authenticates last
//! makes WhatsApp close the other with 440; that one's handler reconnects and
//! closes the first in turn, for ever. With `init_paths_own_sessions` each
//! init path beyond the first runs through a supervisor of its own (its own
//! session map, connection locks and close handling; the instance's policy,
//! store, dialer and trace), so the simulation shows that loop. Off, the init
//! paths share one session map, and the second connect replaces the first
//! one's session in it.

use super::Supervisor;

impl Supervisor {
    /// The supervisor init path `path` (0-based) connects through: this one,
    /// unless the policy gives each init path its own sessions.
    pub(super) fn init_path(&self, path: u32) -> Supervisor {
        if path == 0 || !self.policy().init_paths_own_sessions {
            self.clone()
        } else {
            self.new_init_path(path)
        }
    }
}
