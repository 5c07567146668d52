use super::decoding::{Names, utf8};
use super::*;
use crate::contract::SymbolKind;
use crate::fingerprint::{Package, THIS_BUILD};

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
        name: "V",
        rust_type: "i32",
        size: 4,
        align: 4,
    },
];
const SPEC: ManifestSpec = ManifestSpec {
    identity: "test.plugin",
    build: THIS_BUILD,
    api_version: Some(3),
    build_id: None,
    packages: &[Package {
        name: "common",
        version: "0.1.0",
        hash: "00ff",
    }],
    symbols: SYMBOLS,
    has_init: true,
};
const LEN: usize = SPEC.encoded_len();
const BYTES: [u8; LEN] = SPEC.encode::<LEN>();

#[test]
fn encode_then_decode_round_trips() {
    let m = decode(&BYTES).unwrap();
    assert_eq!(m.identity, "test.plugin");
    assert!(m.has_init);
    assert_eq!(m.fingerprint.api_version, Some(3));
    assert_eq!(m.fingerprint.build_id, None);
    assert_eq!(m.fingerprint.build, THIS_BUILD);
    let names: Vec<_> = m.fingerprint.packages.iter().map(|p| p.name).collect();
    assert_eq!(names, ["plugspec", "common"]);
    assert_eq!(m.symbols.len(), 2);
    assert_eq!(m.symbols[1].name, "V");
    assert_eq!(m.symbols[1].storage, Storage::StaticMut);
}

#[test]
fn every_truncation_is_a_clean_error() {
    for len in 0..BYTES.len() {
        let e = decode(&BYTES[..len]).unwrap_err();
        if len >= 12 {
            assert!(matches!(e, ManifestError::Corrupt { .. }), "{len}: {e}");
        }
    }
}

#[test]
fn every_single_byte_flip_is_decoded_or_refused_without_panic() {
    for i in 0..BYTES.len() {
        for bit in 0..8 {
            let mut b = BYTES;
            b[i] ^= 1 << bit;
            let _ = decode(&b);
        }
    }
}

#[test]
fn magic_and_version_are_told_apart() {
    let mut b = BYTES;
    b[0] = b'X';
    assert_eq!(decode(&b), Err(ManifestError::BadMagic));
    let mut b = BYTES;
    b[8] = 7;
    assert_eq!(decode(&b), Err(ManifestError::UnknownVersion(7)));
}

#[test]
fn out_of_range_counts_name_the_offset() {
    // The symbol count is the last u32 before the first symbol record.
    let m = decode(&BYTES).unwrap();
    assert_eq!(m.symbols.len(), 2);
    let mut b = BYTES;
    const NO_SYMBOLS: ManifestSpec = ManifestSpec {
        symbols: &[],
        ..SPEC
    };
    let first_symbol = NO_SYMBOLS.encoded_len();
    b[first_symbol - 4..first_symbol].copy_from_slice(&u32::MAX.to_le_bytes());
    let e = decode(&b).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "corrupt manifest at byte {}: symbol count 4294967295 cannot fit in the {} bytes left",
            first_symbol - 4,
            BYTES.len() - first_symbol
        )
    );
}

#[test]
fn duplicate_names_and_bad_utf8_are_refused() {
    const DUP: ManifestSpec = ManifestSpec {
        symbols: &[SYMBOLS[0], SYMBOLS[0]],
        ..SPEC
    };
    const DLEN: usize = DUP.encoded_len();
    let e = decode(&DUP.encode::<DLEN>()).unwrap_err();
    assert!(e.to_string().contains("symbol add is listed twice"), "{e}");
    let mut b = BYTES;
    let at = HEADER_LEN + 4; // first byte of the identity
    b[at] = 0xff;
    let e = decode(&b).unwrap_err();
    assert_eq!(
        e,
        ManifestError::Corrupt {
            offset: at,
            what: "identity is not UTF-8".into()
        }
    );
}

#[test]
fn duplicates_are_found_among_few_names_and_many() {
    for n in [0, 1, Names::FEW, Names::FEW + 1, 1_000] {
        let names: Vec<String> = (0..n).map(|i| format!("n{i}")).collect();
        let mut seen = Names::with_capacity(n);
        assert!(
            names.iter().all(|name| seen.insert(name)),
            "{n} distinct names"
        );
        for name in &names {
            assert!(!seen.insert(name), "{name} again, among {n}");
        }
    }
}

#[test]
fn text_is_checked_as_utf8_with_an_ascii_fast_path() {
    assert_eq!(utf8(b"plain_ascii"), Ok("plain_ascii"));
    assert_eq!(utf8("caf\u{e9}".as_bytes()), Ok("caf\u{e9}"));
    assert_eq!(utf8(b"ab\xffcd").unwrap_err().valid_up_to(), 2);
    assert_eq!(utf8(b""), Ok(""));
}

#[test]
fn identities_are_bounded_printable_text() {
    // OPEN-9.
    assert_eq!(identity_problem(""), Some("the identity is empty"));
    assert_eq!(identity_problem(&"x".repeat(255)), None);
    assert_eq!(
        identity_problem(&"x".repeat(256)),
        Some("the identity is longer than 255 bytes")
    );
    assert_eq!(identity_problem("fixtures.bäsic-ünïcode"), None);
    for bad in ["a\0b", "a\nb", "a\u{7f}b", "a\u{85}b"] {
        assert_eq!(
            identity_problem(bad),
            Some("the identity contains a control character"),
            "{bad:?}"
        );
    }
    // And the decoder applies it.
    let mut spec = SPEC;
    spec.identity = "tab\there";
    const LEN: usize = SPEC.encoded_len() - "test.plugin".len() + "tab\there".len();
    let bytes = spec.encode::<LEN>();
    let e = decode(&bytes).unwrap_err();
    assert!(e.to_string().contains("control character"), "{e}");
}

#[test]
fn a_manifest_describes_itself() {
    let text = decode(&BYTES).unwrap().to_string();
    assert!(text.starts_with("identity:        test.plugin\n"), "{text}");
    assert!(text.contains("api version:     3\n"), "{text}");
    assert!(
        text.contains("  function add: extern \"C\" fn(i32, i32) -> i32 (size 8, align 8)\n"),
        "{text}"
    );
    assert!(
        text.contains("  variable V: i32 (size 4, align 4, static mut)\n"),
        "{text}"
    );
    assert!(text.contains("  common 0.1.0 #00ff\n"), "{text}");
}

#[test]
fn outcome_truncates_at_a_char_boundary() {
    let mut o = Outcome::default();
    let long = "é".repeat(MESSAGE_CAPACITY);
    o.set(1, &long);
    assert_eq!(o.message().len(), MESSAGE_CAPACITY);
    o.message_len = 5000;
    assert_eq!(o.message().len(), MESSAGE_CAPACITY);
}
