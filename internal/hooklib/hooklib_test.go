package hooklib

// Unit tests of the hook-library loader: the three failure kinds of Load, the ABIs it
// recognises, the fallback order of Stages, Resolve and Choose's messages.
//
// They dlmopen real libraries from the build directory (ZPOLINE_BUILD, default
// ../../build): run `make` first. Every successful dlmopen(LM_ID_NEWLM) uses up one of
// glibc's 16 link-map namespaces for the life of the test binary, so the tests load each
// library once.

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/zpoline-go/zpoline/internal/core"
)

// buildDir returns the absolute build directory, failing when it was not built.
func buildDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("ZPOLINE_BUILD")
	if dir == "" {
		dir = filepath.Join("..", "..", "build")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatalf("resolve build directory %q: %v", dir, err)
	}
	return abs
}

// artifact returns build/<rel>, failing (never skipping) when it is missing.
func artifact(t *testing.T, rel string) string {
	t.Helper()
	p := filepath.Join(buildDir(t), rel)
	if st, err := os.Stat(p); err != nil || st.IsDir() {
		t.Fatalf("build artifact %s missing: run make first (or set ZPOLINE_BUILD to the "+
			"build directory)", p)
	}
	return p
}

// libm is a real shared library that exports none of the hook entry points.
func libm(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/lib/x86_64-linux-gnu/libm.so.6", "/usr/lib/x86_64-linux-gnu/libm.so.6",
		"/lib64/libm.so.6", "/usr/lib64/libm.so.6"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skip("no libm.so.6 found in the usual places: cannot test a library without hook symbols")
	return ""
}

func TestLoadNotSpecified(t *testing.T) {
	l, err := Load("")
	if !errors.Is(err, ErrNotSpecified) {
		t.Fatalf("Load(\"\") = %+v, %v; want ErrNotSpecified", l, err)
	}
}

func TestLoadDlmopenFails(t *testing.T) {
	const path = "/nonexistent.so"
	l, err := Load(path)
	if !errors.Is(err, ErrDlmopen) {
		t.Fatalf("Load(%q) = %+v, %v; want ErrDlmopen", path, l, err)
	}
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("Load(%q) error %T (%v) is not a *LoadError", path, err, err)
	}
	if le.Path != path {
		t.Errorf("LoadError.Path = %q, want %q", le.Path, path)
	}
	// dlerror's text names the file and why it could not be opened.
	if !strings.Contains(le.Detail, path) || !strings.Contains(le.Detail, "cannot open shared object file") {
		t.Errorf("LoadError.Detail = %q: want dlerror's text naming %s", le.Detail, path)
	}
	if msg := err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, le.Detail) {
		t.Errorf("error text %q does not carry the path and dlerror's text", msg)
	}
}

func TestLoadNoHookSymbols(t *testing.T) {
	path := libm(t)
	l, err := Load(path)
	if !errors.Is(err, ErrSymbolNotFound) {
		t.Fatalf("Load(%q) = %+v, %v; want ErrSymbolNotFound", path, l, err)
	}
	var le *LoadError
	if !errors.As(err, &le) || le.Path != path {
		t.Fatalf("Load(%q) error %v: want a *LoadError with Path %q", path, err, path)
	}
	for _, sym := range []string{"zpoline_hook_init", "zpoline_hook_function", "__hook_init"} {
		if !strings.Contains(err.Error(), sym) {
			t.Errorf("error %q does not list the symbol %s looked for", err, sym)
		}
	}
}

func TestLoadBuiltin(t *testing.T) {
	l, err := Load(BuiltinPass)
	if err != nil {
		t.Fatalf("Load(%q): %v", BuiltinPass, err)
	}
	if l.ABI != ABIBuiltin || l.Path != "" || l.Hook.Kind != core.HookPass {
		t.Errorf("Load(%q) = %+v; want ABI %q, no path, the pass-through hook kind", BuiltinPass, l, ABIBuiltin)
	}

	l, err = Load("builtin:nope")
	if err == nil {
		t.Fatalf("Load(\"builtin:nope\") = %+v; want an error", l)
	}
	if !strings.Contains(err.Error(), "builtin:nope") || !strings.Contains(err.Error(), BuiltinPass) {
		t.Errorf("Load(\"builtin:nope\") error %q should name the spelling and the known built-in %s", err, BuiltinPass)
	}
}

