//! Which HTTP request, if any, a piece of supervisor work is running for:
//! the harness's ground truth behind `status_read_only`.
//!
//! The harness's listener wrapper (a middleware around the status API, in
//! `src/sim/`) runs every request it serves inside [`serve`], which sets a
//! tokio task-local for as long as the handler runs. The supervisor's spawns
//! go through [`carry`], which hands the context of the request being served
//! to the task spawned for it (one generation: a task spawned by that task
//! carries nothing, so a backoff retry scheduled after a status-made socket
//! closes is not charged to the request). The dialer wrapper reads
//! [`current`] at dial time and records `dial_during_request`. The label the
//! supervisor gives its attempt plays no part: a status request that
//! connects is seen whatever the attempt is called.

use std::future::Future;

/// An HTTP request the harness's listener is serving.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestContext {
    /// Unique in a run, in the order requests arrived.
    pub request: u64,
    /// The request's path, without the query (`/api/whatsapp/status`).
    pub path: String,
}

tokio::task_local! {
    /// Set while a request's handler runs.
    static SERVING: RequestContext;
    /// Set in a task spawned while a request was being served.
    static SPAWNED_FOR: RequestContext;
}

/// Runs `fut` (a request's handling) with `ctx` as the current request.
pub async fn serve<F: Future>(ctx: RequestContext, fut: F) -> F::Output {
    SERVING.scope(ctx, fut).await
}

/// The request the current code runs for: the one being served, or the one
/// the current task was spawned for.
pub fn current() -> Option<RequestContext> {
    SERVING
        .try_with(Clone::clone)
        .ok()
        .or_else(|| SPAWNED_FOR.try_with(Clone::clone).ok())
}

/// Wraps a future about to be spawned so that it runs for the request being
/// served now, if any.
pub fn carry<F>(fut: F) -> impl Future<Output = F::Output> + Send + 'static
where
    F: Future + Send + 'static,
    F::Output: Send,
{
    let ctx = SERVING.try_with(Clone::clone).ok();
    async move {
        match ctx {
            Some(ctx) => SPAWNED_FOR.scope(ctx, fut).await,
            None => fut.await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(request: u64) -> RequestContext {
        RequestContext {
            request,
            path: "/api/whatsapp/status".into(),
        }
    }

    #[tokio::test]
    async fn a_task_spawned_while_serving_runs_for_that_request() {
        let seen = serve(ctx(7), async {
            tokio::spawn(carry(async { current() }))
                .await
                .ok()
                .flatten()
        })
        .await;
        assert_eq!(seen, Some(ctx(7)));
    }

    #[tokio::test]
    async fn a_grandchild_task_runs_for_no_request() {
        let seen = serve(ctx(7), async {
            tokio::spawn(carry(async {
                tokio::spawn(carry(async { current() }))
                    .await
                    .ok()
                    .flatten()
            }))
            .await
            .ok()
            .flatten()
        })
        .await;
        assert_eq!(seen, None);
    }

    #[tokio::test]
    async fn outside_a_request_there_is_no_context() {
        assert_eq!(
            tokio::spawn(carry(async { current() }))
                .await
                .ok()
                .flatten(),
            None
        );
    }
}
