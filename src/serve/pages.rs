//! The routes and what each does: read or change the memory on a blocking thread, render a
//! view, or redirect back after a change (POST, then GET).

use super::diff::{self, Piece};
use super::views::{self, FilterForm};
use super::{guard, listen, State};
use crate::memory::{
    Band, DocumentRow, Filter, Memory, MemoryError, Origin, Query as Lookup, Status, Unit,
};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Form, Multipart, Path, Query};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;

type Shared = axum::extract::State<Arc<State>>;

/// Rows a memory browser page shows.
const PAGE: u64 = 50;

pub fn router(state: Arc<State>, max_upload: usize) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/doc", get(document))
        .route("/doc/status", post(document_status))
        .route("/doc/text", get(document_text))
        .route("/doc/tmx", get(document_tmx))
        .route("/unit/{id}", get(unit))
        .route("/unit/{id}/edit", post(edit))
        .route("/unit/{id}/status", post(unit_status))
        .route("/units", get(units))
        .route("/units/bulk", post(bulk))
        .route("/units.tmx", get(units_tmx))
        .route("/stats", get(stats))
        .route("/import", get(import_form).post(import))
        .route("/static/style.css", get(style))
        .route("/static/review.js", get(script))
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::check,
        ))
        .layer(DefaultBodyLimit::max(max_upload))
        .with_state(state)
}

/// A page that could not be made: its status and one line saying why.
pub struct PageError(StatusCode, String);

impl PageError {
    fn bad(message: impl Into<String>) -> PageError {
        PageError(StatusCode::BAD_REQUEST, message.into())
    }
}

impl From<MemoryError> for PageError {
    fn from(e: MemoryError) -> PageError {
        // What the request asked for is wrong (too long, no such unit), or the store failed.
        let status = match e {
            MemoryError::QueryTooLong { .. } => StatusCode::BAD_REQUEST,
            MemoryError::NoSuchUnits(_) => StatusCode::NOT_FOUND,
            // Another writer held the memory past the lock timeout: busy, try again.
            MemoryError::Locked { .. } => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        PageError(status, crate::error::chain(&e))
    }
}

impl From<crate::Error> for PageError {
    fn from(e: crate::Error) -> PageError {
        PageError(StatusCode::INTERNAL_SERVER_ERROR, crate::error::chain(&e))
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let title = self.0.canonical_reason().unwrap_or("Error").to_string();
        let page = views::Error {
            title,
            message: self.1,
        };
        (self.0, render(&page)).into_response()
    }
}

type Page = Result<Response, PageError>;

fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// Runs `work` with the memory on a blocking thread (SQLite blocks), one at a time.
async fn with_memory<T: Send + 'static>(
    state: &Arc<State>,
    work: impl FnOnce(&mut Memory) -> Result<T, PageError> + Send + 'static,
) -> Result<T, PageError> {
    let state = state.clone();
    tokio::task::spawn_blocking(move || {
        let mut memory = state.memory.lock().unwrap_or_else(|p| p.into_inner());
        work(&mut memory)
    })
    .await
    .map_err(|e| PageError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
}

fn check_csrf(state: &State, token: &str) -> Result<(), PageError> {
    match guard::csrf_ok(state, token) {
        true => Ok(()),
        false => Err(PageError(
            StatusCode::FORBIDDEN,
            "the form is out of date (CSRF token): reload the page and try again".into(),
        )),
    }
}

/// Where to go after a change: a path on this server only (no open redirect).
fn back_to(back: &str, fallback: &str) -> Redirect {
    Redirect::to(if local_path(back) { back } else { fallback })
}

/// Whether `to` is a path on this server as a browser reads it. Browsers drop tabs and line
/// breaks from a URL (`/\t/evil.example` is `//evil.example`, another host) and read `\` as
/// `/`; a line break would also end the Location header (and panicked the redirect).
pub(super) fn local_path(to: &str) -> bool {
    to.starts_with('/')
        && !to
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
        && !to.starts_with("//")
}

/// Percent-encoding of a query value.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn doc_href(name: &str) -> String {
    format!("/doc?name={}", encode(name))
}

