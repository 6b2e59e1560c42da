//! `leaks_old_socket`: a socket the client gave up on is not closed. Its
//! reader and its keep-alive keep running as two tasks of the process,
//! holding the socket open, until the endpoint closes it (nanocoai/nanoclaw#2905,
//! where every reconnect left one behind: 571k reconnects and a 4 GB heap
//! after 14.6 h).
//!
//! The supervisor no longer knows of the socket, so the tasks write nothing
//! to its account: the leak is visible only in ground truth, the dialer
//! wrapper's open sockets and the runtime's task count.

use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use super::Supervisor;
use crate::endpoint::protocol::ClientFrame;
use crate::transport::BoxStream;

/// Leaves `ws` running: a reader that drains its frames, and a keep-alive
/// that pings it every `keepalive_interval`, both until the endpoint closes
/// it (or a write fails).
pub(crate) fn leave_running(sup: &Supervisor, ws: WebSocketStream<BoxStream>) {
    let period = sup.policy().keepalive_interval;
    let (mut sink, mut stream) = ws.split();
    let closed = Arc::new(Notify::new());
    let reader_closed = closed.clone();
    sup.spawn(async move {
        while let Some(Ok(msg)) = stream.next().await {
            if matches!(msg, Message::Close(_)) {
                break;
            }
        }
        reader_closed.notify_one();
    });
    sup.spawn(async move {
        let mut ping_id = 0u64;
        loop {
            tokio::select! {
                biased;
                () = closed.notified() => return,
                () = tokio::time::sleep(period) => {
                    ping_id += 1;
                    let ping = Message::text(ClientFrame::Ping { id: ping_id }.to_text());
                    if sink.send(ping).await.is_err() {
                        return;
                    }
                }
            }
        }
    });
}
