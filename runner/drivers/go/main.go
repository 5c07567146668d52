// Command plugspec-go-driver answers the plugspec driver protocol (runner/PROTOCOL.md) with
// Go's standard `plugin` package as the loader under test.
//
// It reads one run request from standard input, carries out each step with plugin.Open and
// (*plugin.Plugin).Lookup, and writes one observation per step to standard output. It is never
// told what a case expects. Go's errors carry no kind: the driver maps their text to the
// protocol's error kinds with the table in errorKinds (documented in runner/PROTOCOL.md). A
// panic during plugin init is recovered and reported as init_panicked; a fatal runtime error or
// a hang is left to be what it is (the runner reports a crash or its time limit).
//
// The driver links the kit's shared packages fixtures/common and fixtures/extra, as a Rust host
// declares fixture-common and fixture-extra: a plugin built against a different version of
// either is refused.
package main

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdlib.h>
static int resolves_globally(const char *name) { return dlsym(RTLD_DEFAULT, name) != NULL; }
*/
import "C"

import (
	"bufio"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"plugin"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"fixtures/common"
	// Linked for its package hash alone: a plugin built against another version of it is
	// refused (the Go kit's mismatch-two differs from this host in common and extra).
	_ "fixtures/extra"
)

// ProtocolVersion is the protocol this driver speaks.
const ProtocolVersion = 2

// capabilities are what this driver can do (see PROTOCOL.md, "Capabilities"). Go's plugin
// package has no manifest, no typed lookup, no host context, no discovery and no fingerprint
// to inspect, so none of those are announced.
var capabilities = []string{"open", "lookup", "call", "read", "write", "init_log", "mapped", "global", "files", "elf_sections"}

type op struct {
	Op            string          `json:"op"`
	Path          *string         `json:"path"`
	Paths         []string        `json:"paths"`
	As            *string         `json:"as"`
	Threads       int             `json:"threads"`
	ReadAfter     *string         `json:"read_after"`
	Plugin        string          `json:"plugin"`
	Name          string          `json:"name"`
	Kind          *string         `json:"kind"`
	Type          *string         `json:"type"`
	Symbol        string          `json:"symbol"`
	Args          []int32         `json:"args"`
	Value         json.RawMessage `json:"value"`
	HostFn        *int32          `json:"host_fn"`
	Handles       []string        `json:"handles"`
	From          string          `json:"from"`
	To            string          `json:"to"`
	Target        string          `json:"target"`
	Link          string          `json:"link"`
	With          string          `json:"with"`
	Text          string          `json:"text"`
	Repeat        *int            `json:"repeat"`
	Len           uint64          `json:"len"`
	Offset        uint64          `json:"offset"`
	Hex           string          `json:"hex"`
	Section       *string         `json:"section"`
	SectionHeader *string         `json:"section_header"`
	Mode          string          `json:"mode"`
	User          string          `json:"user"`
	Ms            int64           `json:"ms"`
}

type request struct {
	Type     string `json:"type"`
	Protocol int    `json:"protocol"`
	Case     string `json:"case"`
	CaseDir  string `json:"case_dir"`
	Steps    []op   `json:"steps"`
}

type observedError struct {
	Kind            string   `json:"kind"`
	Message         string   `json:"message"`
	Path            string   `json:"path,omitempty"`
	PreviousFailure bool     `json:"previous_failure"`
	Differences     []string `json:"differences,omitempty"`
}

type threadObservation struct {
	Error       *observedError `json:"error,omitempty"`
	Read        *int32         `json:"read,omitempty"`
	SameAsFirst bool           `json:"same_as_first"`
}

type observedSymbol struct {
	Kind          string   `json:"kind"`
	Type          string   `json:"rust_type"`
	SameAddressAs []string `json:"same_address_as,omitempty"`
}

