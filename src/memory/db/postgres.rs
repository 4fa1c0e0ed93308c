//! A memory on a PostgreSQL server: connecting as libpq users expect (URLs and `key=value`
//! strings, `PGPASSWORD`, `~/.pgpass`, `sslmode`), prepared statements kept per connection.

use super::{dollar_params, DbError, Param};
use postgres::fallible_iterator::FallibleIterator;
use postgres::{Client, Config, Statement};
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

/// Whether `--memory` names a PostgreSQL database rather than a file. Schemes are
/// case-insensitive (RFC 3986): `Postgres://…` is a URL too, never a file named after it.
pub(in crate::memory) fn is_url(s: &str) -> bool {
    scheme_end(s).is_some()
}

/// Where the `postgres://` or `postgresql://` scheme of `s` ends, in any case.
fn scheme_end(s: &str) -> Option<usize> {
    ["postgres://", "postgresql://"].iter().find_map(|p| {
        s.get(..p.len())
            .filter(|head| head.eq_ignore_ascii_case(p))
            .map(|_| p.len())
    })
}

/// The statements a connection has prepared; a long-running `serve` builds many listing
/// queries, so the cache is emptied when it grows past this.
const STATEMENT_CACHE: usize = 256;

pub(in crate::memory) struct PgConn {
    client: Client,
    statements: HashMap<String, Statement>,
    in_tx: bool,
}

impl PgConn {
    /// Connects to `url`. The second value is the URL without its password, to name the
    /// memory in messages.
    pub fn connect(url: &str, timeout: Duration) -> Result<(PgConn, String), DbError> {
        // The driver knows the scheme in lower case only.
        let url = match scheme_end(url) {
            Some(end) => format!("{}{}", url[..end].to_ascii_lowercase(), &url[end..]),
            None => url.to_string(),
        };
        let mut config: Config = url
            .parse()
            .map_err(|e: postgres::Error| DbError::Connect(format!("not a PostgreSQL URL: {e}")))?;
        let shown = describe(&config);
        if config.get_password().is_none() {
            if let Some(pw) = password_for(&config) {
                config.password(pw);
            }
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(timeout);
        }
        config.application_name("babeldesk");
        let client = config.connect(tls()?).map_err(DbError::from)?;
        Ok((
            PgConn {
                client,
                statements: HashMap::new(),
                in_tx: false,
            },
            shown,
        ))
    }

    fn statement(&mut self, sql: &str) -> Result<Statement, DbError> {
        if let Some(st) = self.statements.get(sql) {
            return Ok(st.clone());
        }
        if self.statements.len() >= STATEMENT_CACHE {
            self.statements.clear();
        }
        let st = self.client.prepare(&dollar_params(sql))?;
        self.statements.insert(sql.to_string(), st.clone());
        Ok(st)
    }

    pub fn execute(&mut self, sql: &str, params: &[&dyn Param]) -> Result<u64, DbError> {
        let st = self.statement(sql)?;
        let p: Vec<_> = params.iter().map(|p| p.pg()).collect();
        Ok(self.client.execute(&st, &p)?)
    }

    pub fn query(
        &mut self,
        sql: &str,
        params: &[&dyn Param],
    ) -> Result<Vec<postgres::Row>, DbError> {
        let st = self.statement(sql)?;
        let p: Vec<_> = params.iter().map(|p| p.pg()).collect();
        Ok(self.client.query(&st, &p)?)
    }

    pub fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        Ok(self.client.batch_execute(sql)?)
    }

    pub fn begin(&mut self) -> Result<(), DbError> {
        self.client.batch_execute("BEGIN")?;
        self.in_tx = true;
        Ok(())
    }

    /// COMMIT or ROLLBACK.
    pub fn end(&mut self, how: &str) -> Result<(), DbError> {
        self.in_tx = false;
        Ok(self.client.batch_execute(how)?)
    }
}