async fn index(state: Shared) -> Page {
    let docs = with_memory(&state.0, |m| Ok(m.documents()?)).await?;
    let docs = docs
        .into_iter()
        .map(|info| views::DocLink {
            href: doc_href(&info.document),
            info,
        })
        .collect();
    Ok(render(&views::Index {
        title: "Documents".into(),
        docs,
    }))
}

#[derive(serde::Deserialize)]
struct DocName {
    name: String,
}

/// A document's rows, or a 404 naming it.
fn rows_of(m: &Memory, name: &str) -> Result<Vec<DocumentRow>, PageError> {
    let rows = m.document_rows(name)?;
    match rows.is_empty() {
        true => Err(PageError(
            StatusCode::NOT_FOUND,
            format!("no document named {name}"),
        )),
        false => Ok(rows),
    }
}

async fn document(state: Shared, Query(q): Query<DocName>) -> Page {
    let name = q.name.clone();
    let (rows, checked) = with_memory(&state.0, move |m| {
        let rows = rows_of(m, &name)?;
        let units: Vec<Unit> = rows.iter().filter_map(|r| r.unit.clone()).collect();
        let checked = crate::pipeline::terms::check_document(m, &units)?;
        Ok((rows, checked))
    })
    .await?;
    let mut checked = checked.into_iter();
    let rows: Vec<views::SegmentRow> = rows
        .into_iter()
        .map(|r| {
            let (found, flags) = match r.unit {
                Some(_) => checked.next().unwrap_or_default(),
                None => Default::default(),
            };
            document_row(r, &found, &flags)
        })
        .collect();
    let count = |s: &str| rows.iter().filter(|r| r.status == s).count();
    Ok(render(&views::Document {
        title: q.name.clone(),
        csrf: state.0.csrf.clone(),
        name_q: encode(&q.name),
        back: doc_href(&q.name),
        approved: count("approved"),
        rejected: count("rejected"),
        flagged: rows.iter().filter(|r| !r.flags.is_empty()).count(),
        name: q.name,
        rows,
    }))
}

/// How a segment was made, as its row shows it: (CSS class, label).
fn band_of(r: &DocumentRow) -> (&'static str, String) {
    match (r.band, r.score) {
        (Some(Band::Context), _) => ("memory", "memory 101".into()),
        (Some(Band::Exact), _) => ("memory", "memory 100".into()),
        (Some(Band::Fuzzy), s) => ("fuzzy", format!("fuzzy {}", s.unwrap_or(0))),
        (Some(Band::Model), _) => ("model", "model".into()),
        (Some(Band::Failed), _) => ("failed", "failed".into()),
        (None, _) => ("stored", String::new()),
    }
}

fn document_row(
    r: DocumentRow,
    found: &crate::pipeline::terms::Found,
    flags: &[crate::qa::QaFlag],
) -> views::SegmentRow {
    let (band, band_label) = band_of(&r);
    let position = (r.position + 1).to_string();
    match r.unit {
        Some(u) => views::SegmentRow {
            band,
            band_label,
            position,
            ..segment_row(u, found, flags)
        },
        // A failed segment: no unit, the model's problem instead of a target.
        None => views::SegmentRow {
            id: 0,
            position,
            band,
            band_label,
            origin: "",
            status: "",
            model: None,
            flags: r.problem.into_iter().collect(),
            terms: Vec::new(),
            target: String::new(),
            source: r.source,
            source_lang: String::new(),
            target_lang: String::new(),
        },
    }
}

fn segment_row(
    u: Unit,
    found: &crate::pipeline::terms::Found,
    flags: &[crate::qa::QaFlag],
) -> views::SegmentRow {
    let mut terms: Vec<String> = found
        .terms
        .iter()
        .map(|t| format!("{} → {} ({})", t.found, t.target, t.status.as_str()))
        .collect();
    terms.extend(
        found
            .names
            .iter()
            .map(|n| format!("{} → {} (name)", n.found, n.pinyin)),
    );
    views::SegmentRow {
        id: u.id,
        position: u.position.map_or("–".into(), |p| (p + 1).to_string()),
        band: "stored",
        band_label: String::new(),
        origin: u.origin.as_str(),
        status: u.status.as_str(),
        flags: flags
            .iter()
            .map(|f| format!("{}: {}", f.kind.label(), f.detail))
            .collect(),
        terms,
        source: u.source,
        target: u.target,
        source_lang: u.source_lang,
        target_lang: u.target_lang,
        model: u.model,
    }
}

