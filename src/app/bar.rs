//! Progress bars (indicatif) for the library's `Progress` reports. Bars draw on stderr and only
//! when it is a terminal; `-q` hides them, `-v` shows notes.

use babeldesk::progress::{Progress, Unit};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Mutex;

pub struct Bars {
    bar: Mutex<Option<ProgressBar>>,
    quiet: bool,
    verbose: u8,
}

impl Bars {
    pub fn new(quiet: bool, verbose: u8) -> Bars {
        Bars {
            bar: Mutex::new(None),
            quiet,
            verbose,
        }
    }

    /// Tell the user something on stderr, above any bar (hidden with -q).
    pub fn say(&self, message: &str) {
        if self.quiet {
            return;
        }
        let message = super::out::shown(message, super::out::Lines::Keep);
        // A hidden bar (stderr no terminal) would swallow what it is asked to print.
        match self.bar.lock().ok().and_then(|b| b.clone()) {
            Some(bar) if !bar.is_hidden() => bar.println(message),
            _ => eprintln!("{message}"),
        }
    }
}

impl Progress for Bars {
    fn start(&self, label: &str, total: Option<u64>, unit: Unit) {
        let target = if self.quiet || !std::io::stderr().is_terminal() {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        let bar = match total {
            Some(n) => ProgressBar::with_draw_target(Some(n), target),
            None => ProgressBar::with_draw_target(None, target),
        };
        let template = match (unit, total.is_some()) {
            (Unit::Bytes, true) => {
                "{msg:24} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}"
            }
            (Unit::Bytes, false) => "{spinner} {msg:24} {bytes} {bytes_per_sec}",
            (Unit::Items, true) => "{msg:24} [{bar:30}] {pos}/{len} {per_sec} eta {eta}",
            (Unit::Items, false) => "{spinner} {msg} {elapsed}",
        };
        bar.set_style(
            ProgressStyle::with_template(template)
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_message(super::out::visible(label));
        if let Ok(mut slot) = self.bar.lock() {
            *slot = Some(bar);
        }
    }

    fn advance(&self, delta: u64) {
        if let Some(bar) = self.bar.lock().ok().and_then(|b| b.clone()) {
            bar.inc(delta);
        }
    }

    fn relabel(&self, label: &str) {
        if let Some(bar) = self.bar.lock().ok().and_then(|b| b.clone()) {
            bar.set_message(super::out::visible(label));
        }
    }

    fn finish(&self) {
        if let Some(bar) = self.bar.lock().ok().and_then(|mut b| b.take()) {
            bar.finish_and_clear();
        }
    }

    fn note(&self, message: &str) {
        if self.verbose > 0 {
            self.say(message);
        }
    }

    fn warn(&self, message: &str) {
        self.say(message);
    }
}
