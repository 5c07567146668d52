// Package extra is the fixtures' second shared package: the Go driver links it beside common,
// so a plugin built against different versions of both differs from the host in two packages,
// as the Rust kit's fixture-extra does.
package extra

// Version is the package's version; the alt copy differs in one byte.
var Version = "1"
