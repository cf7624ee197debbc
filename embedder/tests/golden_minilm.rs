//! Our embeddings against sentence-transformers' for the same real product texts.
//! The fixture and the script that made it: `tests/fixtures/`, `scripts/make-embedding-fixture.py`.

use kindred_embedder::{
    default_model_dir, BertEmbedder, CpuKernels, DevicePreference, Embedder, InstructionSet,
};

#[derive(serde::Deserialize)]
struct Fixture {
    max_seq_length: usize,
    token_lengths: Vec<usize>,
    texts: Vec<String>,
    embeddings: Vec<Vec<f32>>,
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (norm(a) * norm(b))
}

#[test]
fn all_minilm_l6_v2_matches_sentence_transformers() {
    for set in InstructionSet::ALL {
        if set.supported() {
            matches_sentence_transformers(CpuKernels::NativeWith(set));
        } else {
            println!("{set}: skipped, this processor lacks it");
        }
    }
    matches_sentence_transformers(CpuKernels::Candle);
}

fn matches_sentence_transformers(kernels: CpuKernels) {
    let fixture: Fixture =
        serde_json::from_str(include_str!("fixtures/minilm_reference.json")).unwrap();
    let dir = default_model_dir();
    let loaded = BertEmbedder::load_with(&dir, DevicePreference::Cpu, 16_384, kernels);
    let embedder = loaded.unwrap_or_else(|err| {
        panic!(
            "{err}: run scripts/fetch-model.sh (model folder {})",
            dir.display()
        )
    });
    assert_eq!(embedder.dimension(), 384);
    assert_eq!(
        embedder.max_seq_length(),
        fixture.max_seq_length,
        "truncation as sentence-transformers does it"
    );
    assert!(
        fixture.token_lengths.iter().filter(|n| **n > 256).count() >= 3,
        "the fixture exercises truncation"
    );

    let ours = embedder.embed(&fixture.texts).unwrap();
    let mut worst = 1.0f32;
    for ((text, reference), mine) in fixture.texts.iter().zip(&fixture.embeddings).zip(&ours) {
        let similarity = cosine(reference, mine);
        worst = worst.min(similarity);
        assert!(
            similarity >= 0.9999,
            "{kernels:?}: cosine {similarity} for `{}`",
            text.chars().take(60).collect::<String>()
        );
    }
    println!(
        "{kernels:?}: worst cosine to sentence-transformers over {} texts: {worst:.6}",
        fixture.texts.len()
    );
}