type observation struct {
	Type         string              `json:"type"`
	Step         int                 `json:"step"`
	Error        *observedError      `json:"error,omitempty"`
	HarnessError *string             `json:"harness_error,omitempty"`
	Panic        *string             `json:"panic,omitempty"`
	Identity     *string             `json:"identity,omitempty"`
	IdenticalTo  []string            `json:"identical_to,omitempty"`
	Value        *int32              `json:"value,omitempty"`
	Symbol       *observedSymbol     `json:"symbol,omitempty"`
	Threads      []threadObservation `json:"threads,omitempty"`
	Mapped       *bool               `json:"mapped,omitempty"`
	Found        *bool               `json:"found,omitempty"`
	Lines        *[]string           `json:"lines,omitempty"`
	DurationUs   int64               `json:"duration_us"`
}

// errorKinds maps Go's error texts to the protocol's error kinds, first match wins. The table
// is documented in runner/PROTOCOL.md; the strings are Go's since 1.10.
var errorKinds = []struct{ substring, kind string }{
	{"realpath failed", "not_found"},
	{"plugin already loaded", "already_loaded"},
	{"plugin was built with a different version of package", "version_mismatch"},
	{"could not find symbol", "missing_export"},
	{"not found in plugin", "symbol_not_found"},
	{"plugin: not implemented", "unsupported"},
	{"cannot read file data: Is a directory", "not_a_plugin"},
	{"Permission denied", "io"},
	{"file too short", "not_a_plugin"},
	{"invalid ELF header", "not_a_plugin"},
	{"cannot dynamically load", "not_a_plugin"},
	{"undefined symbol", "missing_export"},
}

func kindOf(message string) string {
	for _, e := range errorKinds {
		if strings.Contains(message, e.substring) {
			return e.kind
		}
	}
	return "not_a_plugin"
}

func observed(err error, path string) *observedError {
	m := err.Error()
	o := &observedError{Kind: kindOf(m), Message: m, PreviousFailure: strings.HasSuffix(m, "(previous failure)")}
	if path != "" && o.Kind != "symbol_not_found" {
		o.Path = path
	}
	if o.Kind == "version_mismatch" {
		// Go names the first differing package only.
		if i := strings.Index(m, "different version of package "); i >= 0 {
			pkg := strings.TrimSuffix(m[i+len("different version of package "):], " (previous failure)")
			o.Differences = []string{"package " + pkg}
		}
	}
	return o
}

type handle struct {
	name string
	p    *plugin.Plugin
}

type symbol struct {
	name string
	v    plugin.Symbol
}

type state struct {
	plugins []handle
	symbols []symbol
	sockets []net.Listener
}

func strp(s string) *string { return &s }

// identity is the plugin path Go's loader keeps for the plugin (an unexported field, read
// through reflect, which never changes it).
func identity(p *plugin.Plugin) string {
	return reflect.ValueOf(p).Elem().FieldByName("pluginpath").String()
}

func (s *state) identicalTo(p *plugin.Plugin) []string {
	var names []string
	for _, h := range s.plugins {
		if h.p == p {
			names = append(names, h.name)
		}
	}
	return names
}

func (s *state) bind(name *string, p *plugin.Plugin) {
	if name == nil {
		return
	}
	kept := s.plugins[:0]
	for _, h := range s.plugins {
		if h.name != *name {
			kept = append(kept, h)
		}
	}
	s.plugins = append(kept, handle{*name, p})
}

func (s *state) plugin(name string) (*plugin.Plugin, error) {
	for i := len(s.plugins) - 1; i >= 0; i-- {
		if s.plugins[i].name == name {
			return s.plugins[i].p, nil
		}
	}
	return nil, fmt.Errorf("no handle named %q", name)
}

func (s *state) symbol(name string) (plugin.Symbol, error) {
	for i := len(s.symbols) - 1; i >= 0; i-- {
		if s.symbols[i].name == name {
			return s.symbols[i].v, nil
		}
	}
	return nil, fmt.Errorf("no symbol named %q", name)
}

// errInitPanicked carries a panic recovered from plugin.Open (a panic in plugin init).
type errInitPanicked struct{ message string }

