//! `babeldesk serve`: the review page. An HTTP server on loopback over the same memory the
//! CLI uses: translated documents side by side for review, the memory browser, import/export
//! and stats. Pages are rendered on the server (askama templates); a little hand-written JS
//! adds the keyboard.
//!
//! Every request needs the access token printed with the URL (a cookie after the first
//! visit), a Host of this server (against DNS rebinding), and every change is a POST carrying
//! the page's CSRF token. SQLite work runs on blocking threads, one memory connection at a
//! time, so CLI commands writing the same database meanwhile wait on its lock as usual.

mod diff;
mod fuzz;
mod guard;
mod listen;
mod pages;
mod views;

#[doc(hidden)]
pub use fuzz::fuzz_one_request;

use crate::memory::{Access, Memory, MemoryError};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How to serve.
#[derive(Debug, Clone)]
pub struct Options {
    pub memory: PathBuf,
    pub lock_timeout: Duration,
    pub bind: IpAddr,
    /// 0 picks a free port.
    pub port: u16,
    /// The access token; a random one when None (required for a non-loopback `bind`).
    pub token: Option<String>,
    /// The largest request body (a TMX upload), in bytes.
    pub max_upload: usize,
    /// The most connections open at once (see [`listen`]).
    pub max_connections: usize,
}

/// What can stop the server from starting or running.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("--bind {0} is reachable from other machines: give an access token with --token (or BABELDESK_TOKEN) to serve there")]
    TokenRequired(IpAddr),
    #[error("the access token must have 16 or more characters, each a letter, a digit or one of - . _ ~ (it goes into URLs and a cookie as it is)")]
    WeakToken,
    #[error("cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Memory(#[from] MemoryError),
    #[error("the server stopped")]
    Io(#[from] std::io::Error),
}

/// What every request handler shares.
pub(crate) struct State {
    memory: Mutex<Memory>,
    token: String,
    /// The token cookie's name ([`guard::cookie_name`]).
    cookie: String,
    csrf: String,
    /// Host header values this server answers to; empty: any (bound to all addresses).
    hosts: Vec<String>,
}

/// A server bound to its port, not yet answering.
pub struct Server {
    listener: std::net::TcpListener,
    state: Arc<State>,
    max_upload: usize,
    max_connections: usize,
    url: String,
}

impl Server {
    /// Opens the memory and binds the port; refuses a non-loopback address without a token.
    pub fn bind(opts: Options) -> Result<Server, ServeError> {
        let token = match (&opts.token, opts.bind.is_loopback()) {
            (Some(t), _) if !guard::token_ok(t) => return Err(ServeError::WeakToken),
            (Some(t), _) => t.clone(),
            (None, true) => guard::random_token(),
            (None, false) => return Err(ServeError::TokenRequired(opts.bind)),
        };
        let memory = Memory::open_for(&opts.memory, opts.lock_timeout, Access::Write)?;
        let addr = SocketAddr::new(opts.bind, opts.port);
        let listener = std::net::TcpListener::bind(addr)
            .map_err(|source| ServeError::Bind { addr, source })?;
        let local = listener.local_addr()?;
        let shown = match opts.bind {
            IpAddr::V4(ip) if ip.is_unspecified() => "127.0.0.1".to_string(),
            IpAddr::V6(ip) if ip.is_unspecified() => "[::1]".to_string(),
            IpAddr::V6(ip) => format!("[{ip}]"),
            IpAddr::V4(ip) => ip.to_string(),
        };
        let state = State {
            memory: Mutex::new(memory),
            csrf: guard::random_token(),
            hosts: guard::allowed_hosts(opts.bind, local.port()),
            cookie: guard::cookie_name(local.port()),
            token,
        };
        Ok(Server {
            url: format!("http://{shown}:{}/?token={}", local.port(), state.token),
            listener,
            state: Arc::new(state),
            max_upload: opts.max_upload,
            max_connections: opts.max_connections.max(1),
        })
    }

    /// The URL to open, token included.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Answers requests until the process is interrupted (Ctrl+C, SIGTERM).
    pub fn run(self) -> Result<(), ServeError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        runtime.block_on(async move {
            self.listener.set_nonblocking(true)?;
            let listener = tokio::net::TcpListener::from_std(self.listener)?;
            let app = pages::router(self.state, self.max_upload);
            listen::serve(listener, app, self.max_connections, shutdown()).await?;
            Ok(())
        })
    }
}

async fn shutdown() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {},
        _ = terminate => {},
    }
}