// realLibs are loaded once each (namespaces are a scarce resource).
var realLibs struct {
	sync.Mutex
	loaded map[string]loadResult
}

type loadResult struct {
	l   Loaded
	err error
}

func loadOnce(t *testing.T, path string) (Loaded, error) {
	t.Helper()
	realLibs.Lock()
	defer realLibs.Unlock()
	if realLibs.loaded == nil {
		realLibs.loaded = map[string]loadResult{}
	}
	r, ok := realLibs.loaded[path]
	if !ok {
		r.l, r.err = Load(path)
		realLibs.loaded[path] = r
	}
	return r.l, r.err
}

func TestLoadRealLibraries(t *testing.T) {
	cases := []struct {
		name      string
		rel       string
		abi       ABI
		wantFlags uint32 // bits that must be set in Flags
		kind      core.HookKind
	}{
		{"default-impl", ImplName, ABIRS, core.HookVectorFree | core.HookCloneSafe, core.HookRegs},
		{"testhook-orig", "tests/testhook_orig.so", ABIOrig, 0, core.HookOrig},
		{"testhook-rs", "tests/testhook_rs.so", ABIRS, 0, core.HookRegs},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := artifact(t, c.rel)
			l, err := loadOnce(t, path)
			if err != nil {
				t.Fatalf("Load(%q): %v", path, err)
			}
			if l.ABI != c.abi {
				t.Errorf("Load(%q).ABI = %q, want %q", path, l.ABI, c.abi)
			}
			if l.Path != path {
				t.Errorf("Load(%q).Path = %q", path, l.Path)
			}
			if l.Flags&c.wantFlags != c.wantFlags {
				t.Errorf("Load(%q).Flags = %#x, want bits %#x set", path, l.Flags, c.wantFlags)
			}
			if l.Hook.Kind != c.kind {
				t.Errorf("Load(%q).Hook.Kind = %v, want %v", path, l.Hook.Kind, c.kind)
			}
			if l.Hook.Flags != l.Flags {
				t.Errorf("Load(%q): Hook.Flags %#x != Flags %#x", path, l.Hook.Flags, l.Flags)
			}
			if c.kind == core.HookRegs && l.Hook.Fn == nil {
				t.Errorf("Load(%q): zpoline-rs hook without a function", path)
			}
		})
	}
}

func TestStages(t *testing.T) {
	const dir = "/opt/zp/lib"
	defaultStage := Stage{Name: "default", Path: filepath.Join(dir, ImplName)}
	builtinStage := Stage{Name: "builtin", Path: BuiltinPass}
	cases := []struct {
		name  string
		env   map[string]string
		first Stage
	}{
		{"none", nil, Stage{Name: "ZPOLINE_HOOK", Path: ""}},
		{"zpoline-hook", map[string]string{"ZPOLINE_HOOK": "/a.so"}, Stage{Name: "ZPOLINE_HOOK", Path: "/a.so"}},
		{"libzphook-alone", map[string]string{"LIBZPHOOK": "/b.so"}, Stage{Name: "LIBZPHOOK", Path: "/b.so"}},
		{"zpoline-hook-wins", map[string]string{"ZPOLINE_HOOK": "/a.so", "LIBZPHOOK": "/b.so"},
			Stage{Name: "ZPOLINE_HOOK", Path: "/a.so"}},
		{"empty-zpoline-hook-uses-libzphook", map[string]string{"ZPOLINE_HOOK": "", "LIBZPHOOK": "/b.so"},
			Stage{Name: "LIBZPHOOK", Path: "/b.so"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Stages(func(k string) string { return c.env[k] }, dir)
			want := []Stage{c.first, defaultStage, builtinStage}
			if len(got) != len(want) {
				t.Fatalf("Stages = %+v, want %+v", got, want)
			}
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("stage %d = %+v, want %+v (all: %+v)", i, got[i], want[i], got)
				}
			}
		})
	}
}