func (e errInitPanicked) Error() string { return "plugin init panicked: " + e.message }

// open calls plugin.Open, recovering a panic in the plugin's init as init_panicked.
func open(path string) (p *plugin.Plugin, err error) {
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, errInitPanicked{fmt.Sprint(r)}
		}
	}()
	return plugin.Open(path)
}

func openObserved(path string) (*plugin.Plugin, *observedError) {
	p, err := open(path)
	if err == nil {
		return p, nil
	}
	var panicked errInitPanicked
	if errors.As(err, &panicked) {
		return nil, &observedError{Kind: "init_panicked", Message: err.Error(), Path: path}
	}
	return nil, observed(err, path)
}

func readVariable(v plugin.Symbol) (int32, error) {
	switch p := v.(type) {
	case *int32:
		return atomic.LoadInt32(p), nil
	case *atomic.Int32:
		return p.Load(), nil
	default:
		return 0, fmt.Errorf("the driver reads only int32 and atomic.Int32 variables, not %T", v)
	}
}

func pointerOf(v plugin.Symbol) uintptr {
	return reflect.ValueOf(v).Pointer()
}

func kindName(v plugin.Symbol) string {
	if reflect.TypeOf(v).Kind() == reflect.Func {
		return "function"
	}
	return "variable"
}

func (s *state) step(o op) (obs observation, err error) {
	switch o.Op {
	case "open":
		if o.Path == nil {
			return obs, errors.New("open without a path")
		}
		p, e := openObserved(*o.Path)
		if e != nil {
			obs.Error = e
			return obs, nil
		}
		obs.Identity = strp(identity(p))
		obs.IdenticalTo = s.identicalTo(p)
		s.bind(o.As, p)
	case "open_concurrent":
		if o.Path == nil {
			return obs, errors.New("open_concurrent without a path")
		}
		return s.openConcurrent(*o.Path, o.Threads, o.As, o.ReadAfter)
	case "open_each":
		return s.openEach(o.Paths), nil
	case "lookup":
		if o.Type != nil {
			return obs, errors.New("typed lookup: Go's plugin package has none (capability typed_lookup)")
		}
		p, err := s.plugin(o.Plugin)
		if err != nil {
			return obs, err
		}
		v, e := p.Lookup(o.Name)
		if e != nil {
			obs.Error = observed(e, "")
			return obs, nil
		}
		var same []string
		for _, b := range s.symbols {
			if kindName(b.v) == kindName(v) && pointerOf(b.v) == pointerOf(v) {
				same = append(same, b.name)
			}
		}
		name := o.Name
		if o.As != nil {
			name = *o.As
		}
		kept := s.symbols[:0]
		for _, b := range s.symbols {
			if b.name != name {
				kept = append(kept, b)
			}
		}
		s.symbols = append(kept, symbol{name, v})
		obs.Symbol = &observedSymbol{Kind: kindName(v), Type: reflect.TypeOf(v).String(), SameAddressAs: same}
	case "call":
		v, err := s.symbol(o.Symbol)
		if err != nil {
			return obs, err
		}
		a := o.Args
		switch f := v.(type) {
		case func() int32:
			if len(a) == 0 {
				r := f()
				obs.Value = &r
				return obs, nil
			}
		case func(int32):
			if len(a) == 1 {
				f(a[0])
				return obs, nil
			}
		case func(int32) int32:
			if len(a) == 1 {
				r := f(a[0])
				obs.Value = &r
				return obs, nil
			}
		case func(int32, int32) int32:
			if len(a) == 2 {
				r := f(a[0], a[1])
				obs.Value = &r
				return obs, nil
			}
		}
		return obs, fmt.Errorf("the driver cannot call a %T with %d argument(s)", v, len(a))
	case "read":
		v, err := s.symbol(o.Symbol)
		if err != nil {
			return obs, err
		}
		r, err := readVariable(v)
		if err != nil {
			return obs, err
		}
		obs.Value = &r
	case "write":
		v, err := s.symbol(o.Symbol)
		if err != nil {
			return obs, err
		}
		switch p := v.(type) {
		case *int32:
			var v int32
			if o.Value != nil && json.Unmarshal(o.Value, &v) == nil {
				atomic.StoreInt32(p, v)
				return obs, nil
			}
		case *atomic.Int32:
			var v int32
			if o.Value != nil && json.Unmarshal(o.Value, &v) == nil {
				p.Store(v)
				return obs, nil
			}
		case *func() int32:
			if o.HostFn != nil {
				r := *o.HostFn
				*p = func() int32 { return r }
				return obs, nil
			}
		}
		return obs, fmt.Errorf("the driver writes int32 and atomic.Int32 values and func() int32 host functions, not into a %T", v)
	case "drop":
		// Go has no unload: dropping a handle only forgets its name.
		kept := s.plugins[:0]
		for _, h := range s.plugins {
			drop := false
			for _, n := range o.Handles {
				drop = drop || n == h.name
			}
			if !drop {
				kept = append(kept, h)
			}
		}
		s.plugins = kept
	case "env":
		var v string
		if err := json.Unmarshal(o.Value, &v); err != nil {
			return obs, fmt.Errorf("env %s: the value is not a string", o.Name)
		}
		return obs, os.Setenv(o.Name, v)
	case "mapped":
		m, err := isMapped(*o.Path)
		if err != nil {
			return obs, err
		}
		obs.Mapped = &m
	case "global":
		c := C.CString(o.Name)
		defer C.free(unsafe.Pointer(c))
		found := C.resolves_globally(c) != 0
		obs.Found = &found
	case "init_log":
		path := os.Getenv(common.InitLogEnv)
		if path == "" {
			return obs, errors.New("PLUGSPEC_INIT_LOG is not set")
		}
		text, _ := os.ReadFile(path)
		lines := []string{}
		for _, l := range strings.Split(string(text), "\n") {
			if l != "" {
				lines = append(lines, l)
			}
		}
		obs.Lines = &lines
	case "sleep":
		time.Sleep(time.Duration(o.Ms) * time.Millisecond)
	default:
		return obs, s.fileOp(o)
	}
	return obs, nil
}

