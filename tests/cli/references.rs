//! Outputs checked against independent references (Python peers, published formulas,
//! the LISA kit), through the real binaries.
//!
//! The reference values are computed by `tests/fixtures/references/make_references.py` with
//! the Python peers (sentence-transformers 3.3.1, transformers 4.46.3, rouge-score 0.1.2) and
//! committed; no test here needs Python.

use super::*;
use babeldesk::config::{Device, Env};
use babeldesk::models::engine::{Engine, ENGINE_EXE};
use babeldesk::models::protocol::{Generation, LoadRequest, Precision, Reply};
use babeldesk::models::{Architecture, Task};
use serde_json::json;
use std::collections::BTreeMap;

fn reference(name: &str) -> Value {
    let path = repo().join("tests/fixtures/references").join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

// ---- MiniLM sentence vectors against sentence-transformers ----

/// The engine path the harness builds, and nothing else, as the client's environment.
struct EngineEnv;

impl Env for EngineEnv {
    fn var(&self, key: &str) -> Option<String> {
        (key == "BABELDESK_ENGINE").then(|| env!("CARGO_BIN_EXE_babeldesk-engine").to_string())
    }
}

/// The real MiniLM in the repo's models/, or `None` (skipped) when it is not installed and
/// the run does not require models.
fn installed_minilm() -> Option<PathBuf> {
    let dir = repo().join("models/all-minilm-l6-v2");
    if dir.join("model.safetensors").is_file() {
        return Some(dir);
    }
    skip("MiniLM is not installed in models/ (run `make models`)");
    None
}

fn cosine(a: &[f32], b: &[f64]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| *x as f64 * y).sum();
    let na: f64 = a.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|y| y.powi(2)).sum::<f64>().sqrt();
    dot / (na * nb)
}

/// A started engine with `req` loaded, and the precision it reports.
fn loaded_engine(req: LoadRequest) -> (Engine, Option<Precision>) {
    let mut engine = Engine::start_exe(ENGINE_EXE, &EngineEnv).unwrap();
    let reply = engine.load(req).unwrap();
    let Reply::Loaded { precision, .. } = reply else {
        panic!("{reply:?}")
    };
    (engine, precision)
}

/// The vectors of the reference's sentences from an engine that loaded MiniLM at `precision`
/// (the precision it reports with them): all in one call, then each alone.
fn minilm_vectors(
    dir: PathBuf,
    texts: &[String],
    precision: Precision,
) -> (Option<Precision>, Vec<Vec<f32>>, Vec<Vec<f32>>) {
    let cache = tempfile::tempdir().unwrap();
    let (mut engine, precision) = loaded_engine(LoadRequest {
        task: Task::Embedding,
        architecture: Architecture::Bert,
        dir,
        weights: "model.safetensors".into(),
        languages: vec!["en".into()],
        device: Device::Cpu,
        generation: Default::default(),
        cache_dir: cache.path().to_path_buf(),
        parallel: None,
        threads: None,
        precision,
    });
    // All at once (the engine sorts by length and pads a batch), then each alone.
    let together = engine.embed(texts.to_vec()).unwrap();
    assert_eq!(together.len(), texts.len());
    let alone = texts
        .iter()
        .map(|t| engine.embed(vec![t.clone()]).unwrap().remove(0))
        .collect();
    (precision, together, alone)
}

/// A vector reference's cases and their texts.
fn sentences(refs: &Value) -> (&[Value], Vec<String>) {
    let cases = refs["sentences"].as_array().unwrap();
    let texts = cases
        .iter()
        .map(|c| c["text"].as_str().unwrap().to_string())
        .collect();
    (cases, texts)
}

