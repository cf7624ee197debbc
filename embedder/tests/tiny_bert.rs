//! The embedder's mechanics on a tiny random BERT that the test writes itself.

use std::path::Path;
use std::sync::Arc;

use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use candle_transformers::models::bert::{BertModel, Config};
use kindred_embedder::{
    BertEmbedder, CpuKernels, CpuOptions, DevicePreference, EmbedError, Embedder, EmbeddingWorker,
    InstructionSet, Precision,
};
use tokenizers::models::wordpiece::WordPiece;
use tokenizers::normalizers::BertNormalizer;
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::processors::bert::BertProcessing;
use tokenizers::Tokenizer;

const WORDS: &str = "yoga mat cork strap block towel grip thick thin travel black sage blue natural rubber eco studio";
const MAX_SEQ: usize = 12;

fn write_tiny_model(dir: &Path) -> Config {
    let config_json = serde_json::json!({
        "vocab_size": 5 + WORDS.split(' ').count(), "hidden_size": 32, "num_hidden_layers": 2,
        "num_attention_heads": 4, "intermediate_size": 64, "hidden_act": "gelu", "hidden_dropout_prob": 0.0,
        "max_position_embeddings": 64, "type_vocab_size": 2, "initializer_range": 0.02,
        "layer_norm_eps": 1e-12, "pad_token_id": 0, "model_type": "bert"
    });
    std::fs::write(dir.join("config.json"), config_json.to_string()).unwrap();
    std::fs::create_dir_all(dir.join("1_Pooling")).unwrap();
    std::fs::write(
        dir.join("1_Pooling/config.json"),
        r#"{"word_embedding_dimension": 32, "pooling_mode_mean_tokens": true}"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("sentence_bert_config.json"),
        format!(r#"{{"max_seq_length": {MAX_SEQ}}}"#),
    )
    .unwrap();
    std::fs::write(
        dir.join("modules.json"),
        r#"[{"type": "sentence_transformers.models.Transformer"}, {"type": "sentence_transformers.models.Pooling"}, {"type": "sentence_transformers.models.Normalize"}]"#,
    )
    .unwrap();

    // Line number = token id, as in BERT's vocab.txt.
    let vocab: Vec<&str> = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
        .into_iter()
        .chain(WORDS.split(' '))
        .collect();
    let vocab_path = dir.join("vocab.txt");
    std::fs::write(&vocab_path, vocab.join("\n")).unwrap();
    let wordpiece = WordPiece::from_file(vocab_path.to_str().unwrap())
        .unk_token("[UNK]".into())
        .build()
        .unwrap();
    let mut tokenizer = Tokenizer::new(wordpiece);
    tokenizer.with_normalizer(Some(BertNormalizer::default()));
    tokenizer.with_pre_tokenizer(Some(BertPreTokenizer));
    tokenizer.with_post_processor(Some(BertProcessing::new(
        ("[SEP]".into(), 3),
        ("[CLS]".into(), 2),
    )));
    tokenizer.save(dir.join("tokenizer.json"), false).unwrap();

    let config: Config = serde_json::from_value(config_json).unwrap();
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    BertModel::load(vb, &config).unwrap();
    // Layer norms start as identity; give them some spread so pooling errors would show.
    for (name, var) in varmap.data().lock().unwrap().iter() {
        if name.contains("LayerNorm") || name.contains("bias") {
            let noise = Tensor::randn(0f32, 0.5, var.shape(), &Device::Cpu).unwrap();
            var.set(&(var.as_tensor() + noise).unwrap()).unwrap();
        }
    }
    varmap.save(dir.join("model.safetensors")).unwrap();
    config
}

fn tiny() -> (tempfile::TempDir, BertEmbedder, Config) {
    let dir = tempfile::tempdir().unwrap();
    let config = write_tiny_model(dir.path());
    let embedder = BertEmbedder::load(dir.path(), DevicePreference::Cpu, 64).unwrap();
    (dir, embedder, config)
}

fn texts(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn mean_pooling_matches_a_hand_computation() {
    let (dir, embedder, config) = tiny();
    let got = embedder
        .embed(&texts(&["cork yoga mat"]))
        .unwrap()
        .remove(0);

    let vb = unsafe {
        VarBuilder::from_mmaped_safetensors(
            &[dir.path().join("model.safetensors")],
            DType::F32,
            &Device::Cpu,
        )
    }
    .unwrap();
    let model = BertModel::load(vb, &config).unwrap();
    // [CLS] cork yoga mat [SEP]
    let ids = Tensor::new(&[[2u32, 7, 5, 6, 3]], &Device::Cpu).unwrap();
    let hidden = model
        .forward(&ids, &ids.zeros_like().unwrap(), None)
        .unwrap();
    let mean: Vec<f32> = hidden
        .mean(1)
        .unwrap()
        .squeeze(0)
        .unwrap()
        .to_vec1()
        .unwrap();
    let norm = mean.iter().map(|x| x * x).sum::<f32>().sqrt();
    let expected: Vec<f32> = mean.iter().map(|x| x / norm).collect();
    assert_eq!(got.len(), 32);
    assert!(max_diff(&got, &expected) < 1e-5, "{got:?} vs {expected:?}");
}

#[test]
fn a_text_embeds_the_same_alone_or_in_a_padded_batch_and_order_is_kept() {
    let (_dir, embedder, _) = tiny();
    let batch = texts(&[
        "mat",
        "thick natural rubber studio mat with grip",
        "cork block",
        "",
        "eco travel strap black sage blue",
    ]);
    let together = embedder.embed(&batch).unwrap();
    for (text, vector) in batch.iter().zip(&together) {
        let alone = embedder
            .embed(std::slice::from_ref(text))
            .unwrap()
            .remove(0);
        assert!(
            max_diff(&alone, vector) < 1e-5,
            "`{text}` differs when batched"
        );
        let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "unit length");
    }
    let mut reversed = batch.clone();
    reversed.reverse();
    let back = embedder.embed(&reversed).unwrap();
    for (i, vector) in back.iter().rev().enumerate() {
        assert!(max_diff(vector, &together[i]) < 1e-5);
    }
}

#[test]
fn long_texts_are_truncated_at_the_model_limit() {
    let (_dir, embedder, _) = tiny();
    let long = "yoga mat ".repeat(40);
    assert_eq!(
        embedder.token_lengths(&[long.clone()]).unwrap(),
        vec![MAX_SEQ]
    );
    let a = embedder.embed(&[long.clone()]).unwrap().remove(0);
    let b = embedder
        .embed(&[format!("{long} cork cork cork")])
        .unwrap()
        .remove(0);
    assert!(
        max_diff(&a, &b) < 1e-6,
        "words past the limit change nothing"
    );
}

#[test]
fn the_worker_answers_async_callers() {
    let (_dir, embedder, _) = tiny();
    let direct = embedder.embed(&texts(&["cork mat"])).unwrap();
    let worker = EmbeddingWorker::spawn(Arc::new(embedder), 4);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let via_worker = runtime
        .block_on(worker.embed(texts(&["cork mat"])))
        .unwrap();
    assert!(max_diff(&direct[0], &via_worker[0]) < 1e-6);
}

#[test]
fn missing_or_wrong_files_are_clear_errors() {
    let empty = tempfile::tempdir().unwrap();
    match BertEmbedder::load(empty.path(), DevicePreference::Cpu, 64) {
        Err(EmbedError::ModelFiles { reason, .. }) => {
            assert!(reason.contains("config.json"), "{reason}")
        }
        other => panic!("expected a model-files error, got {:?}", other.err()),
    }
    let (dir, _, _) = tiny();
    std::fs::write(
        dir.path().join("1_Pooling/config.json"),
        r#"{"pooling_mode_max_tokens": true}"#,
    )
    .unwrap();
    assert!(matches!(
        BertEmbedder::load(dir.path(), DevicePreference::Cpu, 64),
        Err(EmbedError::ModelFiles { .. })
    ));
}

#[test]
fn native_cpu_kernels_agree_with_candle() {
    let dir = tempfile::tempdir().unwrap();
    write_tiny_model(dir.path());
    let native =
        BertEmbedder::load_with(dir.path(), DevicePreference::Cpu, 64, CpuKernels::Native).unwrap();
    let candle =
        BertEmbedder::load_with(dir.path(), DevicePreference::Cpu, 64, CpuKernels::Candle).unwrap();
    let batch = texts(&[
        "mat",
        "thick natural rubber studio mat with grip and more words past the limit",
        "",
        "cork block",
    ]);
    for (a, b) in native
        .embed(&batch)
        .unwrap()
        .iter()
        .zip(candle.embed(&batch).unwrap())
    {
        assert!(max_diff(a, &b) < 1e-5, "{a:?} vs {b:?}");
    }
}

/// Every instruction set of the native kernels, forced in turn: each the processor has must
/// give the same vectors to the last bit (the element-wise arithmetic is the same on every
/// path) and agree with candle; one it lacks is refused at load, never run.
#[test]
fn every_instruction_set_gives_the_same_vectors() {
    let dir = tempfile::tempdir().unwrap();
    write_tiny_model(dir.path());
    let batch = texts(&[
        "mat",
        "thick natural rubber studio mat with grip and more words past the limit",
        "cork block",
    ]);
    let candle = BertEmbedder::load_with(dir.path(), DevicePreference::Cpu, 64, CpuKernels::Candle)
        .unwrap()
        .embed(&batch)
        .unwrap();
    let scalar = BertEmbedder::load_with(
        dir.path(),
        DevicePreference::Cpu,
        64,
        CpuKernels::NativeWith(InstructionSet::Scalar),
    )
    .unwrap()
    .embed(&batch)
    .unwrap();
    for set in InstructionSet::ALL {
        let loaded = BertEmbedder::load_with(
            dir.path(),
            DevicePreference::Cpu,
            64,
            CpuKernels::NativeWith(set),
        );
        if !set.supported() {
            assert!(matches!(loaded, Err(EmbedError::Config(_))), "{set}");
            println!("{set}: skipped, this processor lacks it (refused at load, as it should be)");
            continue;
        }
        let embedder = loaded.unwrap();
        assert_eq!(embedder.cpu_instructions(), Some(set));
        let vectors = embedder.embed(&batch).unwrap();
        assert_eq!(vectors, scalar, "{set} differs from scalar");
        for (a, b) in vectors.iter().zip(&candle) {
            assert!(max_diff(a, b) < 1e-5, "{set}: {a:?} vs {b:?}");
        }
        println!("{set}: ran, equal to scalar");
    }
    let best = BertEmbedder::load(dir.path(), DevicePreference::Cpu, 64).unwrap();
    assert_eq!(best.cpu_instructions(), Some(InstructionSet::best()));
}

/// The opt-in int8 mode: the same integers on every path, so the same vectors on every
/// instruction set; close to f32 but named apart from it, so the two never share an index.
#[test]
fn int8_mode_gives_one_answer_on_every_path_and_names_itself() {
    let dir = tempfile::tempdir().unwrap();
    write_tiny_model(dir.path());
    let batch = texts(&[
        "mat",
        "thick natural rubber studio mat with grip",
        "cork block",
    ]);
    let load = |kernels, precision| {
        BertEmbedder::load_with(
            dir.path(),
            DevicePreference::Cpu,
            64,
            CpuOptions { kernels, precision },
        )
    };
    let f32_model = load(CpuKernels::Native, Precision::F32).unwrap();
    let exact = f32_model.embed(&batch).unwrap();
    let scalar = load(
        CpuKernels::NativeWith(InstructionSet::Scalar),
        Precision::Int8,
    )
    .unwrap();
    assert_eq!(scalar.precision(), Precision::Int8);
    assert_eq!(scalar.model_id(), format!("{}+int8", f32_model.model_id()));
    let quantised = scalar.embed(&batch).unwrap();
    for (q, e) in quantised.iter().zip(&exact) {
        let cosine: f32 = q.iter().zip(e).map(|(a, b)| a * b).sum();
        assert!(cosine > 0.99, "int8 strays from f32: cosine {cosine}");
        assert_ne!(q, e, "int8 must really run in 8 bits");
    }
    for set in InstructionSet::ALL.into_iter().filter(|s| s.supported()) {
        let vectors = load(CpuKernels::NativeWith(set), Precision::Int8)
            .unwrap()
            .embed(&batch)
            .unwrap();
        assert_eq!(vectors, quantised, "int8 on {set} differs from scalar");
        println!("int8 on {set}: ran, equal to scalar");
    }
    assert!(
        matches!(
            load(CpuKernels::Candle, Precision::Int8),
            Err(EmbedError::Config(_))
        ),
        "candle has no int8 path: refused, not silently f32"
    );
}
