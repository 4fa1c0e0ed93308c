//! `babeldesk digest`: the main job. Articles in English are summarized; articles in another
//! language are translated into English first (through the memory, with the installed
//! translation model: Marian or an instruct model) and the translation summarized. With no
//! translation model installed, babeldesk says how to get one and summarizes the article in
//! its own language.

use super::inputs::{Inputs, Tally};
use super::summarize::render;
use super::{out, read_input, Ctx};
use crate::cli::{DigestArgs, Format};
use anyhow::Result;
use babeldesk::pipeline::summarize::{self, Length, MethodChoice, Summarizer, Untranslatable};
use babeldesk::progress::{Progress, Unit};
use std::process::ExitCode;

pub fn run(ctx: &Ctx, args: DigestArgs) -> Result<ExitCode> {
    let inputs = Inputs::expand(&args.inputs)?;
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
    let mut tally = Tally::default();
    bars.start("digest", Some(inputs.files.len() as u64), Unit::Items);
    for file in &inputs.files {
        let result = read_input(file).and_then(|(bytes, name)| {
            let doc = super::open_document(bytes, &name, None, "summarized", &bars)?;
            Ok(summarizer.summarize(&doc)?)
        });
        let result = match inputs.several() {
            true => tally.count(&file.display().to_string(), result)?,
            false => Some(result?),
        };
        bars.advance(1);
        let Some(item) = result else { continue };
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
            out::text_out(&t)?;
        }
        items.push(item);
    }
    bars.finish();
    if args.format == Format::Json {
        out::json(&items)?;
    }
    tally.report(&inputs, "digested", &bars);
    Ok(tally.exit_code())
}