fn vectors(cases: &[Value], key: &str) -> Vec<Vec<f64>> {
    cases
        .iter()
        .map(|c| {
            c[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect()
        })
        .collect()
}

#[test]
fn minilm_vectors_match_sentence_transformers() {
    let Some(dir) = installed_minilm() else {
        return;
    };
    let refs = reference("minilm-vectors.json");
    let (cases, texts) = sentences(&refs);
    let want = vectors(cases, "vector");
    // The set includes a text longer than max_seq_length: both sides truncate it.
    assert!(cases
        .iter()
        .any(|c| c["word_pieces"].as_u64().unwrap() > refs["max_seq_length"].as_u64().unwrap()));
    let (precision, together, alone) = minilm_vectors(dir, &texts, Precision::Fp32);
    assert_eq!(precision, Some(Precision::Fp32));
    for (i, text) in texts.iter().enumerate() {
        for (how, v) in [("in the batch", &together[i]), ("alone", &alone[i])] {
            assert_eq!(v.len(), want[i].len(), "{text}: dimensions");
            let c = cosine(v, &want[i]);
            assert!(
                c >= 0.9999,
                "{text} ({how}): cosine {c} to sentence-transformers"
            );
        }
    }
}

/// How far babeldesk's int8 vectors may be from torch's made on the same machine: the same
/// fbgemm kernels, summed in another order (1 - cosine; measured below 1e-6 here). Other
/// machines differ by much more (0.99995 on an AVX-512 VNNI CPU, 0.9995 on this AVX2 one
/// against references made elsewhere), which is why the references are made where the tests
/// run ([`babeldesk::testing::int8_reference`]).
const INT8_SAME_MACHINE: f64 = 1e-5;

/// MiniLM runs in int8 by default, with the vectors torch's dynamic quantization gives on this
/// machine (the feed-forward output layers kept fp32 on both sides), and within 0.01 of its
/// own fp32 direction; much closer to torch's int8 than to fp32, so a stand-in that ran fp32,
/// or quantized otherwise, fails.
#[test]
fn minilm_int8_matches_torch_dynamic_quantization() {
    let Some(dir) = installed_minilm() else {
        return;
    };
    let Some(refs) = babeldesk::testing::int8_reference("minilm-int8-vectors.json") else {
        return;
    };
    let (cases, texts) = sentences(&refs);
    let (precision, together, alone) = minilm_vectors(dir.clone(), &texts, Precision::Auto);
    assert_eq!(precision, Some(Precision::Int8));
    let (fp32_precision, fp32, _) = minilm_vectors(dir, &texts, Precision::Fp32);
    assert_eq!(fp32_precision, Some(Precision::Fp32));
    let (batched, each) = (vectors(cases, "vector"), vectors(cases, "alone"));
    for (i, text) in texts.iter().enumerate() {
        let f: Vec<f64> = fp32[i].iter().map(|&x| x as f64).collect();
        let to_fp32 = cosine(&together[i], &f);
        // int8 moves each vector off fp32's direction, a little (0.989 to 0.996 on the two
        // CPUs tried): more than 0.02 would reorder an extractive summary's sentences.
        assert!(
            (0.98..0.9999).contains(&to_fp32),
            "{text}: {to_fp32} to fp32"
        );
        for (how, v, want) in [
            ("batch", &together[i], &batched[i]),
            ("alone", &alone[i], &each[i]),
        ] {
            let off = 1.0 - cosine(v, want);
            assert!(
                off <= INT8_SAME_MACHINE && off * 10.0 <= 1.0 - to_fp32,
                "{text} ({how}): cosine {} to torch's int8, {to_fp32} to fp32",
                1.0 - off
            );
        }
    }
}

// ---- int8 against torch's dynamic quantization ----

/// A tiny seq2seq fixture (Marian translates, BART summarizes) loaded at `precision` with a
/// reference case's search settings, and the precision the engine reports.
struct Seq2SeqEngine {
    engine: Engine,
    task: Task,
    precision: Option<Precision>,
}

impl Seq2SeqEngine {
    fn load(model: &str, precision: Precision, case: &Value) -> Seq2SeqEngine {
        let (task, architecture, languages) = match model {
            "tiny-bart" => (Task::Summarization, Architecture::Bart, vec!["en".into()]),
            _ => (
                Task::Translation,
                Architecture::Marian,
                vec!["ru".into(), "en".into()],
            ),
        };
        let cache = tempfile::tempdir().unwrap();
        let (engine, precision) = loaded_engine(LoadRequest {
            task,
            architecture,
            dir: fixture(model),
            weights: "model.safetensors".into(),
            languages,
            device: Device::Cpu,
            generation: Generation {
                num_beams: case["num_beams"].as_i64(),
                max_length: case["max_length"].as_i64(),
                min_length: Some(0),
                no_repeat_ngram_size: case["no_repeat_ngram_size"].as_i64(),
            },
            cache_dir: cache.path().to_path_buf(),
            parallel: None,
            threads: None,
            precision,
        });
        Seq2SeqEngine {
            engine,
            task,
            precision,
        }
    }

    fn run(&mut self, texts: &[String]) -> Vec<String> {
        let answers = match self.task {
            Task::Summarization => self.engine.summarize_within(texts.to_vec(), None),
            _ => self.engine.translate_with(texts.to_vec(), vec![]),
        };
        answers.unwrap().into_result().unwrap()
    }
}

/// int8 equals torch's dynamic quantization (quantize_dynamic, 8-bit activations) token for
/// token, greedy and beam 4, batched and each input alone; fp32 stays rust-bert's pipeline,
/// equal to transformers. Returns (int8 outputs equal to fp32's, outputs).
fn int8_matches_torch(model: &str, key: &str) -> Option<(usize, usize)> {
    let refs = babeldesk::testing::int8_reference("int8-generation.json")?;
    let cases = refs[key].as_array().unwrap();
    // Greedy and beam 4, each at two caps.
    assert_eq!(cases.len(), 4);
    let (mut same_as_fp32, mut outputs) = (0, 0);
    for case in cases {
        let what = format!(
            "{model} {} (max length {})",
            case["search"], case["max_length"]
        );
        let inputs = strings(&case["inputs"]);
        // The default for Marian and BART is int8.
        let mut int8 = Seq2SeqEngine::load(model, Precision::Auto, case);
        assert_eq!(int8.precision, Some(Precision::Int8));
        // All together (one batch, as the reference ran them: with int8, the rows of a batch
        // share each layer's input scale), then each alone.
        let got = int8.run(&inputs);
        assert_eq!(got, strings(&case["batched"]), "{what}, batched");
        for (input, want) in inputs.iter().zip(strings(&case["alone"])) {
            assert_eq!(
                int8.run(std::slice::from_ref(input)),
                [want],
                "{what}, alone"
            );
        }
        let mut fp32 = Seq2SeqEngine::load(model, Precision::Fp32, case);
        assert_eq!(fp32.precision, Some(Precision::Fp32));
        let fp32_got = fp32.run(&inputs);
        assert_eq!(fp32_got, strings(&case["fp32_batched"]), "{what}, fp32");
        // The agreement rate is the engine's own: its int8 outputs against its fp32 ones.
        same_as_fp32 += got.iter().zip(&fp32_got).filter(|(x, y)| x == y).count();
        outputs += got.len();
    }
    Some((same_as_fp32, outputs))
}

// The tiny random models are as far from trained ones as models get (weights of std 0.5, no
// preference among their tokens): int8 changes most of their long outputs, which is why int8
// is compared with int8. The README reports these rates.

#[test]
fn marian_int8_matches_torch_dynamic_quantization_token_for_token() {
    if let Some((same, all)) = int8_matches_torch("tiny-marian-ru-en", "cases") {
        eprintln!("tiny Marian: {same} of {all} int8 outputs equal fp32's");
        // int8 runs really in int8: the tiny random model's outputs change (how many depends
        // on the CPU's kernels: 7 of 32 where the first references were made, 0 on an AVX2
        // EPYC).
        assert!(all == 32 && same < all, "{same} of {all}");
    }
}

#[test]
fn bart_int8_matches_torch_dynamic_quantization_token_for_token() {
    if let Some((same, all)) = int8_matches_torch("tiny-bart", "bart_cases") {
        eprintln!("tiny BART: {same} of {all} int8 outputs equal fp32's");
        assert!(all == 16 && same < all, "{same} of {all}");
    }
}

// ---- generation against transformers: beam search, and models that stop by themselves ----

#[test]
fn marian_beam4_matches_transformers() {
    let sb = Sandbox::new();
    let model = fixture("tiny-marian-ru-en");
    let generation = reference("generation.json");
    let cases = generation["marian_beam4"].as_array().unwrap();
    assert!(!cases.is_empty());
    for case in cases {
        let cap = case["max_length"].to_string();
        let inputs = strings(&case["inputs"]);
        let outputs = strings(&case["outputs"]);
        let out = sb.run_stdin(
            &[
                "translate",
                "--model-dir",
                model.to_str().unwrap(),
                "--beams",
                "4",
                "--max-length",
                &cap,
                "--no-memory",
                "--format",
                "json",
            ],
            inputs.join("\n\n").as_bytes(),
        );
        let json = json(&out);
        let targets: Vec<&str> = json["segments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["target"].as_str().unwrap())
            .collect();
        assert_eq!(targets, outputs, "beam 4, max length {cap}");
    }
    // The tiny Marian never ends a translation by itself (searched over 122k inputs), so the
    // natural stop is checked on the tiny T5 below.
    assert_eq!(generation["marian_stops_by_itself"]["found"], 0);
}

/// `babeldesk summarize` of `input` on the tiny T5 with these generation flags.
fn t5_summary(sb: &Sandbox, input: &str, flags: &[&str]) -> String {
    let model = fixture("tiny-t5");
    let mut args = vec![
        "summarize",
        "--keep-all",
        "--no-cache",
        "--model-dir",
        model.to_str().unwrap(),
        "--format",
        "json",
    ];
    args.extend_from_slice(flags);
    let json = json(&sb.run_stdin(&args, input.as_bytes()));
    assert_eq!(json[0]["method"], "abstractive");
    json[0]["sentences"][0]["text"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn t5_greedy_stops_by_itself_like_transformers() {
    let sb = Sandbox::new();
    let refs = &reference("generation.json")["t5_greedy_stops_by_itself"];
    for case in refs["cases"].as_array().unwrap() {
        let (input, want) = (case["input"].as_str().unwrap(), &case["output"]);
        // transformers ended it with EOS after this many tokens, well before every cap.
        let n = case["generated_with_eos"].as_u64().unwrap();
        for cap in refs["max_lengths"].as_array().unwrap() {
            assert!(n + 1 < cap.as_u64().unwrap());
            let cap = cap.to_string();
            let got = t5_summary(&sb, input, &["--beams", "1", "--max-length", &cap]);
            assert_eq!(got, *want, "{input} (max length {cap})");
        }
    }
}

const T5_BEAM4: &[&str] = &["--beams", "4", "--min-length", "0", "--max-length", "64"];

#[test]
fn t5_beam4_stops_by_itself_like_transformers() {
    let sb = Sandbox::new();
    let refs = &reference("generation.json")["t5_beam4_stops_by_itself"];
    // babeldesk leaves beam search to rust-bert's defaults: no repeated 3-grams, early stop.
    assert_eq!(refs["settings"]["no_repeat_ngram_size"], 3);
    assert_eq!(refs["settings"]["early_stopping"], true);
    for case in refs["cases"].as_array().unwrap() {
        let input = case["input"].as_str().unwrap();
        assert!(case["generated_with_eos"].as_u64().unwrap() < 63);
        assert_eq!(t5_summary(&sb, input, T5_BEAM4), case["output"], "{input}");
    }
}

/// Known difference, kept visible: when a hypothesis that ended with EOS competes with beams
/// cut at `--max-length`, rust-bert 0.23 divides the cut beams' log-probabilities by their
/// length counting the decoder start token, transformers 4.46 without it, so babeldesk
/// prefers a longer, cut answer (generation_utils.rs, `BeamHypotheses::add` at finalize).
#[test]
#[ignore = "rust-bert 0.23 ranks beams cut at max_length differently from transformers 4.46"]
fn t5_beam4_ranks_cut_beams_like_transformers() {
    let sb = Sandbox::new();
    let refs = &reference("generation.json")["t5_beam4_stops_by_itself"];
    for case in refs["diverging"].as_array().unwrap() {
        let input = case["input"].as_str().unwrap();
        assert_eq!(t5_summary(&sb, input, T5_BEAM4), case["output"], "{input}");
    }
}

// ---- ROUGE per article against rouge-score ----

#[test]
fn eval_summarize_per_article_rouge_matches_rouge_score() {
    let sb = Sandbox::new();
    let dir = repo().join("tests/fixtures/references/rouge");
    let refs = reference("rouge-per-article.json");
    let want = refs["articles"].as_object().unwrap();
    // More sentences than any article has: every sentence is picked, so the prediction is
    // the whole article (what the reference scored), whichever embedding ranks them.
    let out = sb.run(&[
        "eval",
        "summarize",
        "--docs",
        dir.join("docs").to_str().unwrap(),
        "--refs",
        dir.join("refs").to_str().unwrap(),
        "--method",
        "extractive",
        "--sentences",
        "50",
        "--format",
        "json",
    ]);
    let json = json(&out);
    let per = json["per_article"].as_array().unwrap();
    assert_eq!(per.len(), want.len());
    let mut seen = BTreeMap::new();
    for row in per {
        let file = Path::new(row["file"].as_str().unwrap());
        let name = file.file_name().unwrap().to_str().unwrap().to_string();
        let expected = &want[&name];
        for k in ["rouge1", "rouge2", "rougeL"] {
            let (ours, theirs) = (
                row["rouge"][k].as_f64().unwrap(),
                expected[k].as_f64().unwrap(),
            );
            assert!(
                (ours - theirs).abs() < 1e-9,
                "{name} {k}: {ours} vs rouge-score {theirs}"
            );
        }
        seen.insert(name, ());
    }
    assert_eq!(seen.len(), want.len(), "every article scored once");
    // One reference is all Cyrillic: rouge-score keeps no token of it, so every score is 0.
    assert_eq!(want["school-meals.txt"]["rouge1"], 0.0);
}

// ---- the LISA TMX compliance kit ----

/// The kit's folder, or `None` (skipped) without ../shared.
fn lisa_kit() -> Option<PathBuf> {
    Some(shared()?.join("data/tmx/lisa-compliance-kit"))
}

/// A kit text file: UTF-8 or UTF-16 by its byte-order mark, the mark dropped.
fn kit_text(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap();
    let (enc, bom) = encoding_rs::Encoding::for_bom(&bytes).unwrap_or((encoding_rs::UTF_8, 0));
    let (text, had_errors) = enc.decode_without_bom_handling(&bytes[bom..]);
    assert!(!had_errors, "{}", path.display());
    text.into_owned()
}

/// `fr-ca` as babeldesk writes language tags: `fr-CA`.
fn tag(kit: &str) -> String {
    match kit.split_once('-') {
        Some((lang, region)) => format!("{}-{}", lang.to_lowercase(), region.to_uppercase()),
        None => kit.to_lowercase(),
    }
}

/// One `<tuv>` of an exported TMX: its language, the text (inline codes left out), and the
/// segment as the original document had it: text escaped as HTML, each inline code's native
/// markup (`<bpt>&lt;b></bpt>` is `<b>`) put back.
#[derive(Debug)]
struct Tuv {
    lang: String,
    text: String,
    native_html: String,
}

/// The `<tu>`s of a TMX document, each as its `<tuv>`s.
fn parse_tmx(xml: &str) -> Vec<Vec<Tuv>> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let (mut tus, mut in_seg, mut in_code) = (Vec::new(), false, 0);
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == b"tu" => tus.push(Vec::new()),
            Event::Start(e) if e.name().as_ref() == b"tuv" => {
                let lang = e.try_get_attribute("xml:lang").unwrap().unwrap();
                tus.last_mut().unwrap().push(Tuv {
                    lang: lang.unescape_value().unwrap().into_owned(),
                    text: String::new(),
                    native_html: String::new(),
                });
            }
            Event::Start(e) if e.name().as_ref() == b"seg" => in_seg = true,
            Event::End(e) if e.name().as_ref() == b"seg" => in_seg = false,
            Event::Start(e)
                if in_seg && matches!(e.name().as_ref(), b"bpt" | b"ept" | b"it" | b"ph") =>
            {
                in_code += 1
            }
            Event::End(e)
                if in_seg && matches!(e.name().as_ref(), b"bpt" | b"ept" | b"it" | b"ph") =>
            {
                in_code -= 1
            }
            Event::Text(t) if in_seg => {
                let text = t.unescape().unwrap();
                let tuv = tus.last_mut().unwrap().last_mut().unwrap();
                if in_code > 0 {
                    tuv.native_html.push_str(&text);
                } else {
                    tuv.text.push_str(&text);
                    for c in text.chars() {
                        match c {
                            '&' => tuv.native_html.push_str("&amp;"),
                            '<' => tuv.native_html.push_str("&lt;"),
                            '>' => tuv.native_html.push_str("&gt;"),
                            '"' => tuv.native_html.push_str("&quot;"),
                            c => tuv.native_html.push(c),
                        }
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    tus
}

/// The exported (source, target) segments of one language pair, in the memory's order.
fn exported_pairs(sb: &Sandbox, db: &str, from: &str, to: &str) -> Vec<(Tuv, Tuv)> {
    let lang = format!("{from}:{to}");
    let out = sb.run(&["--memory", db, "memory", "export", "--lang", &lang]);
    assert!(out.status.success(), "{}", stderr(&out));
    parse_tmx(&stdout(&out))
        .into_iter()
        .map(|tu| {
            let mut tuvs = tu.into_iter();
            let (a, b) = (tuvs.next().unwrap(), tuvs.next().unwrap());
            assert_eq!((a.lang.as_str(), b.lang.as_str()), (from, to));
            (a, b)
        })
        .collect()
}

/// The kit's Import tests with a plain-text document pair: `ImportTestX.tmx` holds the
/// memory, `ImportTestX.txt` a source document (one segment a line) and
/// `ImportTestX_<lang>.txt` its translation through that memory. Compared: after `memory
/// import` of the TMX, `memory export` of en-US→<lang> gives exactly those line pairs, in
/// order, whitespace (tabs, runs of spaces, U+3000) and characters (entities, UTF-16 input)
/// included; and `translate` of the source document through the memory gives the target
/// lines as 100% matches without any model call (for pairs of two languages: babeldesk
/// refuses en-US→en-GB as "already in en-GB", so 1D–1H are compared on the export only).
#[test]
fn the_lisa_kit_import_tests_give_their_expected_documents() {
    let Some(kit) = lisa_kit() else { return };
    let mut checked = Vec::new();
    let mut sources: Vec<PathBuf> = std::fs::read_dir(&kit)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_str().unwrap();
            name.starts_with("ImportTest") && name.ends_with(".txt") && !name.contains('_')
        })
        .collect();
    sources.sort();
    for source in sources {
        let stem = source.file_stem().unwrap().to_str().unwrap().to_string();
        let target = std::fs::read_dir(&kit)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                let name = p.file_name().unwrap().to_str().unwrap();
                name.starts_with(&format!("{stem}_")) && name.ends_with(".txt")
            })
            .unwrap();
        let kit_lang = target.file_stem().unwrap().to_str().unwrap();
        let to = tag(kit_lang.rsplit_once('_').unwrap().1);
        let (src_lines, tgt_lines) = (kit_text(&source), kit_text(&target));
        let expected: Vec<(&str, &str)> = src_lines.lines().zip(tgt_lines.lines()).collect();
        assert_eq!(
            src_lines.lines().count(),
            tgt_lines.lines().count(),
            "{stem}"
        );

        let sb = Sandbox::new();
        let db = sb.path("tm.sqlite").display().to_string();
        let tmx = kit.join(format!("{stem}.tmx"));
        let out = sb.run(&["--memory", &db, "memory", "import", tmx.to_str().unwrap()]);
        assert!(out.status.success(), "{stem}: {}", stderr(&out));
        let pairs = exported_pairs(&sb, &db, "en-US", &to);
        let got: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(a, b)| (a.text.as_str(), b.text.as_str()))
            .collect();
        assert_eq!(got, expected, "{stem}: export of en-US:{to}");

        if to.starts_with("en") {
            checked.push(stem);
            continue;
        }
        // The memory covers the document, but translate chooses a model for the pair before
        // the lookup (src/app/translate.rs): an instruct fixture is named, and never started.
        let unused = fixture("tiny-llm-echo");
        let out = sb.run(&[
            "--memory",
            &db,
            "translate",
            source.to_str().unwrap(),
            "--from",
            "en-US",
            "--to",
            &to,
            "--model-dir",
            unused.to_str().unwrap(),
            "--format",
            "json",
        ]);
        let json = json(&out);
        assert_eq!(json["model_calls"], 0, "{stem}");
        let segs: Vec<(&str, &str)> = json["segments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                assert_eq!(
                    (s["origin"].as_str(), s["score"].as_u64()),
                    (Some("memory"), Some(100))
                );
                (s["source"].as_str().unwrap(), s["target"].as_str().unwrap())
            })
            .collect();
        assert_eq!(segs, expected, "{stem}: translated through the memory");
        checked.push(stem);
    }
    assert!(checked.len() >= 9, "{checked:?}");
}

