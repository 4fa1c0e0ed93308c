"""A random-weight BART of exactly distilbart-cnn-12-6's shape, for speed benchmarks.

d_model 1024, 12 encoder + 6 decoder layers, 16 heads, FFN 4096, vocabulary 50,264, 1,024
positions. The tokenizer is the tiny test fixture's byte-level BPE, with vocab.json padded to
the full vocabulary so every id the random model emits can be decoded.

Usage: python benches/make_bart_shape.py OUT_DIR
"""
import json
import os
import shutil
import sys

import torch
from transformers import BartConfig, BartForConditionalGeneration

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "..", "tests", "fixtures", "models", "tiny-bart")
VOCAB = 50264


def main(out):
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(FIXTURE, "vocab.json"), encoding="utf-8") as f:
        vocab = json.load(f)
    for i in range(len(vocab), VOCAB):
        vocab[f"Ġbench{i}"] = i
    with open(os.path.join(out, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False)
    for name in ["merges.txt", "tokenizer_config.json", "special_tokens_map.json"]:
        src = os.path.join(FIXTURE, name)
        if os.path.exists(src):
            shutil.copy(src, out)
    config = BartConfig(
        vocab_size=VOCAB, d_model=1024, encoder_layers=12, decoder_layers=6,
        encoder_attention_heads=16, decoder_attention_heads=16, encoder_ffn_dim=4096,
        decoder_ffn_dim=4096, max_position_embeddings=1024, activation_function="gelu",
        bos_token_id=0, pad_token_id=1, eos_token_id=2, decoder_start_token_id=2,
        forced_bos_token_id=0, forced_eos_token_id=2, scale_embedding=False,
    )
    torch.manual_seed(5)
    model = BartForConditionalGeneration(config)
    model.save_pretrained(out, safe_serialization=True)
    print(f"wrote {out}: {sum(p.numel() for p in model.parameters()) / 1e6:.1f}M parameters")


if __name__ == "__main__":
    main(sys.argv[1])
