//! # plugspec — the contract for runtime plugin loaders
//!
//! A *plugin loader* loads separately compiled shared libraries into a running process and
//! resolves named functions and variables from them. plugspec specifies how one must behave —
//! Go's `plugin` package carried over to Rust, made stricter where Go crashes or hangs — and
//! ships everything needed to build, load and check plugins against that specification:
//!
//! | concern | where it is decided |
//! |---|---|
//! | the normative rules, with stable IDs (`OPEN-1`, …) | `SPEC.md`, as data in [`rules`] |
//! | what any loader provides: `open`, `lookup`, typed symbols | [`contract`] ([`Loader`], [`Plugin`], [`Symbol`]) |
//! | the closed set of errors and their wording | [`error`] ([`Error`], [`ErrorKind`]) |
//! | the plugin ABI: manifest bytes, descriptor, init entry | [`abi`] |
//! | build fingerprints and the host's comparison | [`fingerprint`] |
//! | the SDK for plugin authors | [`sdk`] and the [`plugin!`] macro |
//! | shared packages: their build records and source hashes, from their build scripts | [`shared_package`] (also as `plugspec::build`, the path build scripts use) and the [`package!`] macro |
//! | which targets load plugins | [`platform`] |
//! | loading a directory of plugins, failing soft | [`discovery`] |
//! | the reference loader (feature `loader`, on by default) | `loader` ([`ReferenceLoader`]) |
//! | a plugin's manifest read from its file, nothing mapped (feature `loader`) | [`read_manifest`] |
//!
//! ## For host authors
//!
//! ```no_run
//! # #[cfg(feature = "loader")] {
//! use plugspec::{HostConfig, Loader, Plugin, ReferenceLoader};
//!
//! let loader = ReferenceLoader::with_host(HostConfig::new());
//! let plugin = loader.open("plugins/libadder.so".as_ref())?;
//! let add = plugspec::function!(plugin, "add", extern "C" fn(i32, i32) -> i32)?;
//! assert_eq!(add(2, 3), 5);
//! # }
//! # Ok::<(), plugspec::Error>(())
//! ```
//!
//! ## For plugin authors
//!
//! Depend on `plugspec` with `default-features = false`, make the crate a `cdylib`, and declare
//! what it exports with [`plugin!`] (see [`sdk`]).
//!
//! ## For loader authors
//!
//! Implement [`Loader`] and run the conformance suite (`plugspec-runner`) from your `cargo test`.
//!
//! ## Changes to the crate's API
//!
//! The crate's API is versioned by its own number (`Cargo.toml`), apart from SPEC.md's
//! ([`rules::SPEC_VERSION`]). Changes that need a caller to change:
//!
//! - [`Difference::item`] is a [`FingerprintItem`] instead of a `String`. Its `Display` is the
//!   former text, byte for byte (`toolchain`, `package <name>`, `features of <name>`, …), and
//!   it compares equal to that text (`item == "package common"`), so `d.item.to_string()`
//!   replaces `d.item.clone()` and `d.item.as_str()`; a loader that builds a [`Difference`]
//!   names the item with a variant (`FingerprintItem::Package(name)`). Every message is
//!   unchanged.

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod abi;
pub mod contract;
pub mod discovery;
pub mod error;
pub mod fingerprint;
#[cfg(feature = "loader")]
#[cfg_attr(docsrs, doc(cfg(feature = "loader")))]
pub mod loader;
pub mod platform;
pub mod rules;
pub mod sdk;
pub mod shared_package;
mod symbol_info;

/// [`shared_package`] under the path build scripts call: `plugspec::build::shared_package()`.
pub use shared_package as build;

pub use contract::{Loader, Plugin, Symbol, SymbolKind};
pub use error::{Difference, Error, ErrorKind};
pub use fingerprint::{FingerprintItem, HostConfig, Package};
#[cfg(feature = "loader")]
#[cfg_attr(docsrs, doc(cfg(feature = "loader")))]
pub use loader::read::{ManifestFile, read_manifest};
#[cfg(feature = "loader")]
#[cfg_attr(docsrs, doc(cfg(feature = "loader")))]
pub use loader::{LoadedPlugin, ReferenceLoader};
