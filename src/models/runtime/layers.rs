//! The building blocks of babeldesk's own forward passes (seq2seq.rs, bert.rs): named weights
//! from a safetensors file, and Linear layers that run in fp32 or through fbgemm's int8 kernel.
//!
//! Int8 follows torch's `quantize_dynamic(model, {nn.Linear}, qint8)`: each weight matrix is
//! quantized once, per tensor and symmetric (scale = max|w| / 127.5, zero point 0); each input
//! is quantized when it arrives, to unsigned 8 bits from its own min and max over the whole
//! tensor; products accumulate in int32 and come back as fp32 with the bias added. torch's
//! module asks for 7-bit inputs (`reduce_range`, for CPUs without VNNI); the full 8 bits are
//! used here, and the reference in tests/fixtures/references does the same.

use babeldesk::models::protocol::{EngineFailure, LoadRequest, Precision};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use tch::{Kind, Tensor};

use super::EngineResult;

/// The tensors of a safetensors file by name. A Linear layer's weight leaves the map when the
/// layer is made, so an int8 load frees each fp32 matrix once it is quantized.
pub struct Weights {
    tensors: Mutex<HashMap<String, Tensor>>,
    path: String,
}

impl Weights {
    pub fn read(path: &Path) -> EngineResult<Weights> {
        let tensors = Tensor::read_safetensors(path)
            .map_err(|e| EngineFailure::bad_file(path, e))?
            .into_iter()
            .map(|(name, t)| (name, t.to_kind(Kind::Float)))
            .collect::<HashMap<_, _>>()
            .into();
        Ok(Weights {
            tensors,
            path: path.display().to_string(),
        })
    }

    pub fn has(&self, name: &str) -> bool {
        self.lock().contains_key(name)
    }

    /// The map (the layers of a model are made on two threads at once).
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Tensor>> {
        self.tensors.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn missing(&self, name: &str) -> EngineFailure {
        EngineFailure::unsupported(format!("{}: no tensor {name}", self.path))
    }

    pub fn get(&self, name: &str) -> EngineResult<Tensor> {
        let tensors = self.lock();
        tensors
            .get(name)
            .map(|t| t.shallow_clone())
            .ok_or_else(|| self.missing(name))
    }

    fn take(&self, name: &str) -> Option<Tensor> {
        self.lock().remove(name)
    }

    /// The first of `names` present (tied embeddings are stored under one of several names).
    pub fn first(&self, names: &[&str]) -> EngineResult<Tensor> {
        match names.iter().find(|n| self.has(n)) {
            Some(n) => self.get(n),
            None => self.get(names[0]),
        }
    }

    /// Refuses a tensor whose shape is not what config.json promises.
    pub fn expect_shape(&self, what: &str, t: &Tensor, shape: &[i64]) -> EngineResult<()> {
        match t.size() == shape {
            true => Ok(()),
            false => Err(EngineFailure::unsupported(format!(
                "{}: {what} are {:?}, config.json says {shape:?}: the weights are not this model's",
                self.path,
                t.size()
            ))),
        }
    }

    /// `{prefix}.weight` and `{prefix}.bias` as a Linear layer.
    pub fn linear(&self, prefix: &str, precision: Precision) -> EngineResult<Linear> {
        let name = format!("{prefix}.weight");
        let weight = self.take(&name).ok_or_else(|| self.missing(&name))?;
        let bias = self.take(&format!("{prefix}.bias"));
        Linear::new(&weight, bias, precision)
    }

    pub fn layer_norm(&self, prefix: &str, eps: f64) -> EngineResult<LayerNorm> {
        Ok(LayerNorm {
            weight: self.get(&format!("{prefix}.weight"))?,
            bias: self.get(&format!("{prefix}.bias"))?,
            eps,
        })
    }
}

pub struct LayerNorm {
    weight: Tensor,
    bias: Tensor,
    eps: f64,
}

impl LayerNorm {
    pub fn forward(&self, xs: &Tensor) -> Tensor {
        let dim = *xs.size().last().unwrap_or(&1);
        xs.layer_norm([dim], Some(&self.weight), Some(&self.bias), self.eps, false)
    }
}

pub enum Linear {
    Fp32 {
        weight: Tensor,
        bias: Option<Tensor>,
    },
    Int8(QuantizedLinear),
}

/// A Linear layer's int8 weights as fbgemm's kernel takes them.
pub struct QuantizedLinear {
    /// The int8 matrix itself, which the kernel wants beside the packed copy.
    quantized: Tensor,
    packed: Tensor,
    col_offsets: Tensor,
    scale: f64,
    /// The kernel takes a bias tensor; zeros stand in for none (adding 0.0 is exact).
    bias: Tensor,
    out_features: i64,
}

impl QuantizedLinear {
    fn new(weight: &Tensor, bias: Option<Tensor>) -> EngineResult<QuantizedLinear> {
        let out_features = weight.size()[0];
        // torch's per-tensor symmetric observer, in fp32 as torch computes it.
        let amax = weight.abs().max();
        let scale = (amax / 127.5)
            .clamp_min(f32::EPSILON as f64)
            .double_value(&[]);
        let quantized = weight
            .f_quantize_per_tensor(scale, 0, Kind::QInt8)
            .and_then(|q| q.f_int_repr())
            .map_err(EngineFailure::library)?
            .contiguous();
        let col_offsets = quantized.sum_dim_intlist(1, false, Kind::Int);
        let packed = quantized
            .f_fbgemm_pack_quantized_matrix()
            .map_err(EngineFailure::library)?;
        let bias =
            bias.unwrap_or_else(|| Tensor::zeros([out_features], (Kind::Float, tch::Device::Cpu)));
        Ok(QuantizedLinear {
            quantized,
            packed,
            col_offsets,
            scale,
            bias,
            out_features,
        })
    }

