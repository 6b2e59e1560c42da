//! The fake WhatsApp endpoint, pinned one behaviour per test: in-memory
//! pipes, a real WebSocket client, tokio's paused clock, and exact virtual
//! times and exact recorded events.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use loopguard::endpoint::protocol::{ClientFrame, ServerFrame};
use loopguard::endpoint::Endpoint;
use loopguard::trace::{EventKind, FaultKind, Recorder, TokioClock};
use tokio::io::DuplexStream;
use tokio::time::{sleep, timeout};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{client_async, WebSocketStream};

struct World {
    recorder: Recorder,
    endpoint: Endpoint,
}

struct Client {
    ws: WebSocketStream<DuplexStream>,
}

fn world(accounts: &[(&str, bool)]) -> World {
    let recorder = Recorder::new(Arc::new(TokioClock::start()));
    let accounts = accounts.iter().map(|(u, p)| (u.to_string(), *p));
    let endpoint = Endpoint::new(recorder.clone(), accounts);
    World { recorder, endpoint }
}

impl World {
    /// Opens a socket to the endpoint, as a dialer would.
    async fn connect(&self, peer: &str) -> Client {
        let (client_io, server_io) = tokio::io::duplex(64 * 1024);
        let endpoint = self.endpoint.clone();
        let peer = peer.to_string();
        tokio::spawn(async move { endpoint.serve_stream(server_io, peer).await });
        let (ws, _) = client_async("ws://wa/", client_io)
            .await
            .expect("websocket handshake");
        Client { ws }
    }

    /// Opens a socket and says hello.
    async fn hello(&self, peer: &str, user: &str, credentials: Option<&str>) -> Client {
        let mut client = self.connect(peer).await;
        client
            .send(ClientFrame::Hello {
                user: user.to_string(),
                credentials: credentials.map(str::to_string),
            })
            .await;
        client
    }

    fn now_ms(&self) -> u64 {
        self.recorder.now().as_millis() as u64
    }

    /// The endpoint's events so far, as (ms, user, kind).
    fn events(&self) -> Vec<(u64, Option<String>, EventKind)> {
        self.recorder
            .snapshot()
            .into_iter()
            .filter(|e| e.host == "wa")
            .map(|e| (e.at_ms(), e.user, e.kind))
            .collect()
    }

    /// Lets every task run what it can at this instant.
    async fn settle(&self) {
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
    }
}

impl Client {
    async fn send(&mut self, frame: ClientFrame) {
        self.ws
            .send(Message::text(frame.to_text()))
            .await
            .expect("send");
    }

    /// The next frame, or None once the endpoint closed the socket.
    async fn recv(&mut self) -> Option<ServerFrame> {
        loop {
            match self.ws.next().await? {
                Ok(Message::Text(text)) => {
                    return Some(serde_json::from_str(text.as_str()).expect("server frame"))
                }
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(_) => continue,
            }
        }
    }

    /// Reads `stream_error` and then the close.
    async fn expect_stream_error(&mut self, code: u16, reason: &str) {
        let frame = self.recv().await;
        let expected = ServerFrame::stream_error(code, reason);
        assert_eq!(frame, Some(expected));
        assert_eq!(self.recv().await, None, "close after stream_error");
    }
}

fn ev(ms: u64, user: Option<&str>, kind: EventKind) -> (u64, Option<String>, EventKind) {
    (ms, user.map(str::to_string), kind)
}

fn accepted(ms: u64, sock: u64, peer: &str) -> (u64, Option<String>, EventKind) {
    ev(
        ms,
        None,
        EventKind::EndpointAccepted {
            sock,
            peer: peer.to_string(),
        },
    )
}

fn authenticated(ms: u64, user: &str, sock: u64, paired: bool) -> (u64, Option<String>, EventKind) {
    ev(
        ms,
        Some(user),
        EventKind::EndpointAuthenticated { sock, paired },
    )
}

fn closed(
    ms: u64,
    user: Option<&str>,
    sock: u64,
    code: Option<u16>,
    reason: &str,
) -> (u64, Option<String>, EventKind) {
    ev(
        ms,
        user,
        EventKind::EndpointClosed {
            sock,
            code,
            reason: reason.to_string(),
        },
    )
}

