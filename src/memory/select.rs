//! SELECTs with optional conditions, added one filter field at a time: units and termbase
//! entries are listed by the same kinds of filter (language pair, origin, status, text).

use rusqlite::types::ToSql;
use rusqlite::{Connection, Row};

/// A `SELECT … WHERE 1` growing ` AND …` conditions, with their numbered arguments.
pub(super) struct Select {
    sql: String,
    args: Vec<Box<dyn ToSql>>,
}

impl Select {
    /// `SELECT columns FROM table WHERE 1`.
    pub fn select(columns: &str, table: &str) -> Select {
        Select {
            sql: format!("SELECT {columns} FROM {table} WHERE 1"),
            args: Vec::new(),
        }
    }

    fn arg(&mut self, value: impl ToSql + 'static) -> usize {
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
            self.sql += &format!(" AND (bd_contains(source, ?{n}) OR bd_contains(target, ?{n}))");
        }
        self
    }

    /// Units whose words include those of `needle`, the last one as a prefix, by the word
    /// index (`units_words`): the candidates [`Select::containing`] then decides on, so a
    /// concordance of a million units is no table scan. It finds text starting at a word; a
    /// needle without letters or digits adds nothing (every row is tested).
    pub fn word_candidates(mut self, needle: Option<&str>) -> Select {
        if let Some(query) = needle.and_then(word_query) {
            let m = self.arg(query);
            self.sql +=
                &format!(" AND id IN (SELECT rowid FROM units_words WHERE units_words MATCH ?{m})");
        }
        self
    }

    /// In id order, at most `limit` rows after skipping `offset`.
    pub fn page(mut self, limit: Option<u64>, offset: u64) -> Select {
        let limit = limit.map_or(-1, |l| l as i64);
        self.sql += &format!(" ORDER BY id LIMIT {limit} OFFSET {offset}");
        self
    }

    /// Runs the query, handing each row to `each`; `err` turns SQLite's errors into `E`.
    pub fn for_each<E>(
        &self,
        conn: &Connection,
        err: impl Fn(rusqlite::Error) -> E,
        mut each: impl FnMut(&Row) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut st = conn.prepare(&self.sql).map_err(&err)?;
        let params: Vec<&dyn ToSql> = self.args.iter().map(|a| a.as_ref()).collect();
        let mut rows = st.query(params.as_slice()).map_err(&err)?;
        while let Some(row) = rows.next().map_err(&err)? {
            each(row)?;
        }
        Ok(())
    }
}

/// An FTS5 query for the words of `needle`: every word, the last one as a prefix ("Великого
/// кам" → `"великого" AND "кам"*`); None when it has none. Quoting keeps FTS5 syntax out.
fn word_query(needle: &str) -> Option<String> {
    let words: Vec<String> = needle
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| format!("\"{}\"", w.to_lowercase()))
        .collect();
    let (last, rest) = words.split_last()?;
    let mut terms: Vec<String> = rest.to_vec();
    terms.push(format!("{last}*"));
    Some(terms.join(" AND "))
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
