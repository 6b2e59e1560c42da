//! The private status API (`status_api_auth`, on in `stable`): each request
//! carries its user's session cookie; another user's status and buttons are
//! refused 403, an unknown user 404, a malformed `user` 400, a request
//! without a valid session 401. Legacy keeps the reference's open API.

mod common;

use axum::body::Body;
use axum::http::Request;
use loopguard::supervisor::status_api;
use loopguard::supervisor::status_auth::{session_token, SessionBook};
use tower::ServiceExt;

use common::World;

const SEED: u64 = 7;

fn book() -> SessionBook {
    let (a, b) = (session_token(SEED, "alice"), session_token(SEED, "bob"));
    SessionBook::new([("alice", a.as_str()), ("bob", b.as_str())])
}

fn cookie(user: &str) -> String {
    format!("session={}", session_token(SEED, user))
}

/// The HTTP status of one request to a fresh `preset` supervisor's API,
/// sent with `user`'s session cookie if given.
async fn answer(preset: &str, req: Request<Body>) -> u16 {
    let w = World::new(&[("alice", true), ("bob", true)]);
    let sup = w.preset_supervisor("app-1", preset);
    let res = status_api::private_router(sup, book())
        .oneshot(req)
        .await
        .unwrap();
    res.status().as_u16()
}

fn read(user: &str, as_user: Option<&str>) -> Request<Body> {
    let mut b = Request::get(format!("/api/whatsapp/status?user={user}"));
    if let Some(me) = as_user {
        b = b.header("cookie", cookie(me));
    }
    b.body(Body::empty()).unwrap()
}

fn press(button: &str, user: &str, as_user: &str) -> Request<Body> {
    Request::post(format!("/api/whatsapp/{button}"))
        .header("cookie", cookie(as_user))
        .header("content-type", "application/json")
        .body(Body::from(serde_json::json!({ "user": user }).to_string()))
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn stable_answers_a_users_own_status_200() {
    assert_eq!(answer("stable", read("alice", Some("alice"))).await, 200);
}

#[tokio::test(start_paused = true)]
async fn stable_refuses_another_users_status_403() {
    assert_eq!(answer("stable", read("bob", Some("alice"))).await, 403);
}

#[tokio::test(start_paused = true)]
async fn stable_refuses_another_users_disconnect_and_connect_403() {
    assert_eq!(
        answer("stable", press("disconnect", "bob", "alice")).await,
        403
    );
    assert_eq!(
        answer("stable", press("connect", "bob", "alice")).await,
        403
    );
}

#[tokio::test(start_paused = true)]
async fn stable_answers_an_unknown_user_404_on_reads_and_presses() {
    assert_eq!(answer("stable", read("zed", Some("alice"))).await, 404);
    assert_eq!(
        answer("stable", press("disconnect", "zed", "alice")).await,
        404
    );
}

#[tokio::test(start_paused = true)]
async fn stable_answers_a_malformed_user_400() {
    assert_eq!(answer("stable", read("al%20ice", Some("alice"))).await, 400);
    assert_eq!(answer("stable", read("", Some("alice"))).await, 400);
    let long = "a".repeat(65);
    assert_eq!(answer("stable", read(&long, Some("alice"))).await, 400);
    let missing = Request::get("/api/whatsapp/status")
        .header("cookie", cookie("alice"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(answer("stable", missing).await, 400);
}

#[tokio::test(start_paused = true)]
async fn stable_answers_a_request_without_a_valid_session_401() {
    assert_eq!(answer("stable", read("alice", None)).await, 401);
    let forged = Request::get("/api/whatsapp/status?user=alice")
        .header("cookie", "session=0123456789abcdef0123456789abcdef")
        .body(Body::empty())
        .unwrap();
    assert_eq!(answer("stable", forged).await, 401);
}

#[tokio::test(start_paused = true)]
async fn legacy_and_seed_fix_keep_the_open_api_of_the_reference() {
    for preset in ["legacy", "seed-fix"] {
        assert_eq!(
            answer(preset, read("bob", Some("alice"))).await,
            200,
            "{preset}"
        );
        assert_eq!(answer(preset, read("bob", None)).await, 200, "{preset}");
        assert_eq!(
            answer(preset, press("disconnect", "bob", "alice")).await,
            200,
            "{preset}"
        );
    }
}
