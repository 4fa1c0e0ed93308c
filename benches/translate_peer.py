"""The peer side of `benches/translate.rs`: Python transformers' MarianMTModel on the same
model folder and sentences, same batch size, lengths sorted like babeldesk's batches, a fixed
number of generated tokens.

Usage: python benches/translate_peer.py MODEL_DIR SENTENCES.txt BEAMS BATCH NEW_TOKENS
Prints one JSON object: load seconds, total seconds (load included), sentences, peak RSS.
"""
import json
import resource
import sys
import time

t0 = time.perf_counter()
import torch  # noqa: E402
from transformers import MarianMTModel, MarianTokenizer  # noqa: E402


def main():
    model_dir, path, beams, batch, new_tokens = sys.argv[1:6]
    beams, batch, new_tokens = int(beams), int(batch), int(new_tokens)
    tok = MarianTokenizer.from_pretrained(model_dir)
    model = MarianMTModel.from_pretrained(model_dir).eval()
    loaded = time.perf_counter() - t0
    sentences = [l.rstrip("\n") for l in open(path, encoding="utf-8") if l.strip()]
    order = sorted(range(len(sentences)), key=lambda i: len(sentences[i]))
    out = [None] * len(sentences)
    with torch.inference_mode():
        for k in range(0, len(order), batch):
            idx = order[k:k + batch]
            enc = tok([sentences[i] for i in idx], return_tensors="pt", padding=True)
            gen = model.generate(**enc, num_beams=beams, do_sample=False,
                                 min_new_tokens=new_tokens, max_new_tokens=new_tokens)
            for i, text in zip(idx, tok.batch_decode(gen, skip_special_tokens=True)):
                out[i] = text
    total = time.perf_counter() - t0
    print(json.dumps({"load_s": loaded, "total_s": total, "sentences": len(sentences),
                      "threads": torch.get_num_threads(),
                      "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))


if __name__ == "__main__":
    main()
