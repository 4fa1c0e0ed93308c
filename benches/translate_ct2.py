"""The second peer of `benches/translate.rs`: CTranslate2 (what Argos Translate runs) on the
same model, converted from its transformers folder, same sentences, batch size, length order
and fixed output length; int8 or float32 weights.

Usage: python benches/translate_ct2.py MODEL_DIR SENTENCES.txt BEAMS BATCH NEW_TOKENS TYPE
(TYPE: int8 or float32). The converted model is cached beside MODEL_DIR (MODEL_DIR-ct2).
Prints one JSON object: load seconds, total seconds (load included), sentences, peak RSS.
"""
import json
import os
import resource
import sys
import time

t0 = time.perf_counter()
import ctranslate2  # noqa: E402
import transformers  # noqa: E402
from ctranslate2.converters import TransformersConverter  # noqa: E402
from transformers import MarianTokenizer  # noqa: E402


def convert(model_dir):
    out = model_dir.rstrip("/") + "-ct2"
    if not os.path.exists(os.path.join(out, "model.bin")):
        # CTranslate2 4.8.5 passes `dtype=` to from_pretrained; transformers 4.46 calls it
        # `torch_dtype`.
        load = transformers.MarianMTModel.from_pretrained.__func__

        def from_pretrained(cls, *a, **kw):
            if "dtype" in kw:
                kw["torch_dtype"] = kw.pop("dtype")
            return load(cls, *a, **kw)

        transformers.MarianMTModel.from_pretrained = classmethod(from_pretrained)
        TransformersConverter(model_dir).convert(out, quantization=None, force=True)
    return out


def main():
    global t0
    model_dir, path, beams, batch, new_tokens, compute = sys.argv[1:7]
    beams, batch, new_tokens = int(beams), int(batch), int(new_tokens)
    t1 = time.perf_counter()
    converted = convert(model_dir)
    # Conversion happens once (cached); it is not part of translating.
    t0 += time.perf_counter() - t1
    t1 = time.perf_counter()
    tok = MarianTokenizer.from_pretrained(model_dir)
    threads = len(os.sched_getaffinity(0))
    model = ctranslate2.Translator(converted, device="cpu", compute_type=compute,
                                   inter_threads=1, intra_threads=threads)
    loaded = time.perf_counter() - t1
    sentences = [l.rstrip("\n") for l in open(path, encoding="utf-8") if l.strip()]
    order = sorted(range(len(sentences)), key=lambda i: len(sentences[i]))
    out = [None] * len(sentences)
    for k in range(0, len(order), batch):
        idx = order[k:k + batch]
        pieces = [tok.convert_ids_to_tokens(tok(sentences[i])["input_ids"]) for i in idx]
        res = model.translate_batch(pieces, beam_size=beams, max_batch_size=batch,
                                    min_decoding_length=new_tokens, max_decoding_length=new_tokens)
        for i, r in zip(idx, res):
            out[i] = tok.convert_tokens_to_string(r.hypotheses[0])
    total = time.perf_counter() - t0
    print(json.dumps({"load_s": loaded, "total_s": total, "sentences": len(sentences),
                      "threads": threads, "compute_type": compute,
                      "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))


if __name__ == "__main__":
    main()