    fn forward(&self, xs: &Tensor) -> Tensor {
        let mut shape = xs.size();
        let rows = xs.reshape([-1, *shape.last().unwrap_or(&1)]);
        let out = rows.fbgemm_linear_int8_weight_fp32_activation(
            &self.quantized,
            &self.packed,
            &self.col_offsets,
            tch::Scalar::float(self.scale),
            tch::Scalar::int(0),
            &self.bias,
        );
        if let Some(last) = shape.last_mut() {
            *last = self.out_features;
        }
        out.reshape(shape)
    }
}

impl Linear {
    pub fn new(
        weight: &Tensor,
        bias: Option<Tensor>,
        precision: Precision,
    ) -> EngineResult<Linear> {
        let weight = weight.contiguous();
        match precision {
            Precision::Fp32 => Ok(Linear::Fp32 { weight, bias }),
            _ => Ok(Linear::Int8(QuantizedLinear::new(&weight, bias)?)),
        }
    }

    pub fn forward(&self, xs: &Tensor) -> Tensor {
        match self {
            Linear::Fp32 { weight, bias } => xs.linear(weight, bias.as_ref()),
            Linear::Int8(q) => q.forward(xs),
        }
    }
}

/// What a model loads in: int8 on the CPU with fbgemm and safetensors weights unless fp32 is
/// asked for, fp32 where int8 cannot run; an explicit int8 that cannot run is an error that
/// says why.
pub fn precision(req: &LoadRequest, device: tch::Device) -> EngineResult<Precision> {
    let why_not = if device != tch::Device::Cpu {
        Some("int8 runs on the CPU only; use --device cpu or --precision fp32")
    } else if !req.weights.ends_with(".safetensors") {
        Some("int8 needs the weights as model.safetensors")
    } else if !int8_available() {
        Some("this libtorch has no fbgemm int8 kernels (x86 CPUs only)")
    } else {
        None
    };
    match (req.precision, why_not) {
        (Precision::Fp32, _) | (Precision::Auto, Some(_)) => Ok(Precision::Fp32),
        (Precision::Int8, Some(why)) => Err(EngineFailure::unsupported(format!(
            "--precision int8: {why}"
        ))),
        (_, None) => Ok(Precision::Int8),
    }
}

/// Whether this machine's libtorch has fbgemm's int8 kernels (x86 CPUs only).
pub fn int8_available() -> bool {
    let w = Tensor::ones([2, 2], (Kind::Float, tch::Device::Cpu));
    Linear::new(&w, None, Precision::Int8).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int8_linear_is_close_to_fp32_and_keeps_the_shape() {
        tch::manual_seed(1);
        let w = Tensor::randn([48, 32], (Kind::Float, tch::Device::Cpu));
        let b = Tensor::randn([48], (Kind::Float, tch::Device::Cpu));
        let x = Tensor::randn([3, 5, 32], (Kind::Float, tch::Device::Cpu));
        let fp = Linear::new(&w, Some(b.copy()), Precision::Fp32)
            .unwrap()
            .forward(&x);
        let q = Linear::new(&w, Some(b), Precision::Int8)
            .unwrap()
            .forward(&x);
        assert_eq!(q.size(), [3, 5, 48]);
        let err = (&q - &fp).abs().max().double_value(&[]);
        let range = fp.abs().max().double_value(&[]);
        // 8-bit weights and inputs: errors of a few percent of the range, not more, not zero.
        assert!(
            err > 0.0 && err < 0.05 * range,
            "max error {err} of {range}"
        );
    }
}
