//! Making a Hugging Face Marian folder loadable by rust-bert, which reads Marian as BART:
//! its config needs `static_position_embeddings`/`normalize_embedding`, and its weights need the
//! sinusoidal position tables that `save_pretrained` leaves out of `model.safetensors`. The
//! patched files go to the cache, keyed by the source files' identity; the model folder is
//! never modified.

use super::{read_json, EngineResult};
use babeldesk::models::protocol::EngineFailure;
use std::path::{Path, PathBuf};

const ENCODER_POSITIONS: &str = "model.encoder.embed_positions.weight";
const DECODER_POSITIONS: &str = "model.decoder.embed_positions.weight";

pub struct Prepared {
    pub config: PathBuf,
    pub weights: PathBuf,
    pub max_position_embeddings: i64,
}

pub fn prepare(dir: &Path, weights: &str, cache_dir: &Path) -> EngineResult<Prepared> {
    let config_path = dir.join("config.json");
    let mut config = read_json(&config_path)?;
    let obj = config
        .as_object_mut()
        .ok_or_else(|| EngineFailure::bad_file(&config_path, "not a JSON object"))?;
    let d_model = obj
        .get("d_model")
        .and_then(|v| v.as_i64())
        .ok_or_else(|| EngineFailure::unsupported("config.json lacks d_model"))?;
    let max_pos = obj
        .get("max_position_embeddings")
        .and_then(|v| v.as_i64())
        .unwrap_or(512);
    let mut changed = false;
    for (key, value) in [
        ("static_position_embeddings", true.into()),
        ("normalize_embedding", false.into()),
    ] {
        if !obj.contains_key(key) {
            obj.insert(key.to_string(), value);
            changed = true;
        }
    }
    if !obj.contains_key("num_hidden_layers") {
        let layers = obj.get("encoder_layers").cloned().unwrap_or(6.into());
        obj.insert("num_hidden_layers".into(), layers);
        changed = true;
    }
    let weights_path = dir.join(weights);
    let key = identity(&[&config_path, &weights_path])?;
    let out = cache_dir.join("prepared").join(key);
    let mut prepared = Prepared {
        config: config_path,
        weights: weights_path.clone(),
        max_position_embeddings: max_pos,
    };
    if changed {
        std::fs::create_dir_all(&out).map_err(|e| EngineFailure::file(&out, e))?;
        let p = out.join("config.json");
        write_atomic(
            &p,
            serde_json::to_string_pretty(&config)
                .unwrap_or_default()
                .as_bytes(),
        )?;
        prepared.config = p;
    }
    if weights.ends_with(".safetensors")
        && !safetensors_names(&weights_path)?
            .iter()
            .any(|n| n == ENCODER_POSITIONS)
    {
        let p = out.join("model.safetensors");
        if !p.is_file() {
            add_position_tables(&weights_path, &p, max_pos, d_model)?;
        }
        prepared.weights = p;
    }
    Ok(prepared)
}

/// A cache key from paths, sizes and modification times: a changed model gets a new key.
fn identity(paths: &[&Path]) -> EngineResult<String> {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for p in paths {
        let canon = p.canonicalize().map_err(|e| EngineFailure::file(p, e))?;
        let meta = std::fs::metadata(&canon).map_err(|e| EngineFailure::file(p, e))?;
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        h.update(format!("{}\0{}\0{}\0", canon.display(), meta.len(), mtime).as_bytes());
    }
    Ok(babeldesk::models::store::hex(&h.finalize()[..12]))
}

/// Tensor names from a safetensors header (8-byte length, then JSON), without loading tensors.
pub fn safetensors_names(path: &Path) -> EngineResult<Vec<String>> {
    use std::io::Read;
    let err = |e| EngineFailure::file(path, e);
    let mut f = std::fs::File::open(path).map_err(err)?;
    let mut len = [0u8; 8];
    f.read_exact(&mut len).map_err(err)?;
    let len = u64::from_le_bytes(len);
    if len > 100 << 20 {
        return Err(EngineFailure::bad_file(path, "not a safetensors file"));
    }
    let mut header = vec![0u8; len as usize];
    f.read_exact(&mut header).map_err(err)?;
    let json: serde_json::Value = serde_json::from_slice(&header).map_err(|e| {
        EngineFailure::bad_file(path, EngineFailure::model("bad safetensors header", e))
    })?;
    Ok(json
        .as_object()
        .map(|o| o.keys().filter(|k| *k != "__metadata__").cloned().collect())
        .unwrap_or_default())
}

/// Marian's fixed sinusoidal table, laid out as transformers lays it out: sines of all
/// frequencies in the first half of each row, cosines in the second.
pub fn sinusoidal_table(positions: i64, dim: i64) -> Vec<f32> {
    let half = dim / 2;
    let mut out = vec![0f32; (positions * dim) as usize];
    for pos in 0..positions {
        for k in 0..half {
            let angle = pos as f64 / 10000f64.powf(2.0 * k as f64 / dim as f64);
            out[(pos * dim + k) as usize] = angle.sin() as f32;
            out[(pos * dim + half + k) as usize] = angle.cos() as f32;
        }
    }
    out
}

fn add_position_tables(src: &Path, dest: &Path, positions: i64, dim: i64) -> EngineResult<()> {
    let mut tensors =
        tch::Tensor::read_safetensors(src).map_err(|e| EngineFailure::bad_file(src, e))?;
    let table = tch::Tensor::from_slice(&sinusoidal_table(positions, dim)).view([positions, dim]);
    for name in [ENCODER_POSITIONS, DECODER_POSITIONS] {
        if !tensors.iter().any(|(n, _)| n == name) {
            tensors.push((name.to_string(), table.copy()));
        }
    }
    let tmp = dest.with_extension("partial");
    tch::Tensor::write_safetensors(&tensors, &tmp)
        .map_err(|e| EngineFailure::model(tmp.display().to_string(), e))?;
    std::fs::rename(&tmp, dest).map_err(|e| EngineFailure::file(dest, e))
}

fn write_atomic(path: &Path, bytes: &[u8]) -> EngineResult<()> {
    babeldesk::files::write_bytes(path, bytes).map_err(|e| match e {
        babeldesk::Error::Io { path, source } => EngineFailure::File { path, source },
        other => EngineFailure::library(other),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sinusoidal_table_matches_transformers_layout() {
        let t = sinusoidal_table(3, 4);
        // position 0: sin(0)=0 twice, cos(0)=1 twice
        assert_eq!(&t[0..4], &[0.0, 0.0, 1.0, 1.0]);
        // position 1: frequencies 1 and 1/100
        let want = [1f64.sin(), 0.01f64.sin(), 1f64.cos(), 0.01f64.cos()];
        for (a, b) in t[4..8].iter().zip(want) {
            assert!((*a as f64 - b).abs() < 1e-6, "{a} vs {b}");
        }
    }
}
