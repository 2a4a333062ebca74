//! The checkpoint loaders on arbitrary bytes: weight files, training state, manifests and
//! model configurations are refused with a typed error (or read, where the bytes happen to
//! be valid), never a panic. The case count follows `PROPTEST_CASES`.

use burn::tensor::Device;
use ld4lg_denoiser::LatentDenoiserConfig;
use ld4lg_run::{
    Error, MANIFEST_FILE, Manifest, STATE_FILE, TrainingState, load_weights, parse_config,
    save_module,
};
use proptest::prelude::*;
use std::path::Path;
use std::sync::OnceLock;

fn config() -> LatentDenoiserConfig {
    LatentDenoiserConfig::new()
        .with_d_model(16)
        .with_n_layers(1)
        .with_n_heads(2)
        .with_num_latents(2)
        .with_d_latent(4)
}

/// The bytes of a real weight file, for mutations that keep most of its structure.
fn weight_bytes() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.bpk");
        save_module(&config().init(&Device::flex()), &path).unwrap();
        std::fs::read(path).unwrap()
    })
}

/// Arbitrary bytes, or the real file with some bytes replaced, truncated or extended.
fn damaged_weights() -> impl Strategy<Value = Vec<u8>> {
    let len = weight_bytes().len();
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..2048),
        (prop::collection::vec((0..len, any::<u8>()), 1..64)).prop_map(|edits| {
            let mut bytes = weight_bytes().to_vec();
            for (at, byte) in edits {
                bytes[at] = byte;
            }
            bytes
        }),
        (0..len).prop_map(|keep| weight_bytes()[..keep].to_vec()),
        prop::collection::vec(any::<u8>(), 1..64).prop_map(|tail| [weight_bytes(), &tail].concat()),
    ]
}

fn load(path: &Path) -> Result<(), Error> {
    load_weights(config().init(&Device::flex()), path).map(|_| ())
}

proptest! {
    // Each case builds a model and hashes a file: a quarter of the configured cases.
    #![proptest_config(ProptestConfig {
        cases: (ProptestConfig::default().cases / 4).max(1),
        ..ProptestConfig::default()
    })]

    #[test]
    fn damaged_weight_files_are_refused_with_typed_errors(bytes in damaged_weights()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.bpk");
        std::fs::write(&path, &bytes).unwrap();
        // Without a manifest: what burn-store and the finiteness check make of the bytes.
        // Edits that leave a loadable file of finite values may load; anything else is an
        // error, not a panic. With the manifest of the real file, any change is caught.
        let unverified = load(&path);
        if bytes != weight_bytes() {
            let real = dir.path().join("real.bpk");
            std::fs::write(&real, weight_bytes()).unwrap();
            let digest = ld4lg_run::digest_file(&real).unwrap();
            Manifest {
                files: [("model.bpk".to_string(), digest)].into(),
            }
            .save(dir.path())
            .unwrap();
            let verified = load(&path);
            prop_assert!(matches!(verified, Err(Error::Corrupt { .. })), "{verified:?}");
        } else {
            prop_assert!(unverified.is_ok());
        }
    }
}

proptest! {
    #[test]
    fn training_state_manifest_and_config_readers_never_panic(text in "\\PC{0,200}", bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let dir = tempfile::tempdir().unwrap();
        for content in [text.as_bytes(), &bytes[..]] {
            std::fs::write(dir.path().join(STATE_FILE), content).unwrap();
            let _ = TrainingState::load(&dir.path().join(STATE_FILE));
            std::fs::write(dir.path().join(MANIFEST_FILE), content).unwrap();
            let _ = Manifest::load(dir.path());
        }
        let _ = parse_config::<LatentDenoiserConfig>(&text, Path::new("model.json"));
    }

    #[test]
    fn json_near_misses_of_a_training_state_are_typed(
        step in any::<u64>(),
        extra in prop::option::of("x_[a-z_]{0,10}"),
        checkpoint in prop::option::of("[a-z0-9-]{0,20}"),
    ) {
        let mut state = serde_json::json!({ "step": step, "elapsed_seconds": 1.5 });
        if let Some(field) = &extra {
            state[field] = 1.into();
        }
        if let Some(name) = &checkpoint {
            state["checkpoint"] = name.clone().into();
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(STATE_FILE);
        std::fs::write(&path, state.to_string()).unwrap();
        match TrainingState::load(&path) {
            Ok(Some(loaded)) => prop_assert_eq!(loaded.step, step),
            Ok(None) => prop_assert!(false, "an existing state read as missing"),
            Err(error) => prop_assert!(!error.to_string().is_empty()),
        }
    }
}
