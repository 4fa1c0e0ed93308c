//! `serve`: flags to options, the URL printed, then the server runs until interrupted.

use super::{out, Ctx};
use crate::cli::ServeArgs;
use anyhow::Result;
use babeldesk::serve::{Options, Server};
use std::io::Write;
use std::process::ExitCode;

pub fn run(ctx: &Ctx, args: ServeArgs) -> Result<ExitCode> {
    let opts = Options {
        memory: ctx.settings.memory.clone(),
        lock_timeout: ctx.settings.lock_timeout,
        bind: args.bind,
        port: args.port,
        token: args.token,
        max_upload: args.max_upload.saturating_mul(1024 * 1024),
        max_connections: args.max_connections as usize,
    };
    let server = Server::bind(opts)?;
    // The URL goes to standard output (scripts read it); the rest is for people.
    println!("{}", server.url());
    std::io::stdout().flush()?;
    if !ctx.quiet {
        out::err_line(&format!(
            "babeldesk: reviewing {} at the URL above (Ctrl+C stops)",
            babeldesk::memory::shown_location(&ctx.settings.memory)
        ));
    }
    if args.open {
        open_browser(server.url());
    }
    server.run()?;
    Ok(ExitCode::SUCCESS)
}

/// The desktop's browser, if there is one (xdg-open, open); nothing happens otherwise.
fn open_browser(url: &str) {
    for opener in ["xdg-open", "open"] {
        let started = std::process::Command::new(opener)
            .arg(url)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
        if started.is_ok() {
            return;
        }
    }
}