func (s *state) openConcurrent(path string, threads int, as, readAfter *string) (observation, error) {
	var obs observation
	type result struct {
		p    *plugin.Plugin
		err  *observedError
		read *int32
		rerr error
	}
	results := make([]result, threads)
	var ready, start sync.WaitGroup
	var done sync.WaitGroup
	ready.Add(threads)
	start.Add(1)
	done.Add(threads)
	for i := 0; i < threads; i++ {
		go func(i int) {
			defer done.Done()
			runtime.LockOSThread()
			ready.Done()
			start.Wait()
			p, e := openObserved(path)
			results[i].p, results[i].err = p, e
			if p != nil && readAfter != nil {
				v, err := p.Lookup(*readAfter)
				if err == nil {
					var r int32
					r, err = readVariable(v)
					results[i].read = &r
				}
				results[i].rerr = err
			}
		}(i)
	}
	ready.Wait()
	start.Done()
	done.Wait()
	var first *plugin.Plugin
	for _, r := range results {
		if r.p != nil {
			first = r.p
			break
		}
	}
	for _, r := range results {
		if r.rerr != nil {
			return obs, fmt.Errorf("read_after: %v", r.rerr)
		}
		obs.Threads = append(obs.Threads, threadObservation{Error: r.err, Read: r.read, SameAsFirst: r.p != nil && r.p == first})
		if obs.Error == nil && r.err != nil {
			obs.Error = r.err
		}
	}
	if first != nil {
		obs.Identity = strp(identity(first))
		obs.IdenticalTo = s.identicalTo(first)
		s.bind(as, first)
	}
	return obs, nil
}

