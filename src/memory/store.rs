//! Writing and reading units: add, import in one transaction, edit, review, delete, list.

use super::db::{Db, DbError, Dialect, Param, Row, Tx};
use super::key;
use super::select::Select;
use super::unit::{
    lang_matches, Filter, HistoryEntry, ImportReport, NewUnit, Origin, Status, Unit,
};
use super::{Memory, MemoryError};
use std::collections::{HashMap, HashSet};

/// Whether an import may run beside others (see [`Memory::import_with`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Concurrency {
    Shared,
    Alone,
}

/// The PostgreSQL advisory lock imports hold: shared by imports side by side, exclusive by one
/// run alone.
const IMPORT_LOCK: i64 = 0x6261_6265_6c64_6b02;

pub(super) const COLUMNS: &str = "id, source_lang, target_lang, source, target, source_key, origin, status, model, document, position, prev_hash, next_hash, source_tags, target_tags, created_at, updated_at, use_count, precision";

pub(super) fn unit_from_row(r: &Row) -> Result<Unit, DbError> {
    let word = |i: usize| -> Result<String, DbError> { r.get(i) };
    let parse_err = |i: usize, problem: String| DbError::Column { column: i, problem };
    Ok(Unit {
        id: r.get(0)?,
        source_lang: r.get(1)?,
        target_lang: r.get(2)?,
        source: r.get(3)?,
        target: r.get(4)?,
        source_key: r.get(5)?,
        origin: word(6)?.parse().map_err(|e| parse_err(6, e))?,
        status: word(7)?.parse().map_err(|e| parse_err(7, e))?,
        model: r.get(8)?,
        document: r.get(9)?,
        position: r.get(10)?,
        prev_hash: r.get(11)?,
        next_hash: r.get(12)?,
        source_tags: r.get(13)?,
        target_tags: r.get(14)?,
        created_at: r.get(15)?,
        updated_at: r.get(16)?,
        use_count: r.get(17)?,
        precision: r
            .get::<Option<String>>(18)?
            .map(|p| {
                p.parse()
                    .map_err(|e: crate::Error| parse_err(18, e.to_string()))
            })
            .transpose()?,
    })
}

/// A unit with everything the database needs computed: key, hashes, tokens. Pure work, so
/// an import stages units on one thread while another writes them.
pub struct Staged {
    unit: NewUnit,
    key: String,
    ident: i64,
    key_hash: i64,
    ntok: i64,
    /// Distinct tokens, sorted.
    distinct: Vec<String>,
    /// The tokens in order, space-separated, as SQLite's FTS index gets them.
    fts: String,
}

impl Staged {
    pub fn new(unit: NewUnit) -> Staged {
        let key = key::key(&unit.source);
        let tokens: Vec<&str> = key::tokens(&key).collect();
        Staged {
            ident: unit.ident(),
            key_hash: key::hash(&[&key]),
            ntok: tokens.len() as i64,
            fts: tokens.join(" "),
            distinct: distinct_tokens(&key)
                .into_iter()
                .map(str::to_string)
                .collect(),
            key,
            unit,
        }
    }
}

/// Adds units inside one import transaction; see [`Memory::import`].
pub struct Importer<'a> {
    tx: Tx<'a>,
    report: ImportReport,
    path: std::path::PathBuf,
    /// Token counts of the units added, written to `token_df` once at the end.
    df: HashMap<String, i64>,
    /// Units waiting to go to PostgreSQL in one statement.
    pending: Vec<Staged>,
}

impl Importer<'_> {
    /// Store a unit unless the same one is there; merged duplicates are counted, not doubled.
    pub fn add(&mut self, u: &NewUnit) -> Result<Option<i64>, MemoryError> {
        self.add_now(Staged::new(u.clone()))
    }

    /// Store a staged unit. On PostgreSQL units go to the server [`PG_BATCH`] at a time (one
    /// round trip each); the report counts them once they are sent.
    pub fn add_staged(&mut self, s: Staged) -> Result<(), MemoryError> {
        if self.tx.dialect() == Dialect::Sqlite {
            return self.add_now(s).map(|_| ());
        }
        self.pending.push(s);
        if self.pending.len() >= PG_BATCH {
            self.flush()?;
        }
        Ok(())
    }

    fn add_now(&mut self, s: Staged) -> Result<Option<i64>, MemoryError> {
        self.flush()?;
        let id = insert(&self.tx, &s).map_err(|e| MemoryError::from_db(&self.path, e))?;
        self.count(s, id.is_some());
        Ok(id)
    }

    fn count(&mut self, s: Staged, added: bool) {
        self.report.read += 1;
        match added {
            true => {
                self.report.added += 1;
                for t in s.distinct {
                    *self.df.entry(t).or_default() += 1;
                }
            }
            false => self.report.merged += 1,
        }
    }

    /// Sends the units waiting for a batch.
    fn flush(&mut self) -> Result<(), MemoryError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.pending);
        let mut added =
            insert_many(&self.tx, &batch).map_err(|e| MemoryError::from_db(&self.path, e))?;
        for s in batch {
            // The first of two copies in one batch is the one added.
            let new = added.remove(&s.ident);
            self.count(s, new);
        }
        Ok(())
    }

    pub fn report(&self) -> &ImportReport {
        &self.report
    }
}

