//! Terminology: termbase entries, term recognition that survives inflection (stems), and
//! Chinese names written in Russian (Palladius) read as pinyin. The entries are stored by
//! `memory` (migration 0003) and exchanged as TBX, TSV and CSV by `exchange`; the pipeline
//! puts the matches into prompts and QA checks the translations against them.

mod entry;
pub mod matcher;
pub mod names;
pub mod stem;

pub use entry::{NewTerm, Term, TermFilter, TermOrigin, TermStatus};
pub use matcher::{Matcher, TermMatch};