func TestResolve(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ in, want string }{
		{"", ""},
		{BuiltinPass, BuiltinPass},
		{"builtin:nope", "builtin:nope"},
		{"/abs/hook.so", "/abs/hook.so"},
		{"build/tests/testhook_rs.so", filepath.Join(wd, "build/tests/testhook_rs.so")},
		{"./x.so", filepath.Join(wd, "x.so")},
		{"../y/z.so", filepath.Join(filepath.Dir(wd), "y/z.so")},
	}
	for _, c := range cases {
		got, err := Resolve(c.in)
		if err != nil {
			t.Errorf("Resolve(%q): %v", c.in, err)
			continue
		}
		if got != c.want {
			t.Errorf("Resolve(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestChooseFallsBack(t *testing.T) {
	impl := artifact(t, ImplName)
	missingDefault := filepath.Join(t.TempDir(), ImplName)
	cases := []struct {
		name     string
		stages   []Stage
		verbose  bool
		wantABI  ABI
		wantPath string
		// one substring list per expected message
		wantMsgs [][]string
	}{
		{
			name: "dlmopen-failure-then-default",
			stages: []Stage{{Name: "ZPOLINE_HOOK", Path: "/nonexistent.so"},
				{Name: "default", Path: impl}, {Name: "builtin", Path: BuiltinPass}},
			wantABI: ABIRS, wantPath: impl,
			wantMsgs: [][]string{{"/nonexistent.so", "dlmopen failed", "cannot open shared object file",
				"ZPOLINE_HOOK", "default"}},
		},
		{
			name: "unspecified-and-missing-default-are-quiet",
			stages: []Stage{{Name: "ZPOLINE_HOOK", Path: ""},
				{Name: "default", Path: missingDefault}, {Name: "builtin", Path: BuiltinPass}},
			wantABI: ABIBuiltin, wantPath: "",
		},
		{
			name: "missing-default-reported-when-verbose",
			stages: []Stage{{Name: "ZPOLINE_HOOK", Path: ""},
				{Name: "default", Path: missingDefault}, {Name: "builtin", Path: BuiltinPass}},
			verbose: true, wantABI: ABIBuiltin, wantPath: "",
			wantMsgs: [][]string{{missingDefault, "dlmopen failed", "builtin"}},
		},
		{
			name: "unknown-builtin-then-builtin",
			stages: []Stage{{Name: "ZPOLINE_HOOK", Path: "builtin:nope"},
				{Name: "default", Path: missingDefault}, {Name: "builtin", Path: BuiltinPass}},
			wantABI: ABIBuiltin, wantPath: "",
			wantMsgs: [][]string{{"builtin:nope"}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l, msgs := Choose(c.stages, c.verbose)
			if l.ABI != c.wantABI || l.Path != c.wantPath {
				t.Errorf("Choose chose ABI %q path %q, want ABI %q path %q", l.ABI, l.Path, c.wantABI, c.wantPath)
			}
			if len(msgs) != len(c.wantMsgs) {
				t.Fatalf("Choose gave %d messages, want %d:\n%s", len(msgs), len(c.wantMsgs), strings.Join(msgs, "\n"))
			}
			for i, subs := range c.wantMsgs {
				if strings.Contains(msgs[i], "\n") {
					t.Errorf("message %d spans lines: %q", i, msgs[i])
				}
				for _, s := range subs {
					if !strings.Contains(msgs[i], s) {
						t.Errorf("message %d %q does not mention %q", i, msgs[i], s)
					}
				}
			}
		})
	}
}