// openEach opens each path on its own goroutine (and OS thread), all released together.
func (s *state) openEach(paths []string) observation {
	var obs observation
	plugins := make([]*plugin.Plugin, len(paths))
	errs := make([]*observedError, len(paths))
	var ready, start, done sync.WaitGroup
	ready.Add(len(paths))
	start.Add(1)
	done.Add(len(paths))
	for i, path := range paths {
		go func(i int, path string) {
			defer done.Done()
			runtime.LockOSThread()
			ready.Done()
			start.Wait()
			plugins[i], errs[i] = openObserved(path)
		}(i, path)
	}
	ready.Wait()
	start.Done()
	done.Wait()
	for i := range paths {
		same := plugins[i] != nil && plugins[0] != nil && plugins[i] == plugins[0]
		obs.Threads = append(obs.Threads, threadObservation{Error: errs[i], SameAsFirst: same})
		if obs.Error == nil && errs[i] != nil {
			obs.Error = errs[i]
		}
	}
	return obs
}

func isMapped(path string) (bool, error) {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		if abs, err := filepath.Abs(real); err == nil {
			path = abs
		}
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return false, fmt.Errorf("cannot read /proc/self/maps: %v", err)
	}
	for _, l := range strings.Split(string(maps), "\n") {
		l = strings.TrimRight(l, " ")
		if strings.HasSuffix(l, path) || strings.HasSuffix(l, path+" (deleted)") {
			return true, nil
		}
	}
	return false, nil
}

func createParent(p string) error {
	if d := filepath.Dir(p); d != "." {
		return os.MkdirAll(d, 0o755)
	}
	return nil
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	mode := os.FileMode(0o755)
	if st, err := os.Stat(from); err == nil {
		mode = st.Mode().Perm()
	}
	return os.WriteFile(to, b, mode)
}

// baseOffset is where a truncate or patch counts from: a section's data or its header entry.
func baseOffset(path string, section, header *string) (uint64, error) {
	if section == nil && header == nil {
		return 0, nil
	}
	f, err := elf.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	name := section
	if name == nil {
		name = header
	}
	for i, s := range f.Sections {
		if s.Name != *name {
			continue
		}
		if section != nil {
			return s.Offset, nil
		}
		var shoff uint64
		var shentsize uint64 = 64
		raw, err := os.ReadFile(path)
		if err != nil {
			return 0, err
		}
		if f.Class == elf.ELFCLASS64 {
			shoff = f.ByteOrder.Uint64(raw[0x28:])
		} else {
			shoff = uint64(f.ByteOrder.Uint32(raw[0x20:]))
			shentsize = 40
		}
		return shoff + uint64(i)*shentsize, nil
	}
	return 0, fmt.Errorf("%s has no section %s", path, *name)
}