/// The distinct tokens of a key, sorted: what `token_df` counts once per unit.
fn distinct_tokens(key: &str) -> Vec<&str> {
    let mut t: Vec<&str> = key::tokens(key).collect();
    t.sort_unstable();
    t.dedup();
    t
}

/// Add `delta` to the document frequency of each token. Sorted, so two PostgreSQL writers
/// lock the rows in one order and never deadlock.
fn update_df<'a>(db: &Db, counts: impl IntoIterator<Item = (&'a str, i64)>) -> Result<(), DbError> {
    let mut counts: Vec<(&str, i64)> = counts.into_iter().collect();
    counts.sort_unstable();
    for (term, delta) in counts {
        db.execute(
            "INSERT INTO token_df (term, df) VALUES (?1, ?2) \
             ON CONFLICT (term) DO UPDATE SET df = token_df.df + excluded.df",
            &[&term, &delta],
        )?;
    }
    Ok(())
}

fn insert(db: &Db, s: &Staged) -> Result<Option<i64>, DbError> {
    insert_as(db, s, None)
}

/// Stores a staged unit under `id` when one is given (a copy keeps ids), else a new one.
pub(super) fn insert_as(db: &Db, s: &Staged, id: Option<i64>) -> Result<Option<i64>, DbError> {
    let now = db.dialect().now();
    let (id_col, id_arg) = match id {
        Some(_) => ("id, ", "?23, "),
        None => ("", ""),
    };
    let insert = format!(
        "INSERT INTO units ({id_col}ident, key_hash, ntok, source_lang, target_lang, source, target, source_key, \
         origin, status, model, document, position, prev_hash, next_hash, source_tags, target_tags, \
         created_at, updated_at, use_count, precision) \
         VALUES ({id_arg}?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, \
         coalesce(?18, {now}), coalesce(?19, ?18, {now}), ?20, ?21) \
         ON CONFLICT (ident) DO NOTHING RETURNING id"
    );
    // PostgreSQL's fuzzy index (`unit_tokens`) is written in the same statement; SQLite's
    // (the FTS table) below.
    let sql = match db.dialect() {
        Dialect::Sqlite => insert,
        Dialect::Postgres => format!(
            "WITH new AS ({insert}), words AS (INSERT INTO unit_tokens (token, unit_id) \
             SELECT unnest(string_to_array(?22::text, ' ')), id FROM new) SELECT id FROM new"
        ),
    };
    let distinct = s.distinct.join(" ");
    let words = words(&s.unit);
    let mut params = unit_params(s, &words);
    // ?22 is always the tokens and ?23 the id, so SQLite (without tokens) gets a NULL ?22.
    let no_tokens: Option<String> = None;
    match db.dialect() {
        Dialect::Postgres => params.push(&distinct),
        Dialect::Sqlite if id.is_some() => params.push(&no_tokens),
        Dialect::Sqlite => {}
    }
    if let Some(id) = &id {
        params.push(id);
    }
    let Some(id) = db.query_opt(&sql, &params, |r| r.get::<i64>(0))? else {
        return Ok(None);
    };
    if db.dialect() == Dialect::Sqlite {
        db.execute(
            "INSERT INTO units_fts (rowid, tokens) VALUES (?1, ?2)",
            &[&id, &s.fts],
        )?;
    }
    Ok(Some(id))
}

/// How many units a PostgreSQL import sends in one statement (22 parameters each, of the
/// protocol's 65,535).
const PG_BATCH: usize = 500;

