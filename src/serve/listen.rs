//! Connections: the accept loop and its limits, so that clients who send slowly or not at all
//! (slowloris) cannot keep the people with the token from the page.
//!
//! - A request's head must arrive within [`HEAD_TIME`] of the server starting to wait for it;
//!   the same bound closes a kept-alive connection that sits idle (browsers reconnect).
//! - At most `max_connections` connections are open. When all are taken, the oldest one that
//!   has not yet made an authorized request is closed for the newcomer; only when every
//!   connection has made one does the newcomer wait for a free place.
//! - A request body (an upload) has [`BODY_TIME`] in all (see `pages::import`).

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::VecDeque;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{oneshot, watch, Semaphore};
use tower::ServiceExt;

/// How long a request's head may take, and how long a kept-alive connection may sit idle.
pub const HEAD_TIME: Duration = Duration::from_secs(10);
/// How long a request's body may take in all.
pub const BODY_TIME: Duration = Duration::from_secs(120);
/// How long open connections get to finish when the server is stopped.
const DRAIN_TIME: Duration = Duration::from_secs(5);

/// One open connection, as the accept loop sees it.
struct Open {
    /// Whether it has made a request that got past the token check.
    trusted: Arc<AtomicBool>,
    /// Closes it.
    close: oneshot::Sender<()>,
}

/// The open connections, oldest first.
#[derive(Default)]
struct Table(Mutex<VecDeque<Open>>);

impl Table {
    fn add(&self, open: Open) {
        if let Ok(mut t) = self.0.lock() {
            t.retain(|o| !o.close.is_closed());
            t.push_back(open);
        }
    }

    /// Closes the oldest connection that has made no authorized request: whether there was one.
    fn close_oldest_untrusted(&self) -> bool {
        let Ok(mut t) = self.0.lock() else {
            return false;
        };
        t.retain(|o| !o.close.is_closed());
        match t.iter().position(|o| !o.trusted.load(Ordering::Relaxed)) {
            Some(i) => t.remove(i).is_some_and(|o| o.close.send(()).is_ok()),
            None => false,
        }
    }
}

/// Serves `app` on `listener` until `stop` completes, within the limits above.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    max_connections: usize,
    stop: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let places = Arc::new(Semaphore::new(max_connections));
    let table = Arc::new(Table::default());
    let (stopping, stopped) = watch::channel(false);
    tokio::pin!(stop);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of descriptors and the like: pass, and try again shortly.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        // A newcomer is here: make room for it if every place is taken.
        let place = tokio::select! {
            place = take_place(&places, &table) => place,
            () = &mut stop => break,
        };
        let trusted = Arc::new(AtomicBool::new(false));
        let (close, closed) = oneshot::channel();
        table.add(Open {
            trusted: trusted.clone(),
            close,
        });
        let (app, stopped) = (app.clone(), stopped.clone());
        tokio::spawn(async move {
            connection(stream, app, trusted, closed, stopped).await;
            drop(place);
        });
    }
    let _ = stopping.send(true);
    drop(listener);
    // Requests under way finish (an import commits or rolls back) before the process ends.
    let all = u32::try_from(max_connections).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(DRAIN_TIME, places.acquire_many(all)).await;
    Ok(())
}

/// A free place: when every place is taken, the oldest untrusted connection is closed (one,
/// for this one newcomer) and its place taken as its task ends; with none untrusted, the
/// first place to come free.
async fn take_place(places: &Arc<Semaphore>, table: &Table) -> tokio::sync::OwnedSemaphorePermit {
    if let Ok(p) = places.clone().try_acquire_owned() {
        return p;
    }
    table.close_oldest_untrusted();
    loop {
        if let Ok(p) = places.clone().acquire_owned().await {
            return p;
        }
    }
}

/// One connection, HTTP/1.1 with the head time, until it ends, is closed or the server stops.
async fn connection(
    stream: tokio::net::TcpStream,
    app: Router,
    trusted: Arc<AtomicBool>,
    closed: oneshot::Receiver<()>,
    mut stopped: watch::Receiver<bool>,
) {
    let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        let (app, trusted) = (app.clone(), trusted.clone());
        async move {
            let answer = app.oneshot(req.map(axum::body::Body::new)).await;
            if let Ok(a) = &answer {
                let refused = [
                    hyper::StatusCode::UNAUTHORIZED,
                    hyper::StatusCode::FORBIDDEN,
                    hyper::StatusCode::MISDIRECTED_REQUEST,
                ];
                if !refused.contains(&a.status()) {
                    trusted.store(true, Ordering::Relaxed);
                }
            }
            answer
        }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEAD_TIME)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = closed => {}
        _ = async { stopped.wait_for(|s| *s).await.map(|_| ()) } => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}
