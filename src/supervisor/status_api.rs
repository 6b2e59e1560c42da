//! The dashboard's HTTP API: `GET /api/whatsapp/status?user=ID` answers the
//! state as JSON (and, under `legacy`, starts a connection: the original
//! loop's third root cause); `POST /api/whatsapp/connect` and
//! `POST /api/whatsapp/disconnect` with `{"user": ID}` are the buttons.
//!
//! With the policy's `status_api_auth` (stable) the API is private: each
//! request must carry its user's session token (see [`status_auth`]); a
//! malformed `user` answers 400, a missing or unknown token 401, an unknown
//! user 404, and a read or press for a user other than the token's 403.
//! Without it (legacy, seed-fix) anyone reads and presses for anyone, as in
//! the reference.
//!
//! [`status_auth`]: super::status_auth

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::status_auth::{is_well_formed_user, SessionBook};
use super::{ConnectOutcome, Supervisor};
use crate::trace::{AttemptCause, ConnectionState, EventKind};

#[derive(Debug, Deserialize)]
pub struct UserParam {
    pub user: String,
}

/// Body of a status answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusBody {
    pub user: String,
    pub status: ConnectionState,
    pub connected: bool,
    pub reason: String,
}

#[derive(Clone)]
struct Api {
    sup: Supervisor,
    /// The login check's tokens; none: the API has no login check.
    sessions: Option<SessionBook>,
}

/// The API's routes over a supervisor, without a login check whatever the
/// policy says (the supervisor's own tests call it in-process).
pub fn router(sup: Supervisor) -> Router {
    routes(Api {
        sup,
        sessions: None,
    })
}

/// The API's routes as deployed: private when the policy's
/// `status_api_auth` is on, with `sessions` as the logged-in users' tokens.
pub fn private_router(sup: Supervisor, sessions: SessionBook) -> Router {
    routes(Api {
        sup,
        sessions: Some(sessions),
    })
}

fn routes(api: Api) -> Router {
    Router::new()
        .route("/api/whatsapp/status", get(status))
        .route("/api/whatsapp/connect", post(connect))
        .route("/api/whatsapp/disconnect", post(disconnect))
        .with_state(api)
}

/// Serves the API on `listener` until the task is dropped.
pub async fn serve<L>(listener: L, sup: Supervisor) -> std::io::Result<()>
where
    L: axum::serve::Listener,
    L::Addr: std::fmt::Debug,
{
    axum::serve(listener, router(sup)).await
}

fn refuse(code: StatusCode, why: &str) -> Response {
    (code, Json(serde_json::json!({ "error": why }))).into_response()
}

/// The login check: `Ok` when the request may act for `user`, else the
/// status and reason to refuse it with (see [`refuse`]).
fn admit(api: &Api, headers: &HeaderMap, user: &str) -> Result<(), (StatusCode, &'static str)> {
    let Some(sessions) = &api.sessions else {
        return Ok(());
    };
    if !api.sup.policy().status_api_auth {
        return Ok(());
    }
    if !is_well_formed_user(user) {
        return Err((StatusCode::BAD_REQUEST, "malformed user"));
    }
    let Some(caller) = sessions.caller(headers) else {
        return Err((StatusCode::UNAUTHORIZED, "no valid session"));
    };
    if api.sup.status(user).is_none() {
        return Err((StatusCode::NOT_FOUND, "unknown user"));
    }
    if caller != user {
        return Err((StatusCode::FORBIDDEN, "another user's session"));
    }
    Ok(())
}

async fn status(
    State(api): State<Api>,
    headers: HeaderMap,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    let Some(user) = q.get("user").cloned() else {
        return refuse(StatusCode::BAD_REQUEST, "missing user");
    };
    if let Err((code, why)) = admit(&api, &headers, &user) {
        return refuse(code, why);
    }
    let sup = &api.sup;
    let Some(view) = sup.status(&user) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    sup.events()
        .emit(&user, EventKind::StatusServed { state: view.state });
    if sup.policy().status_starts_connection && !view.connected {
        // Test-only fault: the status-made attempt hides behind another label.
        let cause = if crate::test_faults::active("supervisor_relabels_status_attempt") {
            AttemptCause::Auto
        } else {
            AttemptCause::Status
        };
        sup.connect(&user, cause);
    }
    Json(StatusBody {
        user,
        status: view.state,
        connected: view.connected,
        reason: view.reason,
    })
    .into_response()
}

async fn connect(State(api): State<Api>, headers: HeaderMap, Json(q): Json<UserParam>) -> Response {
    if let Err((code, why)) = admit(&api, &headers, &q.user) {
        return refuse(code, why);
    }
    let outcome = api.sup.connect(&q.user, AttemptCause::Manual);
    let code = match outcome {
        ConnectOutcome::UnknownUser => StatusCode::NOT_FOUND,
        ConnectOutcome::LeaseHeld => StatusCode::CONFLICT,
        _ => StatusCode::ACCEPTED,
    };
    (
        code,
        Json(serde_json::json!({ "outcome": format!("{outcome:?}") })),
    )
        .into_response()
}

async fn disconnect(
    State(api): State<Api>,
    headers: HeaderMap,
    Json(q): Json<UserParam>,
) -> Response {
    if let Err((code, why)) = admit(&api, &headers, &q.user) {
        return refuse(code, why);
    }
    api.sup.disconnect(&q.user);
    StatusCode::OK.into_response()
}
