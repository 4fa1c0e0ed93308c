//! `babeldesk digest`: the main job. English articles are summarized; Russian ones are
//! translated into English when opus-mt-ru-en is installed (and the translation summarized),
//! else babeldesk says how to get the model and summarizes them in Russian.

use super::summarize::{embedder, render, Loaded};
use super::{out, read_input, Ctx};
use crate::cli::{DigestArgs, Format};
use anyhow::Result;
use babeldesk::models::protocol::Generation;
use babeldesk::pipeline::summarize::Length;
use babeldesk::pipeline::{self, summarize::Summary, translate::Translation};
use babeldesk::progress::{Progress, Unit};
use babeldesk::text::Document;
use serde::Serialize;
use std::process::ExitCode;

#[derive(Serialize)]
struct Item {
    summary: Summary,
    #[serde(skip_serializing_if = "Option::is_none")]
    translation: Option<Translation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
}

pub fn run(ctx: &Ctx, args: DigestArgs) -> Result<ExitCode> {
    let files = super::expand_inputs(&args.inputs)?;
    let bars = ctx.progress();
    let mut loaded = Loaded::default();
    let mut translator: Option<Result<pipeline::LoadedModel, String>> = None;
    let mut items = Vec::new();
    bars.start("digest", Some(files.len() as u64), Unit::Items);
    for file in &files {
        let (bytes, name) = read_input(file)?;
        let doc = Document::from_bytes(bytes, &name, false)?;
        let lang = doc.language.unwrap_or("en");
        let mut item = Item {
            summary: placeholder(),
            translation: None,
            note: None,
        };
        if lang != "en" {
            let model = translator.get_or_insert_with(|| {
                let entry = pipeline::choose_translator(
                    &ctx.registry,
                    &ctx.settings,
                    &ctx.env,
                    Default::default(),
                    lang,
                    "en",
                )
                .map_err(|e| e.to_string())?;
                pipeline::load(
                    &ctx.settings,
                    &ctx.env,
                    &entry,
                    None,
                    Generation::default(),
                    &bars,
                )
                .map_err(|e| e.to_string())
            });
            match model {
                Ok(m) => {
                    let mut memory = ctx.memory()?;
                    let options = pipeline::translate::Options::default().for_model(&m.entry);
                    let t = pipeline::translate::translate(
                        &doc,
                        lang,
                        "en",
                        Some(&mut memory),
                        m,
                        &options,
                        &bars,
                    )?;
                    let english = Document::from_bytes(t.text.clone().into_bytes(), &name, true)?;
                    let emb = embedder(ctx, "en", &mut loaded, &bars)?;
                    item.summary = pipeline::summarize::extractive(
                        &english,
                        emb,
                        Length::sentences(args.sentences),
                    )?;
                    item.translation = Some(t);
                }
                Err(why) => {
                    item.note = Some(format!("not translated: {why}"));
                    let emb = embedder(ctx, lang, &mut loaded, &bars)?;
                    item.summary = pipeline::summarize::extractive(
                        &doc,
                        emb,
                        Length::sentences(args.sentences),
                    )?;
                }
            }
        } else {
            let emb = embedder(ctx, lang, &mut loaded, &bars)?;
            item.summary =
                pipeline::summarize::extractive(&doc, emb, Length::sentences(args.sentences))?;
        }
        if args.format == Format::Text {
            let mut t = render(&item.summary);
            if let Some(tr) = &item.translation {
                t.push_str(&format!(
                    "{}\n{}\n\n",
                    out::bold(&format!(
                        "-- translation ({} → en, {})",
                        tr.from,
                        tr.model.as_deref().unwrap_or("translation memory")
                    )),
                    tr.text
                ));
            }
            if let Some(n) = &item.note {
                t.push_str(&format!("note: {n}\n\n"));
            }
            out::text_out(&t)?;
        }
        items.push(item);
        bars.advance(1);
    }
    bars.finish();
    if args.format == Format::Json {
        out::json(&items)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn placeholder() -> Summary {
    Summary {
        file: String::new(),
        language: None,
        method: String::new(),
        model: String::new(),
        sentences: Vec::new(),
        timings: pipeline::summarize::Timings {
            model_ms: 0,
            total_ms: 0,
        },
        cached: false,
        translated_from: None,
    }
}
