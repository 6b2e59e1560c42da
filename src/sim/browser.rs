//! The `browser` host: every dashboard tab is a task here, polling the
//! status API over HTTP; the dashboard's buttons are POSTs from here too.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Bytes;
use hyper::Request;
use hyper_util::rt::TokioIo;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use super::api_witness::{caller_header, CALLER_HEADER};
use crate::supervisor::status_api::StatusBody;
use crate::supervisor::status_auth::SESSION_COOKIE;
use crate::trace::{EventKind, Recorder};
use crate::transport::ConnectFuture;

const HOST: &str = "browser";
/// A request that takes longer than this counts as failed (status 0).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// What the driver asks the browser to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BrowserCommand {
    OpenTabs(u32),
    CloseTabs(u32),
    /// Press connect (`true`) or disconnect on instance `instance`'s dashboard.
    Press {
        instance: u32,
        user: String,
        connect: bool,
    },
    /// Open a tab logged in as one user that reads another's status.
    OpenForeignTab(ForeignTab),
}

/// A tab logged in as `user` (carrying `user`'s session token) that polls
/// `target`'s status every `poll_interval` and presses `target`'s `button`
/// after each poll, for `duration`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignTab {
    pub user: String,
    pub target: String,
    pub poll_interval: Duration,
    /// `Some(true)`: connect, `Some(false)`: disconnect, none: only reads.
    pub button: Option<bool>,
    pub duration: Duration,
}

/// Who sends a request: the logged-in user (whose session cookie it
/// carries) and the tab (0: a person's button press outside a tab).
struct Caller<'a> {
    user: &'a str,
    tab: u32,
    token: Option<&'a str>,
}

/// Opens a stream from the browser to app instance `instance`'s status API.
/// Each engine brings its own: turmoil TCP, or the fast engine's in-memory
/// links, so the tabs and buttons are the same code on both.
pub trait ApiConnect: Send + Sync {
    fn connect(&self, instance: u32) -> ConnectFuture<'_>;
}

/// Everything a tab needs; shared by all tabs.
#[derive(Clone)]
pub struct TabConfig {
    pub user: String,
    pub poll_interval: Duration,
    pub jitter: Duration,
    pub seed: u64,
    /// App instances started so far; tabs spread their polls over them.
    pub instances: Arc<AtomicU32>,
    pub recorder: Recorder,
    /// How requests reach an instance.
    pub api: Arc<dyn ApiConnect>,
    /// Each user's session token (the login cookie their browser holds).
    pub tokens: Arc<BTreeMap<String, String>>,
}

impl TabConfig {
    fn caller<'a>(&'a self, user: &'a str, tab: u32) -> Caller<'a> {
        Caller {
            user,
            tab,
            token: self.tokens.get(user).map(String::as_str),
        }
    }
}

/// The browser host's software: obeys commands until the run ends.
pub async fn run(
    config: TabConfig,
    commands: Arc<Mutex<Option<mpsc::UnboundedReceiver<BrowserCommand>>>>,
) {
    let Some(mut rx) = commands
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take()
    else {
        return;
    };
    let mut tabs: Vec<(u32, AbortHandle)> = Vec::new();
    let mut next_tab = 0u32;
    while let Some(cmd) = rx.recv().await {
        match cmd {
            BrowserCommand::OpenTabs(n) => {
                for _ in 0..n {
                    next_tab += 1;
                    config.recorder.record(
                        HOST,
                        Some(&config.user),
                        EventKind::TabOpened { tab: next_tab },
                    );
                    tabs.push((
                        next_tab,
                        tokio::spawn(tab(config.clone(), next_tab)).abort_handle(),
                    ));
                }
            }
            BrowserCommand::CloseTabs(n) => {
                for _ in 0..n {
                    if let Some((id, task)) = tabs.pop() {
                        task.abort();
                        config.recorder.record(
                            HOST,
                            Some(&config.user),
                            EventKind::TabClosed { tab: id },
                        );
                    }
                }
            }
            BrowserCommand::Press {
                instance,
                user,
                connect,
            } => {
                let path = if connect {
                    "/api/whatsapp/connect"
                } else {
                    "/api/whatsapp/disconnect"
                };
                let body = serde_json::json!({ "user": user }).to_string();
                let config = config.clone();
                tokio::spawn(async move {
                    let caller = config.caller(&user, 0);
                    let _ = tokio::time::timeout(
                        REQUEST_TIMEOUT,
                        post(&*config.api, instance, path, body, &caller),
                    )
                    .await;
                });
            }
            BrowserCommand::OpenForeignTab(foreign) => {
                next_tab += 1;
                tokio::spawn(foreign_tab(config.clone(), next_tab, foreign));
            }
        }
    }
}

