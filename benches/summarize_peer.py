"""The peer side of `benches/summarize.rs`: the transformers summarization pipeline on the
same model folder and articles, beam 4, a fixed output length.

Usage: python benches/summarize_peer.py MODEL_DIR LENGTH ARTICLE...
Prints one JSON object: load seconds, total seconds (load included), input token counts.
"""
import json
import sys
import time

t0 = time.perf_counter()
import torch  # noqa: E402
from transformers import BartForConditionalGeneration, BartTokenizer, pipeline  # noqa: E402


def main():
    model_dir, length, paths = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    tok = BartTokenizer.from_pretrained(model_dir)
    model = BartForConditionalGeneration.from_pretrained(model_dir).eval()
    summarizer = pipeline("summarization", model=model, tokenizer=tok, device=-1)
    loaded = time.perf_counter() - t0
    articles = [open(p, encoding="utf-8").read().strip() for p in paths]
    tokens = [len(tok(a)["input_ids"]) for a in articles]
    with torch.inference_mode():
        for a in articles:
            summarizer(a, num_beams=4, min_length=length, max_length=length,
                       no_repeat_ngram_size=3, length_penalty=1.0, early_stopping=True,
                       truncation=True)
    total = time.perf_counter() - t0
    print(json.dumps({"load_s": loaded, "total_s": total, "articles": len(articles),
                      "input_tokens": tokens, "threads": torch.get_num_threads(),
                      "peak_kib": __import__("resource").getrusage(__import__("resource").RUSAGE_SELF).ru_maxrss}))


if __name__ == "__main__":
    main()