#[derive(serde::Deserialize)]
struct DocStatus {
    csrf: String,
    name: String,
    status: String,
}

fn parse_status(s: &str) -> Result<Status, PageError> {
    s.parse::<Status>().map_err(PageError::bad)
}

async fn document_status(state: Shared, Form(f): Form<DocStatus>) -> Page {
    check_csrf(&state.0, &f.csrf)?;
    let status = parse_status(&f.status)?;
    let name = f.name.clone();
    with_memory(&state.0, move |m| {
        let rows = rows_of(m, &name)?;
        let ids: Vec<i64> = rows
            .iter()
            .filter_map(|r| r.unit.as_ref().map(|u| u.id))
            .collect();
        Ok(m.set_status(&ids, status)?)
    })
    .await?;
    Ok(Redirect::to(&doc_href(&f.name)).into_response())
}

fn attachment(body: Vec<u8>, content_type: &'static str, filename: &str) -> Response {
    let safe: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition = format!("attachment; filename=\"{safe}\"");
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response()
}

fn stem(name: &str) -> &str {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    base.rsplit_once('.').map_or(base, |(s, _)| s)
}

/// The corrected translation: the document's targets in order, one segment a line; a
/// rejected or failed segment gives its source (as `translate` leaves a failed one), so no
/// line goes missing.
async fn document_text(state: Shared, Query(q): Query<DocName>) -> Page {
    let name = q.name.clone();
    let rows = with_memory(&state.0, move |m| rows_of(m, &name)).await?;
    let mut text = String::new();
    let mut lang = None;
    for r in &rows {
        match &r.unit {
            Some(u) if u.status != Status::Rejected => {
                lang.get_or_insert(u.target_lang.clone());
                text.push_str(&u.target);
            }
            _ => text.push_str(&r.source),
        }
        text.push('\n');
    }
    let file = format!(
        "{}.{}.txt",
        stem(&q.name),
        lang.unwrap_or_else(|| "translated".into())
    );
    Ok(attachment(
        text.into_bytes(),
        "text/plain; charset=utf-8",
        &file,
    ))
}

async fn export_tmx(state: &Arc<State>, filter: Filter) -> Result<Vec<u8>, PageError> {
    with_memory(state, move |m| {
        let mut out = Vec::new();
        let path = std::path::Path::new("export.tmx");
        let format = crate::exchange::for_path(path).map_err(crate::Error::from)?;
        crate::exchange::export(m, &filter, format, Box::new(&mut out), path)?;
        Ok(out)
    })
    .await
}

/// The units the document used, in its order (each once), as TMX.
async fn document_tmx(state: Shared, Query(q): Query<DocName>) -> Page {
    let name = q.name.clone();
    let body = with_memory(&state.0, move |m| {
        let rows = rows_of(m, &name)?;
        let mut seen = std::collections::HashSet::new();
        let units = rows
            .into_iter()
            .filter_map(|r| r.unit)
            .filter(|u| seen.insert(u.id));
        let mut out = Vec::new();
        let path = std::path::Path::new("document.tmx");
        let format = crate::exchange::for_path(path).map_err(crate::Error::from)?;
        let mut writer = format
            .writer(Box::new(&mut out), path)
            .map_err(crate::Error::from)?;
        for u in units {
            writer.unit(&u.into()).map_err(crate::Error::from)?;
        }
        writer.finish().map_err(crate::Error::from)?;
        Ok(out)
    })
    .await?;
    Ok(attachment(
        body,
        "application/x-tmx+xml",
        &format!("{}.tmx", stem(&q.name)),
    ))
}

#[derive(serde::Deserialize)]
struct Edit {
    csrf: String,
    target: String,
    #[serde(default)]
    back: String,
}