/// One tab: polls the status of its user forever.
async fn tab(config: TabConfig, id: u32) {
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed ^ (u64::from(id) << 32) ^ 0x7ab5);
    let jitter_ms = crate::util::ms(config.jitter);
    let mut polls = 0u32;
    loop {
        let extra = if jitter_ms > 0 {
            rng.random_range(0..=jitter_ms)
        } else {
            0
        };
        tokio::time::sleep(config.poll_interval + Duration::from_millis(extra)).await;
        let n = config.instances.load(Ordering::Relaxed).max(1);
        let instance = 1 + (id + polls) % n;
        polls = polls.wrapping_add(1);
        let path = format!("/api/whatsapp/status?user={}", config.user);
        let (http_status, state) = match tokio::time::timeout(
            REQUEST_TIMEOUT,
            get(
                &*config.api,
                instance,
                &path,
                &config.caller(&config.user, id),
            ),
        )
        .await
        {
            Ok(Ok((code, body))) => {
                let state = serde_json::from_slice::<StatusBody>(&body)
                    .ok()
                    .map(|b| b.status);
                (code, state)
            }
            _ => (0, None),
        };
        config.recorder.record(
            HOST,
            Some(&config.user),
            EventKind::StatusPolled {
                tab: id,
                http_status,
                state,
            },
        );
    }
}

/// A tab of `foreign.user` reading (and pressing for) `foreign.target`:
/// what the ground truth of `status_private` is recorded from. It records
/// nothing itself; the harness's listener does.
async fn foreign_tab(config: TabConfig, id: u32, foreign: ForeignTab) {
    let end = tokio::time::Instant::now() + foreign.duration;
    let mut polls = 0u32;
    let path = format!("/api/whatsapp/status?user={}", foreign.target);
    let body = serde_json::json!({ "user": foreign.target }).to_string();
    let caller = config.caller(&foreign.user, id);
    loop {
        tokio::time::sleep(foreign.poll_interval).await;
        if tokio::time::Instant::now() > end {
            return;
        }
        let n = config.instances.load(Ordering::Relaxed).max(1);
        let instance = 1 + (id + polls) % n;
        polls = polls.wrapping_add(1);
        let _ = tokio::time::timeout(REQUEST_TIMEOUT, get(&*config.api, instance, &path, &caller))
            .await;
        if let Some(connect) = foreign.button {
            let button = if connect {
                "/api/whatsapp/connect"
            } else {
                "/api/whatsapp/disconnect"
            };
            let _ = tokio::time::timeout(
                REQUEST_TIMEOUT,
                post(&*config.api, instance, button, body.clone(), &caller),
            )
            .await;
        }
    }
}

fn with_caller(
    builder: hyper::http::request::Builder,
    caller: &Caller<'_>,
) -> hyper::http::request::Builder {
    let builder = builder.header(CALLER_HEADER, caller_header(caller.user, caller.tab));
    match caller.token {
        Some(token) => builder.header("cookie", format!("{SESSION_COOKIE}={token}")),
        None => builder,
    }
}

async fn get(
    api: &dyn ApiConnect,
    instance: u32,
    path: &str,
    caller: &Caller<'_>,
) -> Result<(u16, Bytes), Box<dyn std::error::Error + Send + Sync>> {
    let req = with_caller(Request::get(path), caller)
        .header("host", format!("app-{instance}"))
        .body(Empty::<Bytes>::new())?;
    send(api, instance, req).await
}

async fn post(
    api: &dyn ApiConnect,
    instance: u32,
    path: &str,
    body: String,
    caller: &Caller<'_>,
) -> Result<(u16, Bytes), Box<dyn std::error::Error + Send + Sync>> {
    let req = with_caller(Request::post(path), caller)
        .header("host", format!("app-{instance}"))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))?;
    send(api, instance, req).await
}

async fn send<B>(
    api: &dyn ApiConnect,
    instance: u32,
    req: Request<B>,
) -> Result<(u16, Bytes), Box<dyn std::error::Error + Send + Sync>>
where
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let (stream, _) = api.connect(instance).await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    let driver = tokio::spawn(conn);
    let res = sender.send_request(req).await?;
    let status = res.status().as_u16();
    let body = res.into_body().collect().await?.to_bytes();
    driver.abort();
    Ok((status, body))
}
