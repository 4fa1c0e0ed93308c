"""A random-weight Marian model of exactly opus-mt-ru-en's shape, for speed benchmarks.

d_model 512, 6 encoder + 6 decoder layers, 8 heads, FFN 2048, vocabulary 62,518 (the real
model's, <pad> last as there), sinusoidal positions up to 512. The tokenizer is the tiny test fixture's
SentencePiece model (trained on newstest2012), with vocab.json padded to the full vocabulary so
every id the random model emits can be decoded. Random weights are fine for speed: both sides
generate a fixed number of tokens.

Usage: python benches/make_opus_shape.py OUT_DIR
"""
import json
import os
import shutil
import sys

import torch
from transformers import MarianConfig, MarianMTModel

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "..", "tests", "fixtures", "models", "tiny-marian-ru-en")
VOCAB = 62518


def main(out):
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(FIXTURE, "vocab.json"), encoding="utf-8") as f:
        vocab = json.load(f)
    # <pad> last, as in the real model (CTranslate2's converter relies on it).
    pad = vocab.pop("<pad>")
    assert pad == len(vocab), "the fixture's <pad> is not its last token"
    for i in range(len(vocab), VOCAB - 1):
        vocab[f"▁bench{i}"] = i
    pad = vocab["<pad>"] = VOCAB - 1
    with open(os.path.join(out, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False)
    for name in ["source.spm", "target.spm", "special_tokens_map.json"]:
        src = os.path.join(FIXTURE, name)
        if os.path.exists(src):
            shutil.copy(src, out)
    with open(os.path.join(FIXTURE, "tokenizer_config.json"), encoding="utf-8") as f:
        tok_config = json.load(f)
    # The special tokens keep their ids, but <pad>, which moved to the end.
    tok_config["added_tokens_decoder"] = {
        str(vocab[t["content"]]): t for t in tok_config.get("added_tokens_decoder", {}).values()
    }
    with open(os.path.join(out, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(tok_config, f, ensure_ascii=False, indent=1)
    config = MarianConfig(
        vocab_size=VOCAB, decoder_vocab_size=VOCAB, d_model=512,
        encoder_layers=6, decoder_layers=6, encoder_attention_heads=8, decoder_attention_heads=8,
        encoder_ffn_dim=2048, decoder_ffn_dim=2048, max_position_embeddings=512,
        pad_token_id=pad, decoder_start_token_id=pad, eos_token_id=vocab["</s>"],
        forced_eos_token_id=vocab["</s>"], scale_embedding=True, activation_function="swish",
        share_encoder_decoder_embeddings=True,
    )
    torch.manual_seed(11)
    model = MarianMTModel(config)
    model.save_pretrained(out, safe_serialization=True)
    print(f"wrote {out}: {sum(p.numel() for p in model.parameters()) / 1e6:.1f}M parameters")


if __name__ == "__main__":
    main(sys.argv[1])