async fn edit(state: Shared, Path(id): Path<i64>, Form(f): Form<Edit>) -> Page {
    check_csrf(&state.0, &f.csrf)?;
    if f.target.trim().is_empty() {
        return Err(PageError::bad(
            "an empty translation was not saved: type the target text",
        ));
    }
    let target = f.target.replace("\r\n", "\n");
    with_memory(&state.0, move |m| Ok(m.edit_target(id, &target)?)).await?;
    Ok(back_to(&f.back, &format!("/unit/{id}")).into_response())
}

#[derive(serde::Deserialize)]
struct SetStatus {
    csrf: String,
    status: String,
    #[serde(default)]
    back: String,
}

async fn unit_status(state: Shared, Path(id): Path<i64>, Form(f): Form<SetStatus>) -> Page {
    check_csrf(&state.0, &f.csrf)?;
    let status = parse_status(&f.status)?;
    let changed = with_memory(&state.0, move |m| Ok(m.set_status(&[id], status)?)).await?;
    if changed == 0 {
        return Err(PageError(StatusCode::NOT_FOUND, format!("no unit {id}")));
    }
    Ok(back_to(&f.back, &format!("/unit/{id}")).into_response())
}

async fn unit(state: Shared, Path(id): Path<i64>) -> Page {
    let found = with_memory(&state.0, move |m| {
        let Some(u) = m.get(id)? else { return Ok(None) };
        let (prev, next) = m.neighbours(&u)?;
        let history = m.history(id)?;
        let checked = crate::pipeline::terms::check_document(m, std::slice::from_ref(&u))?;
        Ok(Some((u, prev, next, history, checked)))
    })
    .await?;
    let Some((u, prev, next, history, checked)) = found else {
        return Err(PageError(StatusCode::NOT_FOUND, format!("no unit {id}")));
    };
    let (found, flags) = checked.into_iter().next().unwrap_or_default();
    let row = segment_row(u.clone(), &found, &flags);
    let neighbour = |n: Option<Unit>| n.map(|n| (n.id, n.source, n.target));
    Ok(render(&views::UnitPage {
        title: format!("Unit {id}"),
        csrf: state.0.csrf.clone(),
        model: u.model.clone().unwrap_or_else(|| "—".into()),
        document: u.document.clone().unwrap_or_default(),
        position: u
            .position
            .map_or(String::new(), |p| format!("(segment {})", p + 1)),
        doc_href: u.document.as_deref().map(doc_href),
        prev: neighbour(prev),
        next: neighbour(next),
        history: history_rows(&history, &u.target),
        flags: row.flags,
        terms: row.terms,
        u,
    }))
}

/// Each earlier target against the one that replaced it, newest change first.
fn history_rows(history: &[crate::memory::HistoryEntry], current: &str) -> Vec<views::HistoryRow> {
    let mut rows = Vec::new();
    for (i, h) in history.iter().enumerate() {
        let after = history.get(i + 1).map_or(current, |n| n.target.as_str());
        let pieces = diff::words(&h.target, after)
            .into_iter()
            .map(|p| match p {
                Piece::Same(t) => ("same", t),
                Piece::Removed(t) => ("removed", t),
                Piece::Added(t) => ("added", t),
            })
            .collect();
        rows.push(views::HistoryRow {
            when: h.changed_at.clone(),
            what: format!("was {} · {}", h.origin, h.status),
            pieces,
        });
    }
    rows.reverse();
    rows
}