fn qr(ms: u64, user: &str, sock: u64, index: u32, ttl_ms: u64) -> (u64, Option<String>, EventKind) {
    ev(
        ms,
        Some(user),
        EventKind::EndpointQr {
            sock,
            index,
            ttl_ms,
        },
    )
}

fn connected(user: &str) -> Option<ServerFrame> {
    Some(ServerFrame::Connected {
        user: user.to_string(),
    })
}

const CREDS_ALICE: Option<&str> = Some("creds-alice");

#[tokio::test(start_paused = true)]
async fn second_authentication_replaces_only_the_older_socket_with_440() {
    let w = world(&[("alice", true)]);
    let mut first = w.hello("app-1:1", "alice", CREDS_ALICE).await;
    assert_eq!(first.recv().await, connected("alice"));

    sleep(Duration::from_secs(5)).await;
    let mut second = w.hello("app-1:2", "alice", CREDS_ALICE).await;
    assert_eq!(second.recv().await, connected("alice"));
    first.expect_stream_error(440, "conflict: replaced").await;
    assert_eq!(w.now_ms(), 5_000);

    // The newer socket stays: it still answers pings, and nothing closed it.
    second.send(ClientFrame::Ping { id: 1 }).await;
    assert_eq!(second.recv().await, Some(ServerFrame::Pong { id: 1 }));
    assert_eq!(
        w.events(),
        vec![
            accepted(0, 1, "app-1:1"),
            authenticated(0, "alice", 1, true),
            accepted(5_000, 2, "app-1:2"),
            authenticated(5_000, "alice", 2, true),
            ev(
                5_000,
                Some("alice"),
                EventKind::EndpointReplaced {
                    old_sock: 1,
                    new_sock: Some(2),
                    by_fault: false
                }
            ),
            closed(5_000, Some("alice"), 1, Some(440), "conflict: replaced"),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn unpaired_user_gets_six_qr_refs_then_408_at_160s() {
    let w = world(&[("bob", false)]);
    let mut client = w.hello("app-1:1", "bob", None).await;
    let mut shown = Vec::new();
    for _ in 0..6 {
        match client.recv().await {
            Some(ServerFrame::Qr { index, ttl_ms }) => shown.push((w.now_ms(), index, ttl_ms)),
            other => panic!("expected a QR ref, got {other:?}"),
        }
    }
    assert_eq!(
        shown,
        vec![
            (0, 1, 60_000),
            (60_000, 2, 20_000),
            (80_000, 3, 20_000),
            (100_000, 4, 20_000),
            (120_000, 5, 20_000),
            (140_000, 6, 20_000),
        ]
    );
    client
        .expect_stream_error(408, "QR refs attempts ended")
        .await;
    assert_eq!(w.now_ms(), 160_000);
    assert_eq!(
        w.events(),
        vec![
            accepted(0, 1, "app-1:1"),
            authenticated(0, "bob", 1, false),
            qr(0, "bob", 1, 1, 60_000),
            qr(60_000, "bob", 1, 2, 20_000),
            qr(80_000, "bob", 1, 3, 20_000),
            qr(100_000, "bob", 1, 4, 20_000),
            qr(120_000, "bob", 1, 5, 20_000),
            qr(140_000, "bob", 1, 6, 20_000),
            closed(160_000, Some("bob"), 1, Some(408), "QR refs attempts ended"),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn pairing_during_qr_sends_paired_then_515_and_the_credentials_connect() {
    let w = world(&[("bob", false)]);
    let mut client = w.hello("app-1:1", "bob", None).await;
    assert_eq!(
        client.recv().await,
        Some(ServerFrame::Qr {
            index: 1,
            ttl_ms: 60_000
        })
    );

    sleep(Duration::from_secs(10)).await;
    w.endpoint.pair("bob");
    let credentials = "creds-bob".to_string();
    assert_eq!(
        client.recv().await,
        Some(ServerFrame::Paired {
            credentials: credentials.clone()
        })
    );
    client.expect_stream_error(515, "restart required").await;
    assert_eq!(w.now_ms(), 10_000);

    let mut again = w.hello("app-1:2", "bob", Some(&credentials)).await;
    assert_eq!(again.recv().await, connected("bob"));
    assert_eq!(w.now_ms(), 10_000);
    assert_eq!(
        w.events(),
        vec![
            accepted(0, 1, "app-1:1"),
            authenticated(0, "bob", 1, false),
            qr(0, "bob", 1, 1, 60_000),
            closed(10_000, Some("bob"), 1, Some(515), "restart required"),
            accepted(10_000, 2, "app-1:2"),
            authenticated(10_000, "bob", 2, true),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn pairing_without_a_qr_socket_just_validates_the_credentials() {
    let w = world(&[("bob", false)]);
    let mut refused = w.hello("app-1:1", "bob", Some("creds-bob")).await;
    refused.expect_stream_error(401, "logged out").await;
    w.endpoint.pair("bob");
    let mut client = w.hello("app-1:2", "bob", Some("creds-bob")).await;
    assert_eq!(client.recv().await, connected("bob"));
}

#[tokio::test(start_paused = true)]
async fn pings_are_answered_with_their_id_at_once() {
    let w = world(&[("alice", true)]);
    let mut client = w.hello("app-1:1", "alice", CREDS_ALICE).await;
    assert_eq!(client.recv().await, connected("alice"));
    sleep(Duration::from_secs(30)).await;
    client.send(ClientFrame::Ping { id: 7 }).await;
    assert_eq!(client.recv().await, Some(ServerFrame::Pong { id: 7 }));
    assert_eq!(w.now_ms(), 30_000);
    // Pongs are not recorded.
    assert_eq!(
        w.events(),
        vec![
            accepted(0, 1, "app-1:1"),
            authenticated(0, "alice", 1, true)
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn under_ping_silence_no_pong_arrives() {
    let w = world(&[("alice", true)]);
    let mut client = w.hello("app-1:1", "alice", CREDS_ALICE).await;
    assert_eq!(client.recv().await, connected("alice"));

    w.endpoint.set_ping_silence(true);
    client.send(ClientFrame::Ping { id: 1 }).await;
    let waited = timeout(Duration::from_secs(35), client.recv()).await;
    assert!(
        waited.is_err(),
        "nothing arrives under silence, got {waited:?}"
    );
    assert_eq!(w.now_ms(), 35_000);

    // The silence ends: the next ping is answered, the silenced one never.
    w.endpoint.set_ping_silence(false);
    client.send(ClientFrame::Ping { id: 2 }).await;
    assert_eq!(client.recv().await, Some(ServerFrame::Pong { id: 2 }));
    assert_eq!(w.now_ms(), 35_000);
}

#[tokio::test(start_paused = true)]
async fn ping_silence_holds_the_hello_answer_until_it_ends() {
    let w = world(&[("alice", true)]);
    w.endpoint.set_ping_silence(true);
    let mut client = w.hello("app-1:1", "alice", CREDS_ALICE).await;
    let waited = timeout(Duration::from_secs(12), client.recv()).await;
    assert!(waited.is_err(), "no answer under silence, got {waited:?}");
    w.endpoint.set_ping_silence(false);
    assert_eq!(client.recv().await, connected("alice"));
    assert_eq!(w.now_ms(), 12_000);
    assert_eq!(
        w.events(),
        vec![
            accepted(0, 1, "app-1:1"),
            authenticated(12_000, "alice", 1, true)
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn close_user_with_440_records_a_replacement_by_fault() {
    let w = world(&[("alice", true)]);
    let mut client = w.hello("app-1:1", "alice", CREDS_ALICE).await;
    assert_eq!(client.recv().await, connected("alice"));

    sleep(Duration::from_secs(7)).await;
    w.endpoint.close_user("alice", 440);
    client.expect_stream_error(440, "conflict: replaced").await;
    assert_eq!(w.now_ms(), 7_000);
    assert_eq!(
        w.events(),
        vec![
            accepted(0, 1, "app-1:1"),
            authenticated(0, "alice", 1, true),
            ev(
                7_000,
                Some("alice"),
                EventKind::EndpointReplaced {
                    old_sock: 1,
                    new_sock: None,
                    by_fault: true
                }
            ),
            closed(7_000, Some("alice"), 1, Some(440), "conflict: replaced"),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn close_user_with_another_code_closes_without_replacement() {
    let w = world(&[("alice", true)]);
    let mut client = w.hello("app-1:1", "alice", CREDS_ALICE).await;
    assert_eq!(client.recv().await, connected("alice"));
    w.endpoint.close_user("alice", 428);
    client.expect_stream_error(428, "connection closed").await;
    assert_eq!(
        w.events(),
        vec![
            accepted(0, 1, "app-1:1"),
            authenticated(0, "alice", 1, true),
            closed(0, Some("alice"), 1, Some(428), "connection closed"),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn refuse_next_refuses_exactly_n_hellos_then_accepts() {
    let w = world(&[("alice", true)]);
    w.endpoint.refuse_next("alice", 2, 500);
    for peer in ["app-1:1", "app-1:2"] {
        let mut client = w.hello(peer, "alice", CREDS_ALICE).await;
        client.expect_stream_error(500, "bad session").await;
        sleep(Duration::from_secs(1)).await;
    }
    let mut client = w.hello("app-1:3", "alice", CREDS_ALICE).await;
    assert_eq!(client.recv().await, connected("alice"));
    assert_eq!(
        w.events(),
        vec![
            accepted(0, 1, "app-1:1"),
            closed(0, Some("alice"), 1, Some(500), "bad session"),
            accepted(1_000, 2, "app-1:2"),
            // The last refusal used: the scripted fault is over.
            ev(
                1_000,
                Some("alice"),
                EventKind::FaultEnded {
                    fault: FaultKind::RefuseConnects,
                    target: "alice".into()
                }
            ),
            closed(1_000, Some("alice"), 2, Some(500), "bad session"),
            accepted(2_000, 3, "app-1:3"),
            authenticated(2_000, "alice", 3, true),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn unavailable_gives_503_to_open_and_new_sockets_until_off() {
    let w = world(&[("alice", true), ("bob", false)]);
    let mut alice = w.hello("app-1:1", "alice", CREDS_ALICE).await;
    assert_eq!(alice.recv().await, connected("alice"));
    let mut bob = w.hello("app-1:2", "bob", None).await;
    assert_eq!(
        bob.recv().await,
        Some(ServerFrame::Qr {
            index: 1,
            ttl_ms: 60_000
        })
    );
    let mut mute = w.connect("app-1:3").await;

    sleep(Duration::from_secs(5)).await;
    w.endpoint.set_unavailable(true);
    alice.expect_stream_error(503, "service unavailable").await;
    bob.expect_stream_error(503, "service unavailable").await;
    mute.expect_stream_error(503, "service unavailable").await;

    sleep(Duration::from_secs(1)).await;
    let mut during = w.hello("app-1:4", "alice", CREDS_ALICE).await;
    during.expect_stream_error(503, "service unavailable").await;

    sleep(Duration::from_secs(4)).await;
    w.endpoint.set_unavailable(false);
    let mut after = w.hello("app-1:5", "alice", CREDS_ALICE).await;
    assert_eq!(after.recv().await, connected("alice"));
    assert_eq!(w.now_ms(), 10_000);
    assert_eq!(
        w.events(),
        vec![
            accepted(0, 1, "app-1:1"),
            authenticated(0, "alice", 1, true),
            accepted(0, 2, "app-1:2"),
            authenticated(0, "bob", 2, false),
            qr(0, "bob", 2, 1, 60_000),
            accepted(0, 3, "app-1:3"),
            closed(5_000, Some("alice"), 1, Some(503), "service unavailable"),
            closed(5_000, Some("bob"), 2, Some(503), "service unavailable"),
            closed(5_000, None, 3, Some(503), "service unavailable"),
            accepted(6_000, 4, "app-1:4"),
            closed(6_000, Some("alice"), 4, Some(503), "service unavailable"),
            accepted(10_000, 5, "app-1:5"),
            authenticated(10_000, "alice", 5, true),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn logout_gives_401_now_and_to_the_old_credentials_later() {
    let w = world(&[("alice", true)]);
    let mut client = w.hello("app-1:1", "alice", CREDS_ALICE).await;
    assert_eq!(client.recv().await, connected("alice"));

    sleep(Duration::from_secs(3)).await;
    w.endpoint.logout("alice");
    client.expect_stream_error(401, "logged out").await;

    sleep(Duration::from_secs(2)).await;
    let mut again = w.hello("app-1:2", "alice", CREDS_ALICE).await;
    again.expect_stream_error(401, "logged out").await;

    // Without credentials the device is fresh: QR refs again.
    let mut fresh = w.hello("app-1:3", "alice", None).await;
    assert_eq!(
        fresh.recv().await,
        Some(ServerFrame::Qr {
            index: 1,
            ttl_ms: 60_000
        })
    );
    assert_eq!(
        w.events(),
        vec![
            accepted(0, 1, "app-1:1"),
            authenticated(0, "alice", 1, true),
            closed(3_000, Some("alice"), 1, Some(401), "logged out"),
            accepted(5_000, 2, "app-1:2"),
            closed(5_000, Some("alice"), 2, Some(401), "logged out"),
            accepted(5_000, 3, "app-1:3"),
            authenticated(5_000, "alice", 3, false),
            qr(5_000, "alice", 3, 1, 60_000),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn handshake_delay_delays_connected_by_exactly_the_delay() {
    let w = world(&[("alice", true)]);
    w.endpoint.set_handshake_delay(Duration::from_millis(2_500));
    let mut client = w.hello("app-1:1", "alice", CREDS_ALICE).await;
    assert_eq!(client.recv().await, connected("alice"));
    assert_eq!(w.now_ms(), 2_500);

    w.endpoint.set_handshake_delay(Duration::ZERO);
    let mut quick = w.hello("app-1:2", "alice", CREDS_ALICE).await;
    assert_eq!(quick.recv().await, connected("alice"));
    assert_eq!(w.now_ms(), 2_500);
    assert_eq!(
        w.events()[..2],
        [
            accepted(0, 1, "app-1:1"),
            authenticated(2_500, "alice", 1, true)
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_socket_without_hello_is_closed_without_code_at_20s() {
    let w = world(&[]);
    let mut client = w.connect("app-1:1").await;
    assert_eq!(client.recv().await, None);
    assert_eq!(w.now_ms(), 20_000);
    assert_eq!(
        w.events(),
        vec![
            accepted(0, 1, "app-1:1"),
            closed(20_000, None, 1, None, "no hello")
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_first_frame_other_than_hello_closes_without_code() {
    let w = world(&[]);
    let mut client = w.connect("app-1:1").await;
    client.send(ClientFrame::Ping { id: 1 }).await;
    assert_eq!(client.recv().await, None);
    assert_eq!(
        w.events(),
        vec![
            accepted(0, 1, "app-1:1"),
            closed(0, None, 1, None, "expected hello")
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn malformed_json_closes_without_code() {
    let w = world(&[("alice", true)]);
    let mut client = w.hello("app-1:1", "alice", CREDS_ALICE).await;
    assert_eq!(client.recv().await, connected("alice"));
    client
        .ws
        .send(Message::text("{not json"))
        .await
        .expect("send");
    assert_eq!(client.recv().await, None);
    assert_eq!(
        w.events().last(),
        Some(&closed(0, Some("alice"), 1, None, "malformed frame"))
    );
}

#[tokio::test(start_paused = true)]
async fn a_vanished_peer_is_recorded_closed_without_code() {
    let w = world(&[("alice", true)]);
    let mut client = w.hello("app-1:1", "alice", CREDS_ALICE).await;
    assert_eq!(client.recv().await, connected("alice"));
    sleep(Duration::from_secs(4)).await;
    drop(client);
    w.settle().await;
    assert_eq!(
        w.events().last(),
        Some(&closed(4_000, Some("alice"), 1, None, "peer gone"))
    );
}

#[tokio::test(start_paused = true)]
async fn a_qr_hello_of_a_paired_user_gets_qr_refs_and_replaces_nothing() {
    let w = world(&[("alice", true)]);
    let mut paired = w.hello("app-1:1", "alice", CREDS_ALICE).await;
    assert_eq!(paired.recv().await, connected("alice"));
    let mut fresh = w.hello("app-1:2", "alice", None).await;
    assert_eq!(
        fresh.recv().await,
        Some(ServerFrame::Qr {
            index: 1,
            ttl_ms: 60_000
        })
    );
    paired.send(ClientFrame::Ping { id: 3 }).await;
    assert_eq!(paired.recv().await, Some(ServerFrame::Pong { id: 3 }));
    assert_eq!(
        w.events(),
        vec![
            accepted(0, 1, "app-1:1"),
            authenticated(0, "alice", 1, true),
            accepted(0, 2, "app-1:2"),
            authenticated(0, "alice", 2, false),
            qr(0, "alice", 2, 1, 60_000),
        ]
    );
}