/// Stores staged units on PostgreSQL in one statement (one round trip); the identities of
/// those added (the others were there already, or earlier in the batch).
fn insert_many(db: &Db, batch: &[Staged]) -> Result<HashSet<i64>, DbError> {
    let now = db.dialect().now();
    let rows: Vec<String> = (0..batch.len())
        .map(|i| {
            let a = |k: usize| format!("?{}", i * PG_PARAMS + k);
            format!(
                "({}, coalesce({}, {now}), coalesce({}, {}, {now}), {}, {})",
                (1..=17).map(a).collect::<Vec<_>>().join(", "),
                a(18),
                a(19),
                a(18),
                a(20),
                a(21),
            )
        })
        .collect();
    // Two copies of a unit in one batch: the second is not inserted, its tokens not twice.
    let tokens: Vec<String> = (0..batch.len())
        .map(|i| {
            format!(
                "(?{}::int8, ?{}::text)",
                i * PG_PARAMS + 1,
                i * PG_PARAMS + 22
            )
        })
        .collect();
    let sql = format!(
        "WITH new AS (INSERT INTO units (ident, key_hash, ntok, source_lang, target_lang, source, \
         target, source_key, origin, status, model, document, position, prev_hash, next_hash, \
         source_tags, target_tags, created_at, updated_at, use_count, precision) VALUES {} \
         ON CONFLICT (ident) DO NOTHING RETURNING id, ident), \
         words AS (INSERT INTO unit_tokens (token, unit_id) SELECT DISTINCT \
         unnest(string_to_array(v.tokens, ' ')), new.id FROM new \
         JOIN (VALUES {}) AS v(ident, tokens) ON v.ident = new.ident) \
         SELECT ident FROM new",
        rows.join(", "),
        tokens.join(", ")
    );
    let words: Vec<Words> = batch.iter().map(|s| words(&s.unit)).collect();
    let distinct: Vec<String> = batch.iter().map(|s| s.distinct.join(" ")).collect();
    let mut params = Vec::with_capacity(batch.len() * PG_PARAMS);
    for ((s, w), d) in batch.iter().zip(&words).zip(&distinct) {
        params.extend(unit_params(s, w));
        params.push(d as &dyn Param);
    }
    Ok(db
        .query_all(&sql, &params, |r| r.get(0))?
        .into_iter()
        .collect())
}

/// Parameters per unit in `insert_many`: the 21 of `unit_params`, then the tokens.
const PG_PARAMS: usize = 22;