fn options<T: Copy>(all: &[T], name: impl Fn(T) -> &'static str) -> Vec<&'static str> {
    std::iter::once("")
        .chain(all.iter().map(|&v| name(v)))
        .collect()
}

/// The browser's filter as a memory filter, or what is wrong with a field.
fn to_filter(f: &FilterForm) -> Result<Filter, PageError> {
    let text = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let lang = |flag: &str, s: &str| -> Result<Option<String>, PageError> {
        text(s)
            .map(|t| {
                crate::text::langtag::normalize(&t)
                    .map_err(|e| PageError::bad(format!("{flag}: {e}")))
            })
            .transpose()
    };
    let parse_opt = |s: &str| -> Result<Option<i64>, PageError> {
        text(s)
            .map(|t| {
                t.parse()
                    .map_err(|_| PageError::bad(format!("'{t}' is not a unit id")))
            })
            .transpose()
    };
    Ok(Filter {
        source_lang: lang("From", &f.from)?,
        target_lang: lang("To", &f.to)?,
        origin: text(&f.origin)
            .map(|o| o.parse::<Origin>())
            .transpose()
            .map_err(PageError::bad)?,
        status: text(&f.status)
            .map(|s| s.parse::<Status>())
            .transpose()
            .map_err(PageError::bad)?,
        since: text(&f.since)
            .map(|d| crate::memory::day(&d))
            .transpose()
            .map_err(PageError::bad)?,
        model: text(&f.model),
        document: text(&f.document),
        after: parse_opt(&f.after)?,
        limit: Some(PAGE),
        offset: 0,
    })
}

/// The filter as a query string, paging left out.
fn filter_query(f: &FilterForm) -> String {
    let pairs = [
        ("from", &f.from),
        ("to", &f.to),
        ("origin", &f.origin),
        ("status", &f.status),
        ("model", &f.model),
        ("document", &f.document),
        ("since", &f.since),
        ("q", &f.q),
        ("fuzzy", &f.fuzzy),
    ];
    let set: Vec<String> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect();
    set.join("&")
}

async fn units(state: Shared, Query(f): Query<FilterForm>) -> Page {
    let filter = to_filter(&f)?;
    let (rows, message) = browse(&state.0, &f, filter).await?;
    let query = filter_query(&f);
    let last = rows.last().map(|r| r.id);
    let next = match (rows.len() as u64 == PAGE && f.fuzzy.trim().is_empty(), last) {
        (true, Some(id)) => Some(format!(
            "/units?{query}{}after={id}",
            if query.is_empty() { "" } else { "&" }
        )),
        _ => None,
    };
    let back = match f.after.trim() {
        "" => format!("/units?{query}"),
        a => format!("/units?{query}&after={}", encode(a)),
    };
    Ok(render(&views::Units {
        title: "Memory".into(),
        csrf: state.0.csrf.clone(),
        origins: options(Origin::ALL, Origin::as_str),
        statuses: options(Status::ALL, Status::as_str),
        fuzzy: !f.fuzzy.trim().is_empty(),
        query,
        back,
        rows,
        next,
        message,
        f,
    }))
}

/// One page of units: fuzzy matches with scores, a concordance, or a plain listing.
async fn browse(
    state: &Arc<State>,
    f: &FilterForm,
    filter: Filter,
) -> Result<(Vec<views::UnitRow>, Option<String>), PageError> {
    let (q, fuzzy) = (f.q.trim().to_string(), f.fuzzy.trim().to_string());
    if !fuzzy.is_empty() && (filter.source_lang.is_none() || filter.target_lang.is_none()) {
        return Ok((
            Vec::new(),
            Some("a fuzzy search needs From and To (the language pair)".into()),
        ));
    }
    crate::memory::searchable(&fuzzy)?;
    let found: Vec<(u8, Unit)> = with_memory(state, move |m| {
        if !fuzzy.is_empty() {
            let (from, to) = (
                filter.source_lang.clone().unwrap_or_default(),
                filter.target_lang.clone().unwrap_or_default(),
            );
            let mut query = Lookup::new(&fuzzy, &from, &to);
            query.limit = PAGE as usize;
            query.include_rejected = true;
            return Ok(m
                .lookup(&query)?
                .into_iter()
                .map(|hit| (hit.score, hit.unit))
                .collect());
        }
        let mut out = Vec::new();
        match q.is_empty() {
            true => m.list(&filter, |u| Ok::<_, MemoryError>(out.push((0, u))))?,
            false => {
                out = m
                    .concordance(&q, &filter)?
                    .into_iter()
                    .map(|u| (0, u))
                    .collect()
            }
        }
        Ok(out)
    })
    .await?;
    let rows = found
        .into_iter()
        .map(|(score, u)| unit_row(score, u))
        .collect();
    Ok((rows, None))
}

fn unit_row(score: u8, u: Unit) -> views::UnitRow {
    views::UnitRow {
        id: u.id,
        score,
        pair: format!("{} → {}", u.source_lang, u.target_lang),
        origin: u.origin.as_str(),
        status: u.status.as_str(),
        document: u.document.unwrap_or_default(),
        updated_at: u.updated_at,
        source: u.source,
        target: u.target,
    }
}

async fn bulk(state: Shared, Form(fields): Form<Vec<(String, String)>>) -> Page {
    let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    check_csrf(&state.0, get("csrf").unwrap_or(""))?;
    let ids: Vec<i64> = fields
        .iter()
        .filter(|(k, _)| k == "id")
        .map(|(_, v)| {
            v.parse()
                .map_err(|_| PageError::bad(format!("'{v}' is not a unit id")))
        })
        .collect::<Result<_, _>>()?;
    if ids.is_empty() {
        return Err(PageError::bad(
            "no units selected: tick the boxes of the units first",
        ));
    }
    let action = get("action").unwrap_or("").to_string();
    with_memory(&state.0, move |m| match action.as_str() {
        "approve" => Ok(m.set_status(&ids, Status::Approved)?),
        "reject" => Ok(m.set_status(&ids, Status::Rejected)?),
        "delete" => Ok(m.delete(&ids)?),
        other => Err(PageError::bad(format!(
            "'{other}' is not an action (approve, reject, delete)"
        ))),
    })
    .await?;
    Ok(back_to(get("back").unwrap_or(""), "/units").into_response())
}

async fn units_tmx(state: Shared, Query(f): Query<FilterForm>) -> Page {
    let filter = Filter {
        limit: None,
        after: None,
        ..to_filter(&f)?
    };
    let body = export_tmx(&state.0, filter).await?;
    Ok(attachment(body, "application/x-tmx+xml", "memory.tmx"))
}

async fn stats(state: Shared) -> Page {
    let (stats, documents) =
        with_memory(&state.0, |m| Ok((m.stats()?, m.documents()?.len()))).await?;
    let bars = |rows: &[(String, i64)]| -> Vec<views::Bar> {
        let top = rows.iter().map(|r| r.1).max().unwrap_or(1).max(1);
        rows.iter()
            .map(|(label, count)| views::Bar {
                label: label.clone(),
                count: *count,
                width: (count * 300 / top).max(1),
            })
            .collect()
    };
    Ok(render(&views::Stats {
        title: "Stats".into(),
        units: stats.units,
        terms: stats.terms,
        documents,
        groups: vec![
            ("By language pair".into(), bars(&stats.by_pair)),
            ("By origin".into(), bars(&stats.by_origin)),
            ("By status".into(), bars(&stats.by_status)),
        ],
    }))
}

async fn import_form(state: Shared) -> Page {
    Ok(render(&views::Import {
        title: "Import".into(),
        csrf: state.0.csrf.clone(),
        message: None,
        error: None,
    }))
}

/// A TMX upload (one file or several), imported as the CLI imports: one transaction,
/// `FILE:LINE:COL` on error. The body has [`listen::BODY_TIME`] to arrive.
async fn import(state: Shared, form: Multipart) -> Page {
    let (csrf, files) = match tokio::time::timeout(listen::BODY_TIME, read_upload(form)).await {
        Ok(read) => read?,
        Err(_) => {
            return Err(PageError(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the upload did not arrive within {} s",
                    listen::BODY_TIME.as_secs()
                ),
            ))
        }
    };
    check_csrf(&state.0, &csrf)?;
    if files.is_empty() {
        return Err(PageError::bad("no file was uploaded: choose a TMX file"));
    }
    let result = with_memory(&state.0, move |m| Ok(import_uploads(m, &files))).await?;
    let (message, error) = match result {
        Ok(m) => (Some(m), None),
        Err(e) => (None, Some(e)),
    };
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let page = views::Import {
        title: "Import".into(),
        csrf: state.0.csrf.clone(),
        message,
        error,
    };
    Ok((status, render(&page)).into_response())
}

