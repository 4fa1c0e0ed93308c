//! SELECTs with optional conditions, added one filter field at a time: units and termbase
//! entries are listed by the same kinds of filter (language pair, origin, status, text).

use super::db::{Db, DbError, Dialect, Param, Row};

/// A `SELECT … WHERE true` growing ` AND …` conditions, with their numbered arguments.
pub(super) struct Select {
    dialect: Dialect,
    sql: String,
    args: Vec<Box<dyn Param>>,
}

impl Select {
    /// `SELECT columns FROM table WHERE true`.
    pub fn select(dialect: Dialect, columns: &str, table: &str) -> Select {
        Select {
            dialect,
            sql: format!("SELECT {columns} FROM {table} WHERE true"),
            args: Vec::new(),
        }
    }

    fn arg(&mut self, value: impl Param + 'static) -> usize {
        self.args.push(Box::new(value));
        self.args.len()
    }

    /// Rows whose `column` serves `lang`: the tag, its regions, or its language without a
    /// region (as `lang_matches` says).
    pub fn lang(mut self, column: &str, lang: Option<&str>) -> Select {
        if let Some(lang) = lang {
            let base = lang.split('-').next().unwrap_or(lang).to_string();
            let n = self.arg(lang.to_string());
            let b = self.arg(base);
            self.sql +=
                &format!(" AND ({column} = ?{n} OR {column} LIKE ?{n} || '-%' OR {column} = ?{b})");
        }
        self
    }

    /// Rows whose `column` is `value`, if one is given.
    pub fn equals(mut self, column: &str, value: Option<&'static str>) -> Select {
        if let Some(v) = value {
            let n = self.arg(v);
            self.sql += &format!(" AND {column} = ?{n}");
        }
        self
    }

    /// Rows whose `column` is `value`, if one is given (text the user typed).
    pub fn equals_text(mut self, column: &str, value: Option<&str>) -> Select {
        if let Some(v) = value {
            let n = self.arg(v.to_string());
            self.sql += &format!(" AND {column} = ?{n}");
        }
        self
    }

    /// Rows after `id` in id order, if one is given (keyset paging).
    pub fn after(mut self, id: Option<i64>) -> Select {
        if let Some(id) = id {
            let n = self.arg(id);
            self.sql += &format!(" AND id > ?{n}");
        }
        self
    }

    /// Rows whose `column` is at least `value`, if one is given.
    pub fn at_least(mut self, column: &str, value: Option<String>) -> Select {
        if let Some(v) = value {
            let n = self.arg(v);
            self.sql += &format!(" AND {column} >= ?{n}");
        }
        self
    }

    /// Rows whose source or target contains `needle`, ignoring case (a test of every row;
    /// see [`Select::word_candidates`] for units).
    pub fn containing(mut self, needle: Option<&str>) -> Select {
        if let Some(text) = needle {
            let n = self.arg(text.to_lowercase());
            self.sql += &match self.dialect {
                Dialect::Sqlite => {
                    format!(" AND (bd_contains(source, ?{n}) OR bd_contains(target, ?{n}))")
                }
                Dialect::Postgres => format!(
                    " AND (strpos(lower(source), ?{n}) > 0 OR strpos(lower(target), ?{n}) > 0)"
                ),
            };
        }
        self
    }

    /// Units whose words include those of `needle`, the last one as a prefix, by the word
    /// index (`units_words`): the candidates [`Select::containing`] then decides on, so a
    /// concordance of a million units is no table scan. It finds text starting at a word; a
    /// needle without letters or digits adds nothing (every row is tested).
    pub fn word_candidates(mut self, needle: Option<&str>) -> Select {
        let Some(words) = needle.and_then(words) else {
            return self;
        };
        match self.dialect {
            Dialect::Sqlite => {
                let m = self.arg(fts5_query(&words));
                self.sql += &format!(
                    " AND id IN (SELECT rowid FROM units_words WHERE units_words MATCH ?{m})"
                );
            }
            // The expression of the `units_words` index (PostgreSQL's migration 0001).
            Dialect::Postgres => {
                let m = self.arg(tsquery(&words));
                self.sql += &format!(
                    " AND to_tsvector('simple', lower(regexp_replace(source || ' ' || target,                      '[^[:alnum:]]+', ' ', 'g'))) @@ to_tsquery('simple', ?{m})"
                );
            }
        }
        self
    }

    /// In id order, at most `limit` rows after skipping `offset`.
    pub fn page(mut self, limit: Option<u64>, offset: u64) -> Select {
        self.sql += " ORDER BY id";
        match (limit, self.dialect) {
            (Some(l), _) => self.sql += &format!(" LIMIT {l}"),
            // SQLite has no OFFSET without a LIMIT.
            (None, Dialect::Sqlite) if offset > 0 => self.sql += " LIMIT -1",
            (None, _) => {}
        }
        if offset > 0 {
            self.sql += &format!(" OFFSET {offset}");
        }
        self
    }

    /// Runs the query, handing each row to `each`; `err` turns the database's errors into `E`.
    pub fn for_each<E>(
        &self,
        db: &Db,
        err: impl Fn(DbError) -> E,
        mut each: impl FnMut(&Row) -> Result<(), E>,
    ) -> Result<(), E> {
        let params: Vec<&dyn Param> = self.args.iter().map(|a| a.as_ref()).collect();
        db.for_each(&self.sql, &params, |row| each(row).map_err(Stopped::By))
            .map_err(|e| match e {
                Stopped::Db(e) => err(e),
                Stopped::By(e) => e,
            })
    }
}

/// Why a listing stopped: the database failed, or `each` said so (its error passes through).
enum Stopped<E> {
    Db(DbError),
    By(E),
}

impl<E> From<DbError> for Stopped<E> {
    fn from(e: DbError) -> Self {
        Stopped::Db(e)
    }
}

/// The lower-cased words of `needle` as Rust splits them; None when it has none.
fn words(needle: &str) -> Option<Vec<String>> {
    let words: Vec<String> = needle
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    (!words.is_empty()).then_some(words)
}

/// An FTS5 query: every word, the last one as a prefix ("Великого кам" → `"великого" AND
/// "кам"*`). Quoting keeps FTS5 syntax out.
fn fts5_query(words: &[String]) -> String {
    let quoted: Vec<String> = words.iter().map(|w| format!("\"{w}\"")).collect();
    format!("{}*", quoted.join(" AND "))
}

/// The same as a PostgreSQL tsquery (`великого & кам:*`); words are letters and digits only,
/// so no tsquery syntax gets in.
fn tsquery(words: &[String]) -> String {
    format!("{}:*", words.join(" & "))
}

#[cfg(test)]
fn word_query(needle: &str) -> Option<String> {
    words(needle).map(|w| fts5_query(&w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_queries_quote_every_word_and_prefix_the_last() {
        assert_eq!(
            word_query("Великого кам").as_deref(),
            Some("\"великого\" AND \"кам\"*")
        );
        assert_eq!(word_query("R&D").as_deref(), Some("\"r\" AND \"d\"*"));
        assert_eq!(
            word_query("\" OR NEAR(").as_deref(),
            Some("\"or\" AND \"near\"*")
        );
        assert_eq!(word_query("&&"), None);
    }
}
