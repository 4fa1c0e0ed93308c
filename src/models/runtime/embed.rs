//! Sentence embeddings: a BERT encoder (rust-bert's in fp32, babeldesk's own in int8,
//! bert.rs), the model's own `tokenizer.json` through the `tokenizers` crate, then mean pooling
//! and L2 normalization, as sentence-transformers does for all-MiniLM-L6-v2.

use super::bert::Bert;
use super::layers::{self, Weights};
use super::{read_json, EngineResult};
use babeldesk::models::protocol::{EngineFailure, LoadRequest, Precision};
use rust_bert::bert::{BertConfig, BertEmbeddings, BertModel};
use rust_bert::Config;
use tch::{nn, Kind, Tensor};
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

const BATCH: usize = 32;

pub struct Embedder {
    encoder: Encoder,
    tokenizer: Tokenizer,
    device: tch::Device,
    pub max_tokens: usize,
    pub precision: Precision,
}

enum Encoder {
    /// rust-bert's BERT, fp32 (its weights live in the VarStore).
    RustBert {
        model: Box<BertModel<BertEmbeddings>>,
        _weights: nn::VarStore,
    },
    Int8(Bert),
}

impl Embedder {
    pub fn load(req: &LoadRequest, device: tch::Device) -> EngineResult<Embedder> {
        let dir = &req.dir;
        // sentence-transformers truncates at max_seq_length, not at tokenizer.json's setting.
        let max_tokens = read_json(&dir.join("sentence_bert_config.json"))
            .ok()
            .and_then(|v| v.get("max_seq_length").and_then(|m| m.as_u64()))
            .unwrap_or(256) as usize;
        let weights = dir.join(&req.weights);
        let precision = layers::precision(req, device)?;
        let encoder = if precision == Precision::Int8 {
            let config = read_json(&dir.join("config.json"))?;
            Encoder::Int8(Bert::load(&config, &Weights::read(&weights)?, precision)?)
        } else {
            let config = BertConfig::from_file(dir.join("config.json"));
            let mut vs = nn::VarStore::new(device);
            let model = BertModel::<BertEmbeddings>::new(vs.root(), &config);
            vs.load(&weights)
                .map_err(|e| EngineFailure::model(format!("loading {}", weights.display()), e))?;
            Encoder::RustBert {
                model: Box::new(model),
                _weights: vs,
            }
        };
        // Batches of 32 tokenize in microseconds; rayon's worker threads would then spin
        // against libtorch's for both cores (measured: 25% slower embeddings).
        tokenizers::utils::parallelism::set_parallelism(false);
        let tokenizer_path = dir.join("tokenizer.json");
        let mut tokenizer = Tokenizer::from_file(&tokenizer_path)
            .map_err(|e| EngineFailure::bad_file(&tokenizer_path, e))?;
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: max_tokens,
                ..Default::default()
            }))
            .map_err(EngineFailure::library)?;
        tokenizer.with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::BatchLongest,
            ..Default::default()
        }));
        Ok(Embedder {
            encoder,
            tokenizer,
            device,
            max_tokens,
            precision,
        })
    }

    pub fn embed(&self, texts: &[String]) -> EngineResult<Vec<Vec<f32>>> {
        // Sorting by length keeps padding (wasted work) small inside each batch.
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| texts[i].len());
        let mut out = vec![Vec::new(); texts.len()];
        for chunk in order.chunks(BATCH) {
            let batch: Vec<&str> = chunk.iter().map(|&i| texts[i].as_str()).collect();
            for (slot, v) in chunk.iter().zip(self.embed_batch(&batch)?) {
                out[*slot] = v;
            }
        }
        Ok(out)
    }

    fn embed_batch(&self, texts: &[&str]) -> EngineResult<Vec<Vec<f32>>> {
        let enc = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(EngineFailure::library)?;
        let rows = |f: &dyn Fn(&tokenizers::Encoding) -> Vec<i64>| {
            let data: Vec<Tensor> = enc.iter().map(|e| Tensor::from_slice(&f(e))).collect();
            Tensor::stack(&data, 0).to(self.device)
        };
        let ids = rows(&|e| e.get_ids().iter().map(|&x| x as i64).collect());
        let mask = rows(&|e| e.get_attention_mask().iter().map(|&x| x as i64).collect());
        let types = rows(&|e| e.get_type_ids().iter().map(|&x| x as i64).collect());
        let pooled = tch::no_grad(|| -> EngineResult<Tensor> {
            let hidden = match &self.encoder {
                Encoder::Int8(bert) => bert.forward(&ids, &mask, &types),
                Encoder::RustBert { model, .. } => {
                    model
                        .forward_t(
                            Some(&ids),
                            Some(&mask),
                            Some(&types),
                            None,
                            None,
                            None,
                            None,
                            false,
                        )
                        .map_err(EngineFailure::library)?
                        .hidden_state
                }
            };
            let m = mask.unsqueeze(-1).to_kind(Kind::Float);
            let summed = (hidden * &m).sum_dim_intlist(1, false, Kind::Float);
            let counts = m.sum_dim_intlist(1, false, Kind::Float).clamp_min(1e-9);
            let mean = summed / counts;
            let norm = mean.norm_scalaropt_dim(2, [1], true).clamp_min(1e-12);
            Ok(mean / norm)
        })?;
        let pooled = pooled.to(tch::Device::Cpu).contiguous();
        let dim = pooled.size()[1] as usize;
        let flat: Vec<f32> =
            Vec::<f32>::try_from(pooled.view([-1])).map_err(EngineFailure::library)?;
        Ok(flat.chunks(dim).map(<[f32]>::to_vec).collect())
    }

    pub fn count_tokens(&self, texts: &[String]) -> EngineResult<Vec<usize>> {
        texts
            .iter()
            .map(|t| {
                self.tokenizer
                    .encode(t.as_str(), true)
                    .map(|e| e.get_ids().len())
                    .map_err(EngineFailure::library)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    //! On the real all-MiniLM-L6-v2 in models/ (installed by `make models`); skipped with a
    //! message when it is missing, unless BABELDESK_REQUIRE_MODELS is set.

    use super::*;
    use babeldesk::config::Device;
    use babeldesk::models::registry::{Architecture, Task};
    use std::path::PathBuf;

    fn minilm() -> Option<Embedder> {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/all-minilm-l6-v2");
        if !dir.join("model.safetensors").is_file() {
            babeldesk::testing::skip("MiniLM is not installed in models/ (run `make models`)");
            return None;
        }
        let req = LoadRequest {
            task: Task::Embedding,
            architecture: Architecture::Bert,
            dir,
            weights: "model.safetensors".into(),
            languages: vec!["en".into()],
            device: Device::Cpu,
            generation: Default::default(),
            cache_dir: std::env::temp_dir(),
            parallel: None,
            threads: None,
            // These tests hold rust-bert's fp32 path to sentence-transformers; int8 is held to
            // torch's int8 in tests/cli/references.rs.
            precision: Precision::Fp32,
        };
        Some(Embedder::load(&req, tch::Device::Cpu).unwrap())
    }

    fn dot(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    /// sentence-transformers' vectors and word-piece counts (tests/fixtures/references).
    fn reference() -> Vec<(String, usize, Vec<f32>)> {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/references/minilm-vectors.json");
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        v["sentences"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["text"].as_str().unwrap().to_string(),
                    s["word_pieces"].as_u64().unwrap() as usize,
                    s["vector"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|x| x.as_f64().unwrap() as f32)
                        .collect(),
                )
            })
            .collect()
    }

    #[test]
    fn vectors_are_mean_pooled_normalized_and_in_input_order() {
        let Some(e) = minilm() else { return };
        assert_eq!(
            e.max_tokens, 256,
            "sentence_bert_config.json's max_seq_length"
        );
        // More than one batch of 32, lengths mixed so sorting reorders them.
        let refs = reference();
        let mut texts: Vec<String> = Vec::new();
        for i in 0..40 {
            let (t, _, _) = &refs[i % refs.len()];
            texts.push(if i < refs.len() {
                t.clone()
            } else {
                format!("{i}. {t}")
            });
        }
        let together = e.embed(&texts).unwrap();
        assert_eq!(together.len(), texts.len());
        for (i, t) in texts.iter().enumerate() {
            let v = &together[i];
            assert_eq!(v.len(), 384);
            assert!(
                (dot(v, v).sqrt() - 1.0).abs() < 1e-5,
                "{t}: not unit length"
            );
            let alone = &e.embed(std::slice::from_ref(t)).unwrap()[0];
            assert!(dot(v, alone) > 0.99999, "{t}: batch and alone differ");
            if let Some((_, _, want)) = refs.get(i) {
                let cosine = dot(v, want) / (dot(v, v) * dot(want, want)).sqrt();
                assert!(
                    cosine >= 0.9999,
                    "{t}: cosine {cosine} to sentence-transformers"
                );
            }
        }
        // Distinct texts get distinct vectors (the order really is kept).
        assert!(dot(&together[0], &together[3]) < 0.9);
    }

    #[test]
    fn long_texts_are_cut_at_max_seq_length() {
        let Some(e) = minilm() else { return };
        let long =
            "Министр сказал, что голосование по новому бюджету пройдёт на следующей неделе. "
                .repeat(12);
        let longer = format!("{long} Совсем другой конец, о погоде, футболе и ценах на хлеб.");
        let v = e.embed(&[long, longer]).unwrap();
        assert!(
            dot(&v[0], &v[1]) > 0.999999,
            "words past 256 pieces changed the vector"
        );
    }

    #[test]
    fn token_counts_are_the_models_word_pieces() {
        let Some(e) = minilm() else { return };
        for (text, pieces, _) in reference() {
            if pieces <= e.max_tokens {
                assert_eq!(e.count_tokens(&[text.clone()]).unwrap(), [pieces], "{text}");
            }
        }
        // An empty text is [CLS] [SEP], and still a unit vector (no division by zero).
        assert_eq!(e.count_tokens(&[String::new()]).unwrap(), [2]);
        let v = &e.embed(&[String::new()]).unwrap()[0];
        assert!(v.iter().all(|x| x.is_finite()) && (dot(v, v).sqrt() - 1.0).abs() < 1e-5);
    }
}