/// An upload's fields: the CSRF token and every file, with the name it was uploaded under.
async fn read_upload(mut form: Multipart) -> Result<(String, Vec<(String, Bytes)>), PageError> {
    let too_big =
        |e: axum::extract::multipart::MultipartError| PageError(e.status(), e.body_text());
    let (mut csrf, mut files) = (String::new(), Vec::new());
    while let Some(field) = form.next_field().await.map_err(too_big)? {
        match field.name() {
            Some("csrf") => csrf = field.text().await.map_err(too_big)?,
            Some("file") => {
                let name = field.file_name().unwrap_or("upload.tmx").to_string();
                let bytes = field.bytes().await.map_err(too_big)?;
                // A form with no file chosen still sends an empty, nameless part.
                if !(name.is_empty() && bytes.is_empty()) {
                    files.push((name, bytes));
                }
            }
            _ => {}
        }
    }
    Ok((csrf, files))
}

/// Writes each upload under its own name (shortened to what a file system takes) in a
/// temporary folder and imports them together; messages name the files as uploaded.
fn import_uploads(m: &mut Memory, files: &[(String, Bytes)]) -> Result<String, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut paths = Vec::with_capacity(files.len());
    for (i, (name, bytes)) in files.iter().enumerate() {
        let folder = dir.path().join(i.to_string());
        std::fs::create_dir(&folder).map_err(|e| e.to_string())?;
        let path = folder.join(format!("{}.tmx", file_stem(name)));
        std::fs::write(&path, bytes).map_err(|e| e.to_string())?;
        paths.push(path);
    }
    let s = crate::exchange::import_files(m, &paths, &crate::progress::Silent)
        .map_err(|e| shown_names(&crate::error::chain(&e), dir.path(), files))?;
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    Ok(format!(
        "{}: {} units read, {} added, {} merged with existing units, {} entries skipped",
        names.join(", "),
        s.units.read,
        s.units.added,
        s.units.merged,
        s.skipped
    ))
}