func (s *state) fileOp(o op) error {
	wrap := func(what string, err error) error {
		if err != nil {
			return fmt.Errorf("%s: %v", what, err)
		}
		return nil
	}
	switch o.Op {
	case "copy":
		if err := createParent(o.To); err != nil {
			return err
		}
		return wrap("copy "+o.From+" to "+o.To, copyFile(o.From, o.To))
	case "symlink":
		if err := createParent(o.Link); err != nil {
			return err
		}
		return wrap("symlink "+o.Link, os.Symlink(o.Target, o.Link))
	case "hardlink":
		if err := createParent(o.To); err != nil {
			return err
		}
		return wrap("hard link "+o.To, os.Link(o.From, o.To))
	case "delete":
		return wrap("delete "+*o.Path, os.Remove(*o.Path))
	case "replace":
		tmp := *o.Path + ".plugspec-replace"
		if err := copyFile(o.With, tmp); err != nil {
			return wrap("copy "+o.With, err)
		}
		return wrap("rename "+tmp, os.Rename(tmp, *o.Path))
	case "write_text":
		if err := createParent(*o.Path); err != nil {
			return err
		}
		n := 1
		if o.Repeat != nil {
			n = *o.Repeat
		}
		return wrap("write "+*o.Path, os.WriteFile(*o.Path, []byte(strings.Repeat(o.Text, n)), 0o644))
	case "mkdir":
		return wrap("mkdir "+*o.Path, os.MkdirAll(*o.Path, 0o755))
	case "mkfifo":
		return wrap("mkfifo "+*o.Path, syscall.Mkfifo(*o.Path, 0o644))
	case "mksocket":
		l, err := net.Listen("unix", *o.Path)
		if err != nil {
			return wrap("mksocket "+*o.Path, err)
		}
		s.sockets = append(s.sockets, l)
		return nil
	case "chmod":
		m, err := strconv.ParseUint(o.Mode, 8, 32)
		if err != nil {
			return fmt.Errorf("chmod %s: bad mode %q", *o.Path, o.Mode)
		}
		return wrap("chmod "+*o.Path, os.Chmod(*o.Path, os.FileMode(m)))
	case "chown":
		u, err := user.Lookup(o.User)
		if err != nil {
			return fmt.Errorf("chown %s: %v", *o.Path, err)
		}
		uid, errU := strconv.Atoi(u.Uid)
		gid, errG := strconv.Atoi(u.Gid)
		if errU != nil || errG != nil {
			return fmt.Errorf("chown %s: user %s has no numeric uid and gid", *o.Path, o.User)
		}
		return wrap("chown "+*o.Path, os.Lchown(*o.Path, uid, gid))
	case "truncate":
		base, err := baseOffset(*o.Path, o.Section, o.SectionHeader)
		if err != nil {
			return err
		}
		return wrap("truncate "+*o.Path, os.Truncate(*o.Path, int64(base+o.Len)))
	case "patch":
		base, err := baseOffset(*o.Path, o.Section, o.SectionHeader)
		if err != nil {
			return err
		}
		b, err := hex.DecodeString(o.Hex)
		if err != nil {
			return fmt.Errorf("patch %s: bad hex %q", *o.Path, o.Hex)
		}
		f, err := os.OpenFile(*o.Path, os.O_WRONLY, 0)
		if err != nil {
			return wrap("patch "+*o.Path, err)
		}
		defer f.Close()
		_, err = f.WriteAt(b, int64(base+o.Offset))
		return wrap("patch "+*o.Path, err)
	}
	return fmt.Errorf("the Go driver does not carry out %q", o.Op)
}

func main() {
	out := bufio.NewWriter(os.Stdout)
	// The protocol keeps standard output; a plugin's prints go to standard error.
	protocolOut, err := syscall.Dup(1)
	if err == nil && syscall.Dup2(2, 1) == nil {
		out = bufio.NewWriter(os.NewFile(uintptr(protocolOut), "protocol"))
	}
	send := func(v any) {
		b, _ := json.Marshal(v)
		out.Write(b)
		out.WriteString("\n")
		out.Flush()
	}
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil && line == "" {
		fmt.Fprintln(os.Stderr, "plugspec-go-driver: cannot read the request:", err)
		os.Exit(3)
	}
	var req request
	if err := json.Unmarshal([]byte(line), &req); err != nil {
		fmt.Fprintln(os.Stderr, "plugspec-go-driver: malformed request:", err)
		os.Exit(3)
	}
	if req.Protocol != ProtocolVersion {
		fmt.Fprintf(os.Stderr, "plugspec-go-driver: the parent speaks protocol %d, this driver %d\n", req.Protocol, ProtocolVersion)
		os.Exit(3)
	}
	send(map[string]any{
		"type":         "hello",
		"protocol":     ProtocolVersion,
		"driver":       "plugspec-go-driver 0.1.0",
		"loader":       "Go " + runtime.Version() + " plugin (" + runtime.GOOS + "/" + runtime.GOARCH + ")",
		"capabilities": capabilities,
		"kit":          "go-plugin",
	})
	s := &state{}
	for i, o := range req.Steps {
		started := time.Now()
		obs, err := s.step(o)
		if err != nil {
			obs.HarnessError = strp(err.Error())
		}
		obs.Type = "observation"
		obs.Step = i
		obs.DurationUs = time.Since(started).Microseconds()
		send(obs)
	}
	send(map[string]any{"type": "done"})
}
