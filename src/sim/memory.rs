//! In-memory links to the endpoint, for one tokio runtime with paused time
//! (the supervisor's tests): each dial is a `tokio::io::duplex` pipe whose
//! far end the endpoint serves at once.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use crate::endpoint::Endpoint;
use crate::transport::{BoxStream, Connect, ConnectFuture};

const PIPE_BYTES: usize = 64 * 1024;

/// Dials `endpoint` over in-memory pipes; can be made unreachable.
#[derive(Clone)]
pub struct MemoryConnect {
    endpoint: Endpoint,
    reachable: Arc<AtomicBool>,
    next: Arc<AtomicU64>,
}

impl MemoryConnect {
    pub fn new(endpoint: Endpoint) -> Self {
        MemoryConnect {
            endpoint,
            reachable: Arc::new(AtomicBool::new(true)),
            next: Arc::new(AtomicU64::new(0)),
        }
    }

    /// While false, every dial is refused at once (a partition).
    pub fn set_reachable(&self, reachable: bool) {
        self.reachable.store(reachable, Ordering::Relaxed);
    }
}

impl Connect for MemoryConnect {
    fn connect(&self) -> ConnectFuture<'_> {
        Box::pin(async move {
            if !self.reachable.load(Ordering::Relaxed) {
                return Err(io::Error::from(io::ErrorKind::ConnectionRefused));
            }
            let n = self.next.fetch_add(1, Ordering::Relaxed) + 1;
            let local = format!("mem:{n}");
            let (client, server) = tokio::io::duplex(PIPE_BYTES);
            let endpoint = self.endpoint.clone();
            let peer = local.clone();
            tokio::spawn(async move { endpoint.serve_stream(server, peer).await });
            Ok((Box::new(client) as BoxStream, local))
        })
    }
}
