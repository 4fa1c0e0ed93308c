//! babeldesk's own BERT encoder (all-MiniLM-L6-v2's architecture) on tch, so its Linear
//! layers can run in int8 (layers.rs). Post-norm layers: attention, residual, layer norm;
//! feed-forward, residual, layer norm.

use super::layers::{LayerNorm, Linear, Weights};
use super::EngineResult;
use babeldesk::models::protocol::{EngineFailure, Precision};
use serde_json::Value;
use tch::{Kind, Tensor};

struct Layer {
    query: Linear,
    key: Linear,
    value: Linear,
    attn_out: Linear,
    attn_norm: LayerNorm,
    intermediate: Linear,
    output: Linear,
    out_norm: LayerNorm,
}

pub struct Bert {
    words: Tensor,
    positions: Tensor,
    types: Tensor,
    embed_norm: LayerNorm,
    layers: Vec<Layer>,
    heads: i64,
}

impl Bert {
    pub fn load(config: &Value, w: &Weights, p: Precision) -> EngineResult<Bert> {
        let int = |key: &str| {
            config
                .get(key)
                .and_then(Value::as_i64)
                .ok_or_else(|| EngineFailure::unsupported(format!("config.json lacks {key}")))
        };
        let act = config.get("hidden_act").and_then(Value::as_str);
        if !matches!(act, Some("gelu") | None) {
            return Err(EngineFailure::unsupported(format!(
                "activation {act:?} is not supported by the int8 engine"
            )));
        }
        let eps = config
            .get("layer_norm_eps")
            .and_then(Value::as_f64)
            .unwrap_or(1e-12);
        let (heads, hidden) = (int("num_attention_heads")?, int("hidden_size")?);
        if heads <= 0 || hidden % heads != 0 {
            return Err(EngineFailure::unsupported(
                "config.json: hidden_size is not a multiple of the attention heads",
            ));
        }
        let layers = (0..int("num_hidden_layers")?)
            .map(|i| {
                let pre = format!("encoder.layer.{i}");
                Ok(Layer {
                    query: w.linear(&format!("{pre}.attention.self.query"), p)?,
                    key: w.linear(&format!("{pre}.attention.self.key"), p)?,
                    value: w.linear(&format!("{pre}.attention.self.value"), p)?,
                    attn_out: w.linear(&format!("{pre}.attention.output.dense"), p)?,
                    attn_norm: w.layer_norm(&format!("{pre}.attention.output.LayerNorm"), eps)?,
                    intermediate: w.linear(&format!("{pre}.intermediate.dense"), p)?,
                    // Always fp32: its inputs (GELU outputs) have outliers that one 8-bit scale
                    // per tensor loses; in int8 it took MiniLM's vectors down to a cosine of
                    // 0.80 to fp32 (0.99 with it kept; tests/fixtures/references).
                    output: w.linear(&format!("{pre}.output.dense"), Precision::Fp32)?,
                    out_norm: w.layer_norm(&format!("{pre}.output.LayerNorm"), eps)?,
                })
            })
            .collect::<EngineResult<Vec<_>>>()?;
        Ok(Bert {
            words: w.get("embeddings.word_embeddings.weight")?,
            positions: w.get("embeddings.position_embeddings.weight")?,
            types: w.get("embeddings.token_type_embeddings.weight")?,
            embed_norm: w.layer_norm("embeddings.LayerNorm", eps)?,
            layers,
            heads,
        })
    }

    /// Hidden states [batch, time, hidden] of right-padded `ids` (`mask` 1 for tokens).
    pub fn forward(&self, ids: &Tensor, mask: &Tensor, types: &Tensor) -> Tensor {
        let (b, t) = ids.size2().expect("2-d token ids");
        let at = Tensor::arange(t, (Kind::Int64, ids.device()));
        let xs = Tensor::embedding(&self.words, ids, 0, false, false)
            + Tensor::embedding(&self.types, types, -1, false, false)
            + self.positions.index_select(0, &at).unsqueeze(0);
        let mut xs = self.embed_norm.forward(&xs);
        // 0 where a token is, the most negative float where padding is.
        let padding = mask.to_kind(Kind::Float) * -1.0 + 1.0;
        let additive = (padding * f32::MIN as f64).view([b, 1, 1, t]);
        for l in &self.layers {
            xs = self.layer(l, &xs, &additive);
        }
        xs
    }

    fn layer(&self, l: &Layer, xs: &Tensor, mask: &Tensor) -> Tensor {
        let (b, t, d) = xs.size3().expect("3-d hidden states");
        let hd = d / self.heads;
        let split = |y: Tensor| y.view([b, t, self.heads, hd]).transpose(1, 2);
        let q = split(l.query.forward(xs));
        let k = split(l.key.forward(xs));
        let v = split(l.value.forward(xs));
        let scores = q.matmul(&k.transpose(-1, -2)) / (hd as f64).sqrt() + mask;
        let ctx = scores.softmax(-1, Kind::Float).matmul(&v);
        let ctx = ctx.transpose(1, 2).reshape([b, t, d]);
        let xs = l.attn_norm.forward(&(l.attn_out.forward(&ctx) + xs));
        let h = l.output.forward(&l.intermediate.forward(&xs).gelu("none"));
        l.out_norm.forward(&(h + xs))
    }
}
