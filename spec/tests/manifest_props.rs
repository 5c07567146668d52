//! Manifest validation under random and mutated input: decoding never panics, never reads out
//! of bounds (it only ever sees a slice), and accepts exactly what the encoder writes.

use plugspec::abi::{self, ManifestError, ManifestSpec, Storage, SymbolSpec};
use plugspec::fingerprint::THIS_BUILD;
use plugspec::{Package, SymbolKind};
use proptest::prelude::*;

const SYMBOLS: &[SymbolSpec] = &[
    SymbolSpec {
        kind: SymbolKind::Function,
        storage: Storage::Code,
        name: "add",
        rust_type: "extern \"C\" fn(i32, i32) -> i32",
        size: 8,
        align: 8,
    },
    SymbolSpec {
        kind: SymbolKind::Variable,
        storage: Storage::StaticMut,
        name: "VALUE",
        rust_type: "i32",
        size: 4,
        align: 4,
    },
    SymbolSpec {
        kind: SymbolKind::Variable,
        storage: Storage::InteriorMutable,
        name: "COUNTER",
        rust_type: "AtomicI32",
        size: 4,
        align: 4,
    },
];
const SPEC: ManifestSpec = ManifestSpec {
    identity: "props.plugin",
    build: THIS_BUILD,
    api_version: Some(2),
    build_id: Some("b-1"),
    packages: &[Package {
        name: "common",
        version: "0.1.0",
        hash: "0123456789abcdef",
    }],
    symbols: SYMBOLS,
    has_init: true,
};
const LEN: usize = SPEC.encoded_len();
const GOOD: [u8; LEN] = SPEC.encode::<LEN>();

/// A mutation of the good manifest: flip, set, insert, delete or truncate.
#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Set(usize, u8),
    SetU32(usize, u32),
    Insert(usize, u8),
    Delete(usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (0..LEN, 1u8..=255).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (0..LEN, any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        (
            0..LEN - 4,
            prop_oneof![Just(u32::MAX), Just(0), any::<u32>(), 0u32..512]
        )
            .prop_map(|(i, v)| Mutation::SetU32(i, v)),
        (0..=LEN, any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        (0..LEN).prop_map(Mutation::Delete),
        (0..LEN).prop_map(Mutation::Truncate),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    match *m {
        Mutation::Flip(i, b) => bytes[i] ^= b,
        Mutation::Set(i, b) => bytes[i] = b,
        Mutation::SetU32(i, v) => bytes[i..i + 4].copy_from_slice(&v.to_le_bytes()),
        Mutation::Insert(i, b) => bytes.insert(i, b),
        Mutation::Delete(i) => {
            bytes.remove(i);
        }
        Mutation::Truncate(n) => bytes.truncate(n),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = abi::decode(&bytes);
    }

    #[test]
    fn random_bytes_behind_a_valid_header_never_panic(
        tail in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        let mut bytes = GOOD[..12].to_vec();
        bytes.extend_from_slice(&((12 + 4 + tail.len()) as u32).to_le_bytes());
        bytes.extend_from_slice(&tail);
        match abi::decode(&bytes) {
            Ok(m) => prop_assert!(!m.identity.is_empty()),
            Err(e) => prop_assert!(matches!(e, ManifestError::Corrupt { .. }), "{e}"),
        }
    }

    #[test]
    fn mutated_manifests_decode_or_fail_cleanly(mutations in proptest::collection::vec(mutation(), 1..4)) {
        let mut bytes = GOOD.to_vec();
        for m in &mutations {
            if !bytes.is_empty() {
                let m = match *m {
                    Mutation::Flip(i, b) => Mutation::Flip(i % bytes.len(), b),
                    Mutation::Set(i, b) => Mutation::Set(i % bytes.len(), b),
                    Mutation::SetU32(i, v) if bytes.len() >= 4 => Mutation::SetU32(i % (bytes.len() - 3), v),
                    Mutation::Insert(i, b) => Mutation::Insert(i % (bytes.len() + 1), b),
                    Mutation::Delete(i) => Mutation::Delete(i % bytes.len()),
                    Mutation::Truncate(n) => Mutation::Truncate(n % bytes.len()),
                    _ => continue,
                };
                apply(&mut bytes, &m);
            }
        }
        if let Ok(m) = abi::decode(&bytes) {
            // Whatever decodes is internally consistent.
            prop_assert!(!m.identity.is_empty());
            prop_assert_eq!(m.fingerprint.packages[0].name, "plugspec");
            for (i, s) in m.symbols.iter().enumerate() {
                prop_assert!(!s.name.is_empty());
                prop_assert!(s.align.is_power_of_two());
                prop_assert!(m.symbols[..i].iter().all(|t| t.name != s.name));
            }
        }
    }
}

#[test]
fn the_good_manifest_decodes() {
    let m = abi::decode(&GOOD).unwrap();
    assert_eq!(m.identity, "props.plugin");
    assert_eq!(m.symbols.len(), 3);
    assert_eq!(m.fingerprint.build_id, Some("b-1"));
}
