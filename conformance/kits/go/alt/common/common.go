// Package common is the fixtures' shared package: the Go driver links it too, so a plugin
// built against a different version of it is refused (VER-*), as the Rust kit's
// fixture-common is.
package common

import "os"

// InitLogEnv names the file every fixture appends its init events to.
const InitLogEnv = "PLUGSPEC_INIT_LOG"

// Version is the shared package's version; the alt copy differs in one byte.
var Version = "2"

// LogEvent appends "<event> <identity>" to the init log, in one write.
func LogEvent(event, identity string) {
	path := os.Getenv(InitLogEnv)
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	_, _ = f.Write([]byte(event + " " + identity + "\n"))
}
