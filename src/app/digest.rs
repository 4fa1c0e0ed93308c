//! `babeldesk digest`: the main job. Articles in English are summarized; articles in another
//! language are translated into English first (through the memory, with the installed
//! translation model: Marian or an instruct model) and the translation summarized. With no
//! translation model installed, babeldesk says how to get one and summarizes the article in
//! its own language.

use super::summarize::render;
use super::{out, read_input, Ctx};
use crate::cli::{DigestArgs, Format};
use anyhow::Result;
use babeldesk::pipeline::summarize::{self, Length, MethodChoice, Summarizer, Untranslatable};
use babeldesk::progress::{Progress, Unit};
use babeldesk::text::Document;
use std::process::ExitCode;

pub fn run(ctx: &Ctx, args: DigestArgs) -> Result<ExitCode> {
    let files = super::expand_inputs(&args.inputs)?;
    let bars = ctx.progress();
    let options = summarize::Options {
        method: MethodChoice::Extractive,
        length: Length::sentences(args.sentences),
        to: Some("en".into()),
        untranslatable: Untranslatable::SummarizeAsIs,
        ..Default::default()
    };
    let mut summarizer = Summarizer::new(ctx.pipeline(), options, Some(ctx.memory()?), &bars);
    let mut items = Vec::new();
    bars.start("digest", Some(files.len() as u64), Unit::Items);
    for file in &files {
        let (bytes, name) = read_input(file)?;
        let doc = Document::from_bytes(bytes, &name, false)?;
        let item = summarizer.summarize(&doc)?;
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