/// A unit's kinds as the words the database stores: origin, status, precision.
type Words = (&'static str, &'static str, Option<&'static str>);

fn words(u: &NewUnit) -> Words {
    (
        u.origin.as_str(),
        u.status.as_str(),
        u.precision.map(|p| p.as_str()),
    )
}

/// A staged unit's first 21 parameters, in the order of `insert_as`'s columns.
fn unit_params<'a>(s: &'a Staged, words: &'a Words) -> Vec<&'a dyn Param> {
    let u = &s.unit;
    vec![
        &s.ident,
        &s.key_hash,
        &s.ntok,
        &u.source_lang,
        &u.target_lang,
        &u.source,
        &u.target,
        &s.key,
        &words.0,
        &words.1,
        &u.model,
        &u.document,
        &u.position,
        &u.prev_hash,
        &u.next_hash,
        &u.source_tags,
        &u.target_tags,
        &u.created_at,
        &u.updated_at,
        &u.use_count,
        &words.2,
    ]
}

impl Memory {
    /// Store one unit; `None` when the same unit (pair, source, target, context) was there.
    pub fn add(&mut self, u: &NewUnit) -> Result<Option<i64>, MemoryError> {
        let wrap = self.errf();
        let tx = self.db.begin(true).map_err(&wrap)?;
        let staged = Staged::new(u.clone());
        let id = insert(&tx, &staged)
            .and_then(|id| {
                if id.is_some() {
                    update_df(&tx, staged.distinct.iter().map(|t| (t.as_str(), 1)))?;
                }
                tx.commit().map(|_| id)
            })
            .map_err(&wrap)?;
        Ok(id)
    }

    /// Import many units in one transaction: `fill` adds them; if it fails (a malformed file,
    /// a killed process) nothing of it is kept.
    pub fn import<E: From<MemoryError>>(
        &mut self,
        fill: impl FnOnce(&mut Importer) -> Result<(), E>,
    ) -> Result<ImportReport, E> {
        self.import_with(Concurrency::Shared, fill)
    }

    /// [`Memory::import`], alone or beside other imports. On PostgreSQL imports run side by
    /// side; two that store the same units in different orders can deadlock, and the one the
    /// server stops is best run again `Alone`: it waits for the imports under way, and new ones
    /// wait for it. (SQLite runs one writer at a time anyway.)
    pub fn import_with<E: From<MemoryError>>(
        &mut self,
        concurrency: Concurrency,
        fill: impl FnOnce(&mut Importer) -> Result<(), E>,
    ) -> Result<ImportReport, E> {
        let errf = self.errf();
        let path = self.path.clone();
        let wrap = |e| E::from(errf(e));
        let sqlite = self.db.dialect() == Dialect::Sqlite;
        if sqlite {
            // Bulk work: a bigger page cache keeps the index B-trees in memory.
            self.db
                .batch("PRAGMA cache_size = -262144")
                .map_err(&wrap)?;
        }
        let tx = self.db.begin(true).map_err(&wrap)?;
        match (sqlite, concurrency) {
            (true, _) => {}
            (false, Concurrency::Shared) => tx
                .batch(&format!(
                    "SELECT pg_advisory_xact_lock_shared({IMPORT_LOCK})"
                ))
                .map_err(&wrap)?,
            // The imports under way may take long: wait for them, not just the lock timeout.
            (false, Concurrency::Alone) => tx
                .batch(&format!(
                    "SET LOCAL lock_timeout = '1h'; SELECT pg_advisory_xact_lock({IMPORT_LOCK})"
                ))
                .map_err(&wrap)?,
        }
        if sqlite {
            // FTS5 flushes its in-memory token hash every 1 MB by default and merges the small
            // segments as it goes; a bulk import flushes rarely and merges once at the end.
            tx.batch(
                "INSERT INTO units_fts (units_fts, rank) VALUES ('hashsize', 67108864); \
                 INSERT INTO units_fts (units_fts, rank) VALUES ('automerge', 0)",
            )
            .map_err(&wrap)?;
        }
        let mut importer = Importer {
            tx,
            report: ImportReport::default(),
            path: path.clone(),
            df: HashMap::new(),
            pending: Vec::new(),
        };
        fill(&mut importer)?;
        importer.flush().map_err(E::from)?;
        let report = importer.report.clone();
        update_df(
            &importer.tx,
            importer.df.iter().map(|(t, n)| (t.as_str(), *n)),
        )
        .map_err(wrap)?;
        if sqlite {
            // One merged index segment after a big import: each token lookup then reads one
            // b-tree, not dozens. Small imports leave merging to FTS5's automerge, back on.
            let merge = if report.added >= 10_000 {
                "INSERT INTO units_fts (units_fts) VALUES ('optimize')"
            } else {
                "INSERT INTO units_fts (units_fts, rank) VALUES ('merge', 500)"
            };
            importer
                .tx
                .batch(merge)
                .and_then(|_| {
                    importer
                        .tx
                        .batch("INSERT INTO units_fts (units_fts, rank) VALUES ('automerge', 4)")
                })
                .map_err(wrap)?;
        }
        let vacuum = !sqlite && report.added >= 10_000;
        if vacuum {
            // The vacuum below can mark pages all-visible only once this commit is on disk.
            importer
                .tx
                .batch("SET LOCAL synchronous_commit = on")
                .map_err(&wrap)?;
        }
        importer.tx.commit().map_err(&wrap)?;
        if vacuum {
            // Fuzzy lookups read `unit_tokens` by index-only scans, which need the visibility
            // map a vacuum sets (measured: 2.5–3× faster lookups than with heap fetches);
            // autovacuum would come later. Failing here loses nothing.
            let _ = self.db.batch("VACUUM (ANALYZE) unit_tokens");
        }
        Ok(report)
    }

    pub fn get(&self, id: i64) -> Result<Option<Unit>, MemoryError> {
        self.db
            .query_opt(
                &format!("SELECT {COLUMNS} FROM units WHERE id = ?1"),
                &[&id],
                unit_from_row,
            )
            .map_err(|e| self.err(e))
    }

    /// The units stored just before and after this one from the same document.
    pub fn neighbours(&self, unit: &Unit) -> Result<(Option<Unit>, Option<Unit>), MemoryError> {
        let (Some(doc), Some(pos)) = (&unit.document, unit.position) else {
            return Ok((None, None));
        };
        let at = |p: i64| {
            self.db
                .query_opt(
                    &format!(
                        "SELECT {COLUMNS} FROM units WHERE document = ?1 AND position = ?2 \
                         AND source_lang = ?3 AND target_lang = ?4 ORDER BY id DESC LIMIT 1"
                    ),
                    &[doc, &p, &unit.source_lang, &unit.target_lang],
                    unit_from_row,
                )
                .map_err(|e| self.err(e))
        };
        Ok((at(pos - 1)?, at(pos + 1)?))
    }

    pub fn history(&self, id: i64) -> Result<Vec<HistoryEntry>, MemoryError> {
        self.db
            .query_all(
                "SELECT target, origin, status, changed_at FROM unit_history WHERE unit_id = ?1 ORDER BY id",
                &[&id],
                |r| {
                    let (o, s): (String, String) = (r.get(1)?, r.get(2)?);
                    Ok(HistoryEntry {
                        target: r.get(0)?,
                        origin: o.parse().unwrap_or(Origin::Import),
                        status: s.parse().unwrap_or(Status::Draft),
                        changed_at: r.get(3)?,
                    })
                },
            )
            .map_err(|e| self.err(e))
    }

    /// A person's correction: the target changes, origin becomes `human`, the old target is
    /// kept in the history.
    pub fn edit_target(&mut self, id: i64, target: &str) -> Result<Unit, MemoryError> {
        let old = self.get(id)?.ok_or(MemoryError::NoSuchUnits(vec![id]))?;
        let mut new = NewUnit::new(&old.source_lang, &old.target_lang, &old.source, target);
        new.prev_hash = old.prev_hash.clone();
        new.next_hash = old.next_hash.clone();
        let wrap = self.errf();
        let tx = self.db.begin(true).map_err(&wrap)?;
        let ident = new.ident();
        let other: Option<i64> = tx
            .query_opt(
                "SELECT id FROM units WHERE ident = ?1 AND id != ?2",
                &[&ident, &id],
                |r| r.get(0),
            )
            .map_err(&wrap)?;
        if let Some(other) = other {
            return Err(MemoryError::Duplicate { id, other });
        }
        let sql = format!(
            "UPDATE units SET target = ?1, ident = ?2, target_tags = NULL, origin = 'human', updated_at = {} WHERE id = ?3",
            tx.dialect().now()
        );
        let saved = save_history(&tx, &old)
            .and_then(|_| tx.execute(&sql, &[&target, &ident, &id]))
            .and_then(|_| tx.commit());
        match saved {
            Ok(()) => self.get(id)?.ok_or(MemoryError::NoSuchUnits(vec![id])),
            // Another PostgreSQL writer stored the same unit after the check above; the
            // transaction is gone, so the copy is looked up afresh.
            Err(e) if e.is_unique_violation() => {
                let other = self
                    .db
                    .query_opt(
                        "SELECT id FROM units WHERE ident = ?1 AND id != ?2",
                        &[&ident, &id],
                        |r| r.get(0),
                    )
                    .map_err(&wrap)?;
                Err(match other {
                    Some(other) => MemoryError::Duplicate { id, other },
                    None => wrap(e),
                })
            }
            Err(e) => Err(wrap(e)),
        }
    }

    /// Approve or reject units: all of them, or none when one id is unknown.
    pub fn set_status(&mut self, ids: &[i64], status: Status) -> Result<usize, MemoryError> {
        self.each_unit(ids, |tx, unit| {
            if unit.status == status {
                return Ok(());
            }
            save_history(tx, unit)?;
            let sql = format!(
                "UPDATE units SET status = ?1, updated_at = {} WHERE id = ?2",
                tx.dialect().now()
            );
            tx.execute(&sql, &[&status.as_str(), &unit.id]).map(|_| ())
        })
    }

    /// Delete units (and their history): all of them, or none when one id is unknown.
    pub fn delete(&mut self, ids: &[i64]) -> Result<usize, MemoryError> {
        self.each_unit(ids, |tx, unit| {
            update_df(
                tx,
                distinct_tokens(&unit.source_key)
                    .into_iter()
                    .map(|t| (t, -1)),
            )?;
            match tx.dialect() {
                Dialect::Sqlite => {
                    tx.execute("DELETE FROM units_fts WHERE rowid = ?1", &[&unit.id])?
                }
                Dialect::Postgres => tx.execute(
                    "DELETE FROM unit_tokens WHERE token = ANY(string_to_array(?1, ' ')) AND unit_id = ?2",
                    &[&distinct_tokens(&unit.source_key).join(" "), &unit.id],
                )?,
            };
            tx.execute("DELETE FROM units WHERE id = ?1", &[&unit.id])
                .map(|_| ())
        })
    }

    /// Count one more reuse of each unit.
    pub fn record_use(&mut self, ids: &[i64]) -> Result<(), MemoryError> {
        self.each_unit(ids, |tx, unit| {
            tx.execute(
                "UPDATE units SET use_count = use_count + 1 WHERE id = ?1",
                &[&unit.id],
            )
            .map(|_| ())
        })
        .map(|_| ())
    }

    fn each_unit(
        &mut self,
        ids: &[i64],
        mut f: impl FnMut(&Tx, &Unit) -> Result<(), DbError>,
    ) -> Result<usize, MemoryError> {
        let wrap = self.errf();
        let tx = self.db.begin(true).map_err(&wrap)?;
        let mut missing = Vec::new();
        // An id named twice is one unit, for every review command alike. In id order, so
        // two writers lock rows in one order.
        let mut seen = std::collections::BTreeSet::new();
        for &id in ids {
            seen.insert(id);
        }
        for &id in &seen {
            let unit = tx
                .query_opt(
                    &format!("SELECT {COLUMNS} FROM units WHERE id = ?1"),
                    &[&id],
                    unit_from_row,
                )
                .map_err(&wrap)?;
            match unit {
                Some(u) => f(&tx, &u).map_err(&wrap)?,
                None => missing.push(id),
            }
        }
        if !missing.is_empty() {
            return Err(MemoryError::NoSuchUnits(missing));
        }
        tx.commit().map_err(&wrap)?;
        Ok(seen.len())
    }

    /// Units matching a filter, in id order, handed to `each` one at a time (exports stream).
    pub fn list<E: From<MemoryError>>(
        &self,
        filter: &Filter,
        mut each: impl FnMut(Unit) -> Result<(), E>,
    ) -> Result<(), E> {
        self.select(filter, None, &mut each)
    }

    /// Units whose source or target contains `needle`, ignoring case (concordance search).
    pub fn concordance(&self, needle: &str, filter: &Filter) -> Result<Vec<Unit>, MemoryError> {
        super::searchable(needle)?;
        let mut out = Vec::new();
        self.select(
            filter,
            Some(needle),
            &mut |u: Unit| -> Result<(), MemoryError> {
                out.push(u);
                Ok(())
            },
        )?;
        Ok(out)
    }

    fn select<E: From<MemoryError>>(
        &self,
        filter: &Filter,
        needle: Option<&str>,
        each: &mut dyn FnMut(Unit) -> Result<(), E>,
    ) -> Result<(), E> {
        // The word index narrows a concordance search; where FTS5 refuses the words (its
        // tokenizer splits a word Rust's Unicode tables keep whole, making a phrase, which the
        // index cannot answer), the search tests every row instead: slower, same result.
        let refused = std::cell::Cell::new(false);
        let delivered = std::cell::Cell::new(false);
        let first = self.select_with(filter, needle, true, &refused, &delivered, each);
        match first {
            Err(_) if refused.get() && !delivered.get() => {
                self.select_with(filter, needle, false, &refused, &delivered, each)
            }
            other => other,
        }
    }

    fn select_with<E: From<MemoryError>>(
        &self,
        filter: &Filter,
        needle: Option<&str>,
        by_words: bool,
        refused: &std::cell::Cell<bool>,
        delivered: &std::cell::Cell<bool>,
        each: &mut dyn FnMut(Unit) -> Result<(), E>,
    ) -> Result<(), E> {
        let select = Select::select(self.db.dialect(), COLUMNS, "units")
            .lang("source_lang", filter.source_lang.as_deref())
            .lang("target_lang", filter.target_lang.as_deref())
            .equals("origin", filter.origin.map(|o| o.as_str()))
            .equals("status", filter.status.map(|s| s.as_str()))
            .at_least("updated_at", filter.since.clone())
            .equals_text("model", filter.model.as_deref())
            .equals_text("document", filter.document.as_deref())
            .after(filter.after)
            .word_candidates(needle.filter(|_| by_words))
            .containing(needle)
            .page(filter.limit, filter.offset);
        select.for_each(
            &self.db,
            |e| {
                refused.set(e.is_fts_refusal());
                E::from(self.err(e))
            },
            |row| {
                delivered.set(true);
                let unit = unit_from_row(row).map_err(|e| E::from(self.err(e)))?;
                debug_assert!(filter
                    .source_lang
                    .as_deref()
                    .map_or(true, |l| lang_matches(&unit.source_lang, l)));
                each(unit)
            },
        )?;
        Ok(())
    }
}

/// Fill the lookup columns of rows written before migration 0002, inside the migration's
/// transaction (a crash leaves the database at version 1, to be migrated again). A row that
/// turns out to repeat another (same pair, source, target and context) is merged into it, as
/// an import merges: its history and use count move over. (SQLite only: PostgreSQL memories
/// began with these columns.)
pub(super) fn reindex(tx: &Tx) -> Result<(), DbError> {
    let old: Vec<Unit> = tx.query_all(
        &format!("SELECT {COLUMNS} FROM units WHERE ident IS NULL"),
        &[],
        unit_from_row,
    )?;
    for u in old {
        let mut n = NewUnit::new(&u.source_lang, &u.target_lang, &u.source, &u.target);
        n.prev_hash = u.prev_hash;
        n.next_hash = u.next_hash;
        let s = Staged::new(n);
        let updated = tx.execute(
            "UPDATE OR IGNORE units SET ident = ?1, key_hash = ?2, ntok = ?3, source_key = ?4 WHERE id = ?5",
            &[&s.ident, &s.key_hash, &s.ntok, &s.key, &u.id],
        )?;
        if updated == 0 {
            let kept: i64 =
                tx.query_one("SELECT id FROM units WHERE ident = ?1", &[&s.ident], |r| {
                    r.get(0)
                })?;
            tx.execute(
                "UPDATE unit_history SET unit_id = ?1 WHERE unit_id = ?2",
                &[&kept, &u.id],
            )?;
            tx.execute(
                "UPDATE units SET use_count = use_count + ?1 WHERE id = ?2",
                &[&u.use_count, &kept],
            )?;
            tx.execute("DELETE FROM units WHERE id = ?1", &[&u.id])?;
            continue;
        }
        tx.execute(
            "INSERT INTO units_fts (rowid, tokens) VALUES (?1, ?2)",
            &[&u.id, &s.fts],
        )?;
        update_df(tx, s.distinct.iter().map(|t| (t.as_str(), 1)))?;
    }
    Ok(())
}

fn save_history(tx: &Db, unit: &Unit) -> Result<(), DbError> {
    tx.execute(
        "INSERT INTO unit_history (unit_id, target, origin, status) VALUES (?1, ?2, ?3, ?4)",
        &[
            &unit.id,
            &unit.target,
            &unit.origin.as_str(),
            &unit.status.as_str(),
        ],
    )
    .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open() -> (crate::memory::TestPlace, Memory) {
        let dir = crate::memory::test_place();
        let mem = Memory::open(&dir.path).unwrap();
        (dir, mem)
    }

    #[test]
    fn edit_keeps_history_and_makes_it_human() {
        let (_d, mut mem) = open();
        let mut u = NewUnit::new("ru", "en", "Завод открыт.", "Plant is open.");
        u.origin = Origin::Mt;
        let id = mem.add(&u).unwrap().unwrap();
        let edited = mem.edit_target(id, "The plant is open.").unwrap();
        assert_eq!(
            (edited.origin, edited.target.as_str()),
            (Origin::Human, "The plant is open.")
        );
        let h = mem.history(id).unwrap();
        assert_eq!(
            (h.len(), h[0].target.as_str(), h[0].origin),
            (1, "Plant is open.", Origin::Mt)
        );
        assert!(matches!(
            mem.edit_target(99, "x"),
            Err(MemoryError::NoSuchUnits(_))
        ));
    }

    #[test]
    fn review_is_all_or_nothing() {
        let (_d, mut mem) = open();
        let a = mem
            .add(&NewUnit::new("ru", "en", "а", "a"))
            .unwrap()
            .unwrap();
        let b = mem
            .add(&NewUnit::new("ru", "en", "б", "b"))
            .unwrap()
            .unwrap();
        let err = mem.set_status(&[a, 77], Status::Approved).unwrap_err();
        assert_eq!(err.to_string(), "no unit with id 77");
        assert_eq!(mem.get(a).unwrap().unwrap().status, Status::Draft);
        mem.set_status(&[a, b], Status::Approved).unwrap();
        assert_eq!(mem.get(b).unwrap().unwrap().status, Status::Approved);
        assert!(mem.delete(&[b, 78]).is_err());
        assert!(mem.get(b).unwrap().is_some());
        mem.delete(&[b]).unwrap();
        assert!(mem.get(b).unwrap().is_none());
        assert_eq!(mem.stats().unwrap().units, 1);
    }

    #[test]
    fn failed_import_leaves_nothing() {
        let (_d, mut mem) = open();
        let r: Result<_, MemoryError> = mem.import(|imp| {
            imp.add(&NewUnit::new("ru", "en", "а", "a"))?;
            Err(MemoryError::NoSuchUnits(vec![0]))
        });
        assert!(r.is_err());
        assert_eq!(mem.stats().unwrap().units, 0);
        let r = mem
            .import(|imp| {
                for _ in 0..2 {
                    imp.add(&NewUnit::new("ru", "en", "а", "a"))?;
                }
                Ok::<_, MemoryError>(())
            })
            .unwrap();
        assert_eq!((r.read, r.added, r.merged), (2, 1, 1));
    }

    #[test]
    fn list_filters_and_concordance_fold_case() {
        let (_d, mut mem) = open();
        mem.add(&NewUnit::new("ru", "en-GB", "Москва", "Moscow"))
            .unwrap();
        mem.add(&NewUnit::new("ru", "fr", "Москва", "Moscou"))
            .unwrap();
        let mut u = NewUnit::new("en", "ru", "Paris", "Париж");
        u.origin = Origin::Human;
        mem.add(&u).unwrap();
        let count = |f: &Filter| {
            let mut n = 0;
            mem.list(f, |_| Ok::<_, MemoryError>(n += 1)).unwrap();
            n
        };
        let f = |s: Option<&str>, t: Option<&str>| Filter {
            source_lang: s.map(Into::into),
            target_lang: t.map(Into::into),
            ..Filter::default()
        };
        assert_eq!(count(&f(Some("ru"), Some("en"))), 1);
        assert_eq!(count(&f(Some("ru"), None)), 2);
        assert_eq!(
            count(&Filter {
                origin: Some(Origin::Human),
                ..Filter::default()
            }),
            1
        );
        assert_eq!(
            count(&Filter {
                limit: Some(2),
                offset: 2,
                ..Filter::default()
            }),
            1
        );
        assert_eq!(
            mem.concordance("МОСК", &Filter::default()).unwrap().len(),
            2
        );
        assert_eq!(
            mem.concordance("париж", &Filter::default()).unwrap().len(),
            1
        );
        assert_eq!(
            mem.concordance("%'; DROP TABLE units; --", &Filter::default())
                .unwrap()
                .len(),
            0
        );
    }

    /// The word index narrows a concordance and follows every write: an edit, a deletion.
    #[test]
    fn concordance_finds_words_through_the_index_after_edits() {
        let dir = crate::memory::test_place();
        let mut mem = Memory::open(&dir.path).unwrap();
        let id = mem
            .add(&NewUnit::new(
                "ru",
                "en",
                "Парк «Великий камень» растёт.",
                "Big Stone grows.",
            ))
            .unwrap()
            .unwrap();
        let hits = |m: &Memory, q: &str| m.concordance(q, &Filter::default()).unwrap().len();
        assert_eq!(hits(&mem, "великий кам"), 1);
        assert_eq!(hits(&mem, "BIG"), 1);
        // From the start of a word only (the index is of words).
        assert_eq!(hits(&mem, "ликий"), 0);
        mem.edit_target(id, "The Great Stone park grows.").unwrap();
        assert_eq!((hits(&mem, "big"), hits(&mem, "great stone")), (0, 1));
        mem.delete(&[id]).unwrap();
        assert_eq!(hits(&mem, "great"), 0);
    }

    /// A word FTS5 splits where Rust does not (an Arabic vowel mark: a letter to Rust, a
    /// separator to unicode61 with diacritics removed) made a phrase the index refuses; the
    /// search then tests every row (found by the review server's fuzz target).
    #[test]
    fn concordance_of_words_the_index_refuses_tests_every_row() {
        let dir = crate::memory::test_place();
        let mut mem = Memory::open(&dir.path).unwrap();
        mem.add(&NewUnit::new("ar", "en", "كتب 0pُa هنا", "written here"))
            .unwrap();
        let hits = |q: &str| mem.concordance(q, &Filter::default()).unwrap().len();
        assert_eq!(hits("0pُa"), 1);
        assert_eq!(hits("0pُb"), 0);
    }
}