/// ImportTest2A: inline codes (`bpt`/`ept`, `it`, `ph`, `hi`, nested, reordered in the
/// target). Its HTML pair shows the documents the units come from; compared: each exported
/// segment, its inline codes replaced by their native markup and its text escaped as HTML,
/// is the paragraph's inner HTML (sentences 4 and 5 share a paragraph, so they are joined
/// with a space). Not compared: the `Export*` tests, whose documents are Windows resources,
/// properties, PO and XLIFF files that babeldesk does not read.
#[test]
fn the_lisa_kit_inline_codes_export_as_the_expected_html() {
    let Some(kit) = lisa_kit() else { return };
    let sb = Sandbox::new();
    let db = sb.path("tm.sqlite").display().to_string();
    let tmx = kit.join("ImportTest2A.tmx");
    assert!(sb
        .run(&["--memory", &db, "memory", "import", tmx.to_str().unwrap()])
        .status
        .success());
    let pairs = exported_pairs(&sb, &db, "en-US", "fr-CA");
    assert_eq!(pairs.len(), 7);
    let paragraphs = |file: &str| -> Vec<String> {
        let bytes = std::fs::read(kit.join(file)).unwrap();
        let (html, _, bad) = encoding_rs::WINDOWS_1252.decode(&bytes);
        assert!(!bad);
        html.lines()
            .filter_map(|l| l.trim().strip_prefix("<p>")?.strip_suffix("</p>"))
            .map(str::to_string)
            .collect()
    };
    let groups: &[&[usize]] = &[&[0], &[1], &[2], &[3, 4], &[5], &[6]];
    for (file, side) in [("ImportTest2A.htm", 0), ("ImportTest2A_fr-ca.htm", 1)] {
        let want = paragraphs(file);
        let got: Vec<String> = groups
            .iter()
            .map(|g| {
                g.iter()
                    .map(|&i| {
                        let (a, b) = &pairs[i];
                        let tuv = if side == 0 { a } else { b };
                        tuv.native_html.clone()
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        assert_eq!(got, want, "{file}");
    }
}

// ---- two processes writing one memory ----

/// `i` spelled with one Cyrillic letter per digit: keys fold digits to 0, words they keep.
fn spelled(i: usize) -> String {
    i.to_string()
        .chars()
        .map(|d| ['а', 'б', 'в', 'г', 'д', 'е', 'ж', 'з', 'и', 'к'][d as usize - '0' as usize])
        .collect()
}

/// A TMX of `n` distinct ru→en units, their sources tagged with `label`.
fn labelled_tmx(label: &str, n: usize) -> String {
    let mut t = String::from("<?xml version=\"1.0\"?>\n<tmx version=\"1.4\"><header srclang=\"ru\" creationtool=\"t\" creationtoolversion=\"1\" segtype=\"sentence\" o-tmf=\"t\" adminlang=\"en\" datatype=\"plaintext\"/><body>\n");
    for i in 0..n {
        t.push_str(&format!("<tu><tuv xml:lang=\"ru\"><seg>Отчёт {label} номер {} о заводе и городе.</seg></tuv><tuv xml:lang=\"en\"><seg>Report {label} number {i} on the plant and the town.</seg></tuv></tu>\n", spelled(i)));
    }
    t.push_str("</body></tmx>\n");
    t
}

#[test]
fn two_imports_into_one_memory_at_once_both_land() {
    const N: usize = 15_000;
    let sb = Sandbox::new();
    let db = sb.path("shared.sqlite").display().to_string();
    // Round 1 on a database neither process finds (both create and migrate it); round 2 on
    // the database round 1 left.
    for (round, labels) in [(1, ["альфа", "бета"]), (2, ["гамма", "дельта"])] {
        let files: Vec<String> = labels
            .iter()
            .map(|l| {
                let p = sb.path(&format!("{l}.tmx"));
                std::fs::write(&p, labelled_tmx(l, N)).unwrap();
                p.display().to_string()
            })
            .collect();
        let children: Vec<_> = files
            .iter()
            .map(|f| {
                sb.cmd(&["--memory", &db, "memory", "import", f, "--format", "json"])
                    .stdin(Stdio::null())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for (child, file) in children.into_iter().zip(&files) {
            let out = child.wait_with_output().unwrap();
            let report = json(&out);
            assert_eq!(report["added"], N as u64, "round {round}: {file}");
        }
        let stats = json(&sb.run(&["--memory", &db, "memory", "stats", "--format", "json"]));
        assert_eq!(stats["units"], (2 * N * round) as u64, "round {round}");
        for l in labels {
            for i in [0, N / 2, N - 1] {
                let q = format!("Отчёт {l} номер {} о заводе и городе.", spelled(i));
                let hits = json(&sb.run(&[
                    "--memory",
                    &db,
                    "memory",
                    "search",
                    &q,
                    "--from",
                    "ru",
                    "--to",
                    "en",
                    "--min-match",
                    "100",
                    "--format",
                    "json",
                ]));
                assert_eq!(hits[0]["score"], 100, "{q}: {hits}");
                assert_eq!(
                    hits[0]["target"],
                    format!("Report {l} number {i} on the plant and the town."),
                );
            }
        }
    }
}

/// `translate` runs a Marian model in int8 unless told otherwise, says so, and the memory
/// records it beside the model id; an fp32 run of the same model then reuses the int8 unit
/// (an exact match is an exact match), and int8 in TMX survives an export and import.
#[test]
fn int8_is_the_default_for_marian_and_units_record_the_precision() {
    let sb = Sandbox::new().without_precision();
    let Some(refs) = babeldesk::testing::int8_reference("int8-generation.json") else {
        return;
    };
    let case = &refs["cases"][0];
    assert_eq!(case["search"], "greedy");
    let (input, want) = (
        strings(&case["inputs"])[0].clone(),
        strings(&case["alone"])[0].clone(),
    );
    let model = fixture("tiny-marian-ru-en");
    let cap = case["max_length"].to_string();
    let run = |precision: Option<&str>| {
        let mut args = vec![
            "translate",
            "--model-dir",
            model.to_str().unwrap(),
            "--beams",
            "1",
        ];
        args.extend(["--max-length", &cap, "--format", "json"]);
        if let Some(p) = precision {
            args.extend(["--precision", p]);
        }
        json(&sb.run_stdin(&args, input.as_bytes()))
    };
    let first = run(None);
    let seg = &first["segments"][0];
    assert_eq!(
        (&seg["target"], &seg["precision"], &seg["origin"]),
        (&json!(want), &json!("int8"), &json!("mt"))
    );
    let units = json(&sb.run(&["memory", "list", "--format", "json"]));
    let unit = &units.as_array().unwrap()[0];
    assert_eq!(
        (&unit["model"], &unit["precision"]),
        (&json!("tiny-marian-ru-en"), &json!("int8"))
    );
    // fp32 asked for: the memory's int8 unit is reused, no model call.
    let again = run(Some("fp32"));
    assert_eq!(again["model_calls"], 0);
    assert_eq!(
        (
            &again["segments"][0]["score"],
            &again["segments"][0]["precision"]
        ),
        (&json!(100), &json!("int8"))
    );
    let tmx = sb.path("out.tmx");
    let out = sb.run(&["memory", "export", "-o", tmx.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&tmx).unwrap();
    assert!(
        text.contains(r#"<prop type="x-babeldesk-precision">int8</prop>"#),
        "{text}"
    );
    let out = sb.run(&[
        "--memory",
        sb.path("copy.sqlite").to_str().unwrap(),
        "memory",
        "import",
        tmx.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let copied = json(&sb.run(&[
        "--memory",
        sb.path("copy.sqlite").to_str().unwrap(),
        "memory",
        "list",
        "--format",
        "json",
    ]));
    assert_eq!(copied[0]["precision"], "int8");
}

/// int8 where it cannot run is one line saying why; an unknown precision is a usage error.
#[test]
fn int8_where_it_cannot_run_says_why() {
    let sb = Sandbox::new();
    let t5 = fixture("tiny-t5");
    let out = sb.run_stdin(
        &[
            "summarize",
            "--method",
            "abstractive",
            "--no-cache",
            "--model-dir",
            t5.to_str().unwrap(),
            "--precision",
            "int8",
        ],
        "The council approved a wind farm. It will power 90,000 homes.".as_bytes(),
    );
    assert_fails(
        &out,
        "T5 models have no int8 engine yet; use --precision fp32",
    );
    let out = sb.run(&["translate", "--precision", "int4", "-"]);
    assert_usage(&out, "'int4' (expected auto, int8 or fp32)");
    // From the environment: the same rule, named.
    let mut sb = Sandbox::new();
    sb.env.retain(|(k, _)| k != "BABELDESK_PRECISION");
    sb.env.push(("BABELDESK_PRECISION".into(), "half".into()));
    let out = sb.run(&["memory", "stats"]);
    assert_fails(&out, "BABELDESK_PRECISION");
}
