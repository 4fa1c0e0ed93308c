//! Sentence embeddings: rust-bert's BERT encoder, the model's own `tokenizer.json` through the
//! `tokenizers` crate, then mean pooling and L2 normalization, as sentence-transformers does
//! for all-MiniLM-L6-v2.

use super::{read_json, EngineResult};
use babeldesk::models::protocol::{EngineFailure, LoadRequest};
use rust_bert::bert::{BertConfig, BertEmbeddings, BertModel};
use rust_bert::Config;
use tch::{nn, Kind, Tensor};
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

const BATCH: usize = 32;

pub struct Embedder {
    model: BertModel<BertEmbeddings>,
    tokenizer: Tokenizer,
    device: tch::Device,
    _vs: nn::VarStore,
    pub max_tokens: usize,
}

impl Embedder {
    pub fn load(req: &LoadRequest, device: tch::Device) -> EngineResult<Embedder> {
        let dir = &req.dir;
        let config = BertConfig::from_file(dir.join("config.json"));
        // sentence-transformers truncates at max_seq_length, not at tokenizer.json's setting.
        let max_tokens = read_json(&dir.join("sentence_bert_config.json"))
            .ok()
            .and_then(|v| v.get("max_seq_length").and_then(|m| m.as_u64()))
            .unwrap_or(256) as usize;
        let mut vs = nn::VarStore::new(device);
        let model = BertModel::<BertEmbeddings>::new(vs.root(), &config);
        let weights = dir.join(&req.weights);
        vs.load(&weights)
            .map_err(|e| EngineFailure::model(format!("loading {}", weights.display()), e))?;
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
            model,
            tokenizer,
            device,
            _vs: vs,
            max_tokens,
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
            let out = self
                .model
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
                .map_err(EngineFailure::library)?;
            let m = mask.unsqueeze(-1).to_kind(Kind::Float);
            let summed = (out.hidden_state * &m).sum_dim_intlist(1, false, Kind::Float);
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