/// Streams the rows of a query to `each` as they arrive from the server.
pub(super) fn for_each<E: From<DbError>>(
    conn: &RefCell<PgConn>,
    sql: &str,
    params: &[&dyn Param],
    mut each: impl FnMut(&postgres::Row) -> Result<(), E>,
) -> Result<(), E> {
    let mut c = conn.try_borrow_mut().map_err(|_| {
        DbError::Connect("the memory's connection is busy with another query".into())
    })?;
    let st = c.statement(sql)?;
    let p: Vec<_> = params.iter().map(|p| p.pg()).collect();
    let mut rows = c.client.query_raw(&st, p).map_err(DbError::from)?;
    while let Some(row) = rows.next().map_err(DbError::from)? {
        each(&row)?;
    }
    Ok(())
}

/// `postgres://user@host:port/db`: what the URL points at, never its password.
fn describe(config: &Config) -> String {
    use postgres::config::Host;
    let user = config
        .get_user()
        .map(|u| format!("{u}@"))
        .unwrap_or_default();
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        Some(Host::Unix(p)) => p.display().to_string().replace('/', "%2F"),
        None => "localhost".into(),
    };
    let port = config
        .get_ports()
        .first()
        .map(|p| format!(":{p}"))
        .unwrap_or_default();
    let db = config.get_dbname().unwrap_or_default();
    format!("postgres://{user}{host}{port}/{db}")
}

/// The password libpq would use when the URL has none: `PGPASSWORD`, else the first matching
/// line of `PGPASSFILE` or `~/.pgpass` (`host:port:database:user:password`, `*` matching
/// anything, `\:` a colon).
fn password_for(config: &Config) -> Option<String> {
    if let Ok(pw) = std::env::var("PGPASSWORD") {
        return Some(pw);
    }
    let file = std::env::var_os("PGPASSFILE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".pgpass")))?;
    let text = std::fs::read_to_string(file).ok()?;
    use postgres::config::Host;
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        // libpq matches a socket connection as `localhost`.
        Some(Host::Unix(_)) | None => "localhost".into(),
    };
    let port = config
        .get_ports()
        .first()
        .copied()
        .unwrap_or(5432)
        .to_string();
    let user = config.get_user().unwrap_or_default().to_string();
    let db = config
        .get_dbname()
        .map(str::to_string)
        .unwrap_or_else(|| user.clone());
    pgpass_lookup(&text, [&host, &port, &db, &user])
}

fn pgpass_lookup(text: &str, want: [&str; 4]) -> Option<String> {
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let fields = split_pgpass(line);
        if fields.len() != 5 {
            continue;
        }
        if fields[..4]
            .iter()
            .zip(want)
            .all(|(f, w)| f == "*" || f == w)
        {
            return Some(fields[4].clone());
        }
    }
    None
}

fn split_pgpass(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => fields.last_mut().unwrap().extend(chars.next()),
            ':' => fields.push(String::new()),
            c => fields.last_mut().unwrap().push(c),
        }
    }
    fields
}

/// TLS as `sslmode` asks (`prefer` by default), checked against the system's roots.
fn tls() -> Result<tokio_postgres_rustls::MakeRustlsConnect, DbError> {
    let config = crate::tls::client_config().map_err(|e| DbError::Connect(format!("TLS: {e}")))?;
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pgpass_lines_match_with_wildcards_and_escapes() {
        let text = "# team\ndb.example:5432:tm:alice:s3cr\\:et\n*:*:*:bob:pw2\n";
        assert_eq!(
            pgpass_lookup(text, ["db.example", "5432", "tm", "alice"]).as_deref(),
            Some("s3cr:et")
        );
        assert_eq!(
            pgpass_lookup(text, ["other", "5433", "x", "bob"]).as_deref(),
            Some("pw2")
        );
        assert_eq!(
            pgpass_lookup(text, ["db.example", "5432", "tm", "carol"]),
            None
        );
    }

    #[test]
    fn the_shown_url_has_no_password() {
        let c: Config = "postgres://alice:hunter2@db.example:5433/tm"
            .parse()
            .unwrap();
        assert_eq!(describe(&c), "postgres://alice@db.example:5433/tm");
        let c: Config = "postgresql://bd@%2Ftmp%2Fpg:55432/tm".parse().unwrap();
        assert_eq!(describe(&c), "postgres://bd@%2Ftmp%2Fpg:55432/tm");
    }
}
