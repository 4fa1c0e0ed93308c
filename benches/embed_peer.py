"""The peer side of `benches/embed.rs`: sentence-transformers on the same MiniLM weights.

Usage: python benches/embed_peer.py MODEL_DIR SENTENCES.txt BATCH ROUNDS
Prints one JSON object: seconds per round (warm), load seconds, and the first vectors
(L2-normalized mean pooling, as babeldesk computes) so the two sides can be compared.
"""
import json
import sys
import time

t0 = time.perf_counter()
import torch  # noqa: E402
from sentence_transformers import SentenceTransformer, models  # noqa: E402


def main():
    model_dir, path, batch, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    # Built from its modules: the wheel lacks the 2_Normalize folder modules.json names.
    word = models.Transformer(model_dir)
    pool = models.Pooling(word.get_word_embedding_dimension(), pooling_mode="mean")
    model = SentenceTransformer(modules=[word, pool], device="cpu")
    load = time.perf_counter() - t0
    sentences = [l.rstrip("\n") for l in open(path, encoding="utf-8") if l.strip()]
    model.encode(sentences[:batch], batch_size=batch)  # warm-up
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        vectors = model.encode(sentences, batch_size=batch, normalize_embeddings=True)
        times.append(time.perf_counter() - t)
    print(json.dumps({"load_s": load, "round_s": times, "threads": torch.get_num_threads(),
                      "peak_kib": __import__("resource").getrusage(__import__("resource").RUSAGE_SELF).ru_maxrss,
                      "first": vectors[:8].tolist()}))


if __name__ == "__main__":
    main()