/// A name for an uploaded file on disk: its stem without controls or separators, at most 100
/// bytes (file systems take 255).
fn file_stem(name: &str) -> String {
    let mut safe = String::new();
    for c in stem(name).chars().filter(|c| !c.is_control()) {
        if safe.len() + c.len_utf8() > 100 {
            break;
        }
        safe.push(if c == '/' || c == '\\' { '_' } else { c });
    }
    if safe.is_empty() {
        "upload".into()
    } else {
        safe
    }
}

/// An import error with the temporary paths turned back into the names as uploaded.
fn shown_names(message: &str, dir: &std::path::Path, files: &[(String, Bytes)]) -> String {
    let mut message = message.to_string();
    for (i, (name, _)) in files.iter().enumerate() {
        let path = dir
            .join(i.to_string())
            .join(format!("{}.tmx", file_stem(name)));
        message = message.replace(&path.display().to_string(), name);
    }
    message
}

async fn style() -> Response {
    asset("text/css; charset=utf-8", include_str!("assets/style.css"))
}

async fn script() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("assets/review.js"),
    )
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "max-age=300"),
        ],
        body,
    )
        .into_response()
}

async fn not_found() -> PageError {
    PageError(StatusCode::NOT_FOUND, "no such page".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_redirects_and_names() {
        assert_eq!(encode("a b/ф&"), "a%20b%2F%D1%84%26");
        assert_eq!(stem("/x/report.ru.txt"), "report.ru");
        let to = |b: &str| back_to(b, "/f").into_response().headers()[header::LOCATION].clone();
        assert_eq!(to("/doc?name=x#u1"), "/doc?name=x#u1");
        assert_eq!(to("//evil.example/"), "/f");
        assert_eq!(to("https://evil.example/"), "/f");
        // Issue 32: a tab browsers drop, a line break that would end the header (a 500).
        assert_eq!(to("/\t/evil.example/"), "/f");
        assert_eq!(to("/x\r\nSet-Cookie: a=b"), "/f");
        assert_eq!(to("/\\evil.example/"), "/f");
    }
}
