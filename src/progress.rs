//! The library reports long work through this trait; the app layer draws it (indicatif), tests
//! and scripts can ignore it.

pub trait Progress: Sync {
    /// A new task starts; `total` is in `unit`s when known.
    fn start(&self, _label: &str, _total: Option<u64>, _unit: Unit) {}
    fn advance(&self, _delta: u64) {}
    /// Replace the running task's label (e.g. with a rate the bar cannot compute itself).
    fn relabel(&self, _label: &str) {}
    fn finish(&self) {}
    /// A one-line note for `-v` output.
    fn note(&self, _message: &str) {}
    /// A one-line message the user must see (a fallback taken, something skipped).
    fn warn(&self, _message: &str) {}
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Bytes,
    Items,
}

/// Progress that goes nowhere.
pub struct Silent;
impl Progress for Silent {}
