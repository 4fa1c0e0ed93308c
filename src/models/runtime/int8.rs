//! Translation and summaries through babeldesk's own forward pass (seq2seq.rs) and search
//! (search.rs), whose Linear layers run in int8: what `--precision int8` runs for Marian and
//! BART models. rust-bert's pipelines (generate.rs) stay the fp32 path.

use super::layers::Weights;
use super::search::{self, SearchOptions};
use super::seq2seq::{Seq2Seq, Seq2SeqConfig};
use super::{read_json, EngineResult};
use babeldesk::models::protocol::{EngineFailure, Precision};
use babeldesk::models::registry::Architecture;
use rust_bert::pipelines::common::{ModelType, TokenizerOption};
use rust_tokenizers::tokenizer::TruncationStrategy;
use std::path::Path;
use tch::Tensor;

/// Rows decoded together: sentences for greedy search, sentences × beams for beam search.
const BATCH_ROWS: usize = 32;

pub struct Int8Seq2Seq {
    model: Seq2Seq,
    tokenizer: TokenizerOption,
    options: SearchOptions,
}

impl Int8Seq2Seq {
    /// A Marian or BART model folder. `precision` is Int8, or Fp32 to run the same forward
    /// pass unquantized (tests compare both with transformers).
    pub fn load(
        dir: &Path,
        weights: &Path,
        architecture: Architecture,
        options: SearchOptions,
        precision: Precision,
    ) -> EngineResult<Int8Seq2Seq> {
        let json = read_json(&dir.join("config.json"))?;
        let model = Seq2Seq::load(
            Seq2SeqConfig::from_json(&json, architecture)?,
            &Weights::read(weights)?,
            precision,
        )?;
        let (model_type, merges) = match architecture {
            Architecture::Marian => (ModelType::Marian, "source.spm"),
            Architecture::Bart => (ModelType::Bart, "merges.txt"),
            other => {
                return Err(EngineFailure::unsupported(format!(
                    "{other:?} models have no int8 engine; use --precision fp32"
                )))
            }
        };
        let (vocab, merges) = (dir.join("vocab.json"), dir.join(merges));
        let tokenizer = TokenizerOption::from_file(
            model_type,
            &vocab.to_string_lossy(),
            Some(&merges.to_string_lossy()),
            false,
            None,
            None,
        )
        .map_err(|e| {
            EngineFailure::model(format!("loading the tokenizer of {}", dir.display()), e)
        })?;
        Ok(Int8Seq2Seq {
            model,
            tokenizer,
            options,
        })
    }

    pub fn max_input_tokens(&self) -> i64 {
        self.model.max_input_tokens()
    }

    pub fn tokenizer(&self) -> &TokenizerOption {
        &self.tokenizer
    }

    /// The model's output for each text: a translation, or a summary.
    pub fn generate_texts(&self, texts: &[String]) -> EngineResult<Vec<String>> {
        let max = self.max_input_tokens() as usize;
        let ids: Vec<Vec<i64>> = self
            .tokenizer
            .encode_list(texts, max, &TruncationStrategy::LongestFirst, 0)
            .into_iter()
            .map(|t| t.token_ids)
            .collect();
        // Sentences of like length together: less padding, and rows that finish together.
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(ids[i].len()));
        let per_batch = (BATCH_ROWS / self.options.num_beams.max(1) as usize).max(1);
        let mut out = vec![String::new(); texts.len()];
        for chunk in order.chunks(per_batch) {
            let batch: Vec<&[i64]> = chunk.iter().map(|&i| ids[i].as_slice()).collect();
            let outputs = tch::no_grad(|| self.generate(&batch));
            for (&i, tokens) in chunk.iter().zip(outputs) {
                out[i] = self
                    .tokenizer
                    .decode(&tokens, true, true)
                    .trim()
                    .to_string();
            }
        }
        Ok(out)
    }

    fn generate(&self, batch: &[&[i64]]) -> Vec<Vec<i64>> {
        let width = batch.iter().map(|s| s.len()).max().unwrap_or(0).max(1);
        let pad = self.model.config.pad;
        let mut ids = Vec::with_capacity(batch.len() * width);
        let mut mask = Vec::with_capacity(batch.len() * width);
        for s in batch {
            ids.extend(s.iter().copied().chain(std::iter::repeat(pad)).take(width));
            mask.extend((0..width).map(|i| i64::from(i < s.len())));
        }
        let shape = [batch.len() as i64, width as i64];
        let ids = Tensor::from_slice(&ids).view(shape);
        let mask = Tensor::from_slice(&mask).view(shape);
        search::generate(&self.model, &ids, &mask, &self.options)
    }
}

#[cfg(test)]
mod tests {
    //! The forward pass in fp32 against transformers (tests/fixtures/references, made by
    //! make_references.py). Its int8 against torch's int8 is checked through the real engine
    //! in tests/cli/references.rs.

    use super::*;
    use std::path::PathBuf;

    fn repo() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
    }

    fn reference(name: &str) -> serde_json::Value {
        let path = repo().join("tests/fixtures/references").join(name);
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn strings(v: &serde_json::Value) -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect()
    }

    /// A fixture model through the forward pass in fp32, with a case's search settings.
    fn fp32(model: &str, case: &serde_json::Value) -> Int8Seq2Seq {
        let dir = repo().join("tests/fixtures/models").join(model);
        let int = |k: &str| case[k].as_i64().unwrap_or(0);
        let options = SearchOptions {
            num_beams: int("num_beams"),
            max_length: int("max_length"),
            min_length: 0,
            no_repeat_ngram_size: int("no_repeat_ngram_size"),
            early_stopping: true,
            length_penalty: 1.0,
        };
        let arch = match model {
            "tiny-bart" => Architecture::Bart,
            _ => Architecture::Marian,
        };
        let weights = dir.join("model.safetensors");
        Int8Seq2Seq::load(&dir, &weights, arch, options, Precision::Fp32).unwrap()
    }

    #[test]
    fn the_forward_pass_in_fp32_gives_transformers_outputs() {
        let Some(refs) = babeldesk::testing::int8_reference("int8-generation.json") else {
            return;
        };
        let mut cases = 0;
        for (model, key) in [("tiny-marian-ru-en", "cases"), ("tiny-bart", "bart_cases")] {
            for case in refs[key].as_array().unwrap() {
                let got = fp32(model, case)
                    .generate_texts(&strings(&case["inputs"]))
                    .unwrap();
                let what = format!("{model} {} {}", case["search"], case["max_length"]);
                assert_eq!(got, strings(&case["fp32_batched"]), "{what}");
                cases += 1;
            }
        }
        let generation = reference("generation.json");
        for case in generation["marian_beam4"].as_array().unwrap() {
            let mut case = case.clone();
            case["num_beams"] = 4.into();
            let t = fp32("tiny-marian-ru-en", &case);
            assert_eq!(
                t.generate_texts(&strings(&case["inputs"])).unwrap(),
                strings(&case["outputs"])
            );
            cases += 1;
        }
        assert!(cases >= 10);
    }
}
