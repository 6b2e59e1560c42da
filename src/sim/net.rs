//! Adapters between turmoil's simulated TCP and what the supervisor, the
//! endpoint and axum expect.

use std::io;

use crate::transport::{BoxStream, Connect, ConnectFuture};

/// The endpoint's address on the simulated network.
pub const ENDPOINT_ADDR: &str = "wa:443";
/// The status API's port on every app host.
pub const API_PORT: u16 = 80;

/// Dials the endpoint over turmoil TCP.
pub struct TurmoilConnect;

impl Connect for TurmoilConnect {
    fn connect(&self) -> ConnectFuture<'_> {
        Box::pin(async {
            let stream = turmoil::net::TcpStream::connect(ENDPOINT_ADDR).await?;
            let local = stream.local_addr()?.to_string();
            Ok((Box::new(stream) as BoxStream, local))
        })
    }
}

/// The browser's way to an instance's status API over turmoil TCP.
pub struct TurmoilApi;

impl super::browser::ApiConnect for TurmoilApi {
    fn connect(&self, instance: u32) -> ConnectFuture<'_> {
        Box::pin(async move {
            let host = format!("app-{instance}");
            let stream = turmoil::net::TcpStream::connect((host.as_str(), API_PORT)).await?;
            let local = stream.local_addr()?.to_string();
            Ok((Box::new(stream) as BoxStream, local))
        })
    }
}

/// axum's `Listener` over a turmoil listener.
pub struct TurmoilListener(pub turmoil::net::TcpListener);

impl axum::serve::Listener for TurmoilListener {
    type Io = turmoil::net::TcpStream;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            if let Ok(pair) = self.0.accept().await {
                return pair;
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

/// The status API's listener on an app host: each accepted stream is
/// dropped in accept order when the host crashes (see [`crate::teardown`]).
pub struct OrderedListener {
    pub listener: TurmoilListener,
    pub host: String,
    pub graveyard: crate::teardown::Graveyard,
    pub accepted: u64,
}

impl axum::serve::Listener for OrderedListener {
    type Io = crate::teardown::Interred<turmoil::net::TcpStream>;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (stream, addr) = self.listener.accept().await;
        self.accepted += 1;
        let key = (crate::teardown::API_STREAM, self.accepted);
        let io = crate::teardown::Interred::new(stream, key, &self.host, self.graveyard.clone());
        (io, addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.listener.local_addr()
    }
}
