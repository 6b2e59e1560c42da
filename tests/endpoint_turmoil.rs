//! The endpoint on turmoil, as the simulator runs it: its own host runtime,
//! turmoil TCP streams, and faults scripted from outside any runtime
//! between simulation steps.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use loopguard::endpoint::protocol::{ClientFrame, ServerFrame};
use loopguard::endpoint::Endpoint;
use loopguard::trace::{Clock, EventKind, Recorder};
use tokio_tungstenite::client_async;
use tokio_tungstenite::tungstenite::Message;

/// Simulated time: the current host's inside a step, else the time the
/// driver last saw between steps.
#[derive(Default)]
struct SimClock {
    between_steps: Mutex<Duration>,
}

impl Clock for SimClock {
    fn now(&self) -> Duration {
        turmoil::sim_elapsed().unwrap_or_else(|| {
            *self
                .between_steps
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
        })
    }
}

#[test]
fn a_fault_scripted_between_steps_reaches_the_socket_on_turmoil() {
    let clock = Arc::new(SimClock::default());
    let recorder = Recorder::new(clock.clone());
    let endpoint = Endpoint::new(recorder.clone(), [("alice".to_string(), true)]);

    let mut sim = turmoil::Builder::new()
        .rng_seed(7)
        .min_message_latency(Duration::from_millis(1))
        .max_message_latency(Duration::from_millis(1))
        .simulation_duration(Duration::from_secs(60))
        .build();

    let served = endpoint.clone();
    sim.host("wa", move || {
        let endpoint = served.clone();
        async move {
            let listener = turmoil::net::TcpListener::bind("0.0.0.0:443").await?;
            loop {
                let (stream, peer) = listener.accept().await?;
                let endpoint = endpoint.clone();
                tokio::spawn(async move { endpoint.serve_stream(stream, peer.to_string()).await });
            }
        }
    });

    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    sim.client("app-1", async move {
        let stream = turmoil::net::TcpStream::connect("wa:443").await?;
        let (mut ws, _) = client_async("ws://wa/", stream).await?;
        let hello = ClientFrame::Hello {
            user: "alice".into(),
            credentials: Some("creds-alice".into()),
        };
        ws.send(Message::text(hello.to_text())).await?;
        ws.send(Message::text(ClientFrame::Ping { id: 1 }.to_text()))
            .await?;
        while let Some(message) = ws.next().await {
            let text = match message? {
                Message::Text(text) => text,
                _ => continue,
            };
            let frame: ServerFrame = serde_json::from_str(text.as_str())?;
            log.lock()
                .unwrap()
                .push((turmoil::elapsed().as_millis() as u64, frame));
        }
        Ok(())
    });

    let mut faulted = false;
    while !sim.step().expect("simulation") {
        *clock.between_steps.lock().unwrap() = sim.elapsed();
        if !faulted && sim.elapsed() >= Duration::from_secs(5) {
            endpoint.close_user("alice", 440);
            faulted = true;
        }
    }

    let frames: Vec<_> = seen.lock().unwrap().clone();
    assert_eq!(
        frames,
        vec![
            (
                5,
                ServerFrame::Connected {
                    user: "alice".into()
                }
            ),
            (5, ServerFrame::Pong { id: 1 }),
            (5_001, ServerFrame::stream_error(440, "conflict: replaced")),
        ]
    );
    let events: Vec<_> = recorder
        .snapshot()
        .into_iter()
        .map(|e| (e.at_ms(), e.kind))
        .collect();
    assert_eq!(
        events,
        vec![
            (
                1,
                EventKind::EndpointAccepted {
                    sock: 1,
                    peer: "192.168.0.2:49152".into()
                }
            ),
            (
                4,
                EventKind::EndpointAuthenticated {
                    sock: 1,
                    paired: true
                }
            ),
            (
                5_000,
                EventKind::EndpointReplaced {
                    old_sock: 1,
                    new_sock: None,
                    by_fault: true
                }
            ),
            (
                5_000,
                EventKind::EndpointClosed {
                    sock: 1,
                    code: Some(440),
                    reason: "conflict: replaced".into()
                }
            ),
        ]
    );
}
