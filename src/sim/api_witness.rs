//! The harness's listener in front of each app's status API: the ground
//! truth of `status_private`. The harness's browser names the tab that sends
//! each request (who is really at the keyboard) in a header that this layer
//! strips before the supervisor sees it; the layer records every request
//! where that tab's user is not the user asked for, or not the user the
//! answer is about, with what it answered. It also records each person's own
//! button press as it hands it to the app (`PressDelivered`), the ground
//! truth of "a person acted" for the oracle.

use axum::body::{to_bytes, Body};
use axum::extract::{Query, Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;

use crate::supervisor::status_api::{StatusBody, UserParam};
use crate::trace::{EventKind, Recorder};

/// The header the harness's browser names the sending tab in: `USER/TAB`.
pub const CALLER_HEADER: &str = "x-loopguard-caller";
/// Bodies larger than this are not inspected (none of the API's are).
const MAX_BODY_BYTES: usize = 1 << 20;

/// Where the witness records, and as which host.
#[derive(Clone)]
pub struct Witness {
    pub recorder: Recorder,
    pub host: String,
}

/// `router` behind the witness.
pub fn witnessed(router: Router, witness: Witness) -> Router {
    router.layer(axum::middleware::from_fn_with_state(witness, observe))
}

/// The value of [`CALLER_HEADER`] for `user`'s tab `tab`.
pub fn caller_header(user: &str, tab: u32) -> String {
    format!("{user}/{tab}")
}

fn parse_caller(v: &HeaderValue) -> Option<(String, u32)> {
    let (user, tab) = v.to_str().ok()?.rsplit_once('/')?;
    Some((user.to_string(), tab.parse().ok()?))
}

async fn observe(State(w): State<Witness>, mut req: Request, next: Next) -> Response {
    let caller = req
        .headers_mut()
        .remove(CALLER_HEADER)
        .as_ref()
        .and_then(parse_caller);
    let Some((caller, tab)) = caller else {
        return next.run(req).await;
    };
    let button = match req.uri().path() {
        "/api/whatsapp/connect" => Some("connect"),
        "/api/whatsapp/disconnect" => Some("disconnect"),
        _ => None,
    };
    let (req, target) = if button.is_some() {
        let (parts, body) = req.into_parts();
        let bytes = to_bytes(body, MAX_BODY_BYTES).await.unwrap_or_default();
        let target = serde_json::from_slice::<UserParam>(&bytes)
            .ok()
            .map(|p| p.user);
        (Request::from_parts(parts, Body::from(bytes)), target)
    } else {
        let target = Query::<UserParam>::try_from_uri(req.uri())
            .ok()
            .map(|q| q.0.user);
        (req, target)
    };
    if let (Some(b), Some(t)) = (button, target.as_deref()) {
        if t == caller {
            w.recorder.record(
                &w.host,
                Some(t),
                EventKind::PressDelivered {
                    button: b.to_string(),
                },
            );
        }
    }
    let res = next.run(req).await;
    let http_status = res.status().as_u16();
    let (parts, body) = res.into_parts();
    let bytes = to_bytes(body, MAX_BODY_BYTES).await.unwrap_or_default();
    let answer = button
        .is_none()
        .then(|| serde_json::from_slice::<StatusBody>(&bytes).ok())
        .flatten();
    let about = answer.as_ref().map(|b| b.user.clone());
    let foreign_target = target.as_deref() != Some(caller.as_str());
    let foreign_answer = about.as_deref().is_some_and(|a| a != caller);
    if foreign_target || foreign_answer {
        w.recorder.record(
            &w.host,
            target.as_deref(),
            EventKind::ApiCrossUser {
                caller,
                tab,
                button: button.map(str::to_string),
                http_status,
                revealed: answer.map(|b| b.status),
                about,
            },
        );
    }
    Response::from_parts(parts, Body::from(bytes))
}
