// Package hooklib loads hook libraries into their own link-map namespace with
// dlmopen(LM_ID_NEWLM) and chooses the hook by zpoline-rs's three-stage fallback:
// the library named by ZPOLINE_HOOK (or LIBZPHOOK), then libzpoline_hook_impl.so next
// to the loader, then the built-in pass-through hook.
//
// A library's own libc is a second copy in that namespace; its system calls are never
// rewritten, so a hook does not recurse into itself.
package hooklib

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/zpoline-go/zpoline/internal/core"
	"github.com/zpoline-go/zpoline/internal/procmaps"
	"github.com/zpoline-go/zpoline/internal/vectorfree"
)

// The three ways loading a hook library fails; match them with errors.Is.
var (
	// ErrNotSpecified: no library was named for this stage.
	ErrNotSpecified = errors.New("no hook library specified")
	// ErrDlmopen: dlmopen refused the library; the LoadError carries dlerror's text.
	ErrDlmopen = errors.New("dlmopen failed")
	// ErrSymbolNotFound: the library exports none of the hook entry points.
	ErrSymbolNotFound = errors.New("symbol not found")
	// ErrRefused: the library's zpoline_hook_attach returned an error.
	ErrRefused = errors.New("hook library refused to attach")
)

// LoadError is a failed stage: which library, and why (one of the sentinels above).
type LoadError struct {
	Path   string // the library, as resolved
	Err    error  // ErrNotSpecified, ErrDlmopen, ErrSymbolNotFound or ErrRefused
	Detail string // dlerror's text, or the symbols looked for
}

func (e *LoadError) Error() string {
	if e.Path == "" {
		return e.Err.Error()
	}
	if e.Detail == "" {
		return fmt.Sprintf("hook library %s: %v", e.Path, e.Err)
	}
	return fmt.Sprintf("hook library %s: %v: %s", e.Path, e.Err, e.Detail)
}

// Unwrap returns the sentinel.
func (e *LoadError) Unwrap() error { return e.Err }

// ABI names the interface a library was loaded with.
type ABI string

// The ABIs a hook library can export.
const (
	ABIBuiltin ABI = "builtin"          // no library: the built-in pass-through hook
	ABIRS      ABI = "zpoline-rs"       // zpoline_hook_init / zpoline_hook_function
	ABIOrig    ABI = "zpoline-original" // __hook_init(long, void *)
)

// Loaded is the hook a stage produced.
type Loaded struct {
	Path  string // "" for the built-in hook
	ABI   ABI
	Flags uint32 // ZPOLINE_HOOK_* the library declared
	Hook  core.Hook
	// VectorFreeProven: the library did not declare ZPOLINE_HOOK_VECTOR_FREE, but
	// decoding its hook proved it (Hook.Flags has it): no vector save per call.
	VectorFreeProven bool
}

// BuiltinPass is the spelling that selects the built-in pass-through hook.
const BuiltinPass = "builtin:pass"

// ImplName is the default hook library looked for next to the loader.
const ImplName = "libzpoline_hook_impl.so"

// Stage is one step of the fallback.
type Stage struct {
	Name string // "ZPOLINE_HOOK", "LIBZPHOOK", "default", "builtin"
	Path string // library path, BuiltinPass, or "" when not specified
}

// Stages returns the fallback order for the given environment: the variable
// (ZPOLINE_HOOK wins over LIBZPHOOK), the default library in loaderDir, the built-in.
func Stages(getenv func(string) string, loaderDir string) []Stage {
	st := Stage{Name: "ZPOLINE_HOOK", Path: getenv("ZPOLINE_HOOK")}
	if st.Path == "" {
		if p := getenv("LIBZPHOOK"); p != "" {
			st = Stage{Name: "LIBZPHOOK", Path: p}
		}
	}
	return []Stage{st, {Name: "default", Path: filepath.Join(loaderDir, ImplName)}, {Name: "builtin", Path: BuiltinPass}}
}

// Resolve makes a relative library path absolute once, relative to the current
// directory at start-up, so that children running elsewhere load the same library.
func Resolve(p string) (string, error) {
	if p == "" || strings.HasPrefix(p, "builtin:") || filepath.IsAbs(p) {
		return p, nil
	}
	return filepath.Abs(p)
}

// Load loads one stage's library (or the built-in hook) and returns the hook to install.
func Load(path string) (Loaded, error) {
	switch {
	case path == "":
		return Loaded{}, &LoadError{Err: ErrNotSpecified}
	case path == BuiltinPass:
		return Loaded{ABI: ABIBuiltin, Flags: core.HookVectorFree | core.HookCloneSafe,
			Hook: core.Hook{Kind: core.HookPass, Flags: core.HookVectorFree | core.HookCloneSafe}}, nil
	case strings.HasPrefix(path, "builtin:"):
		return Loaded{}, &LoadError{Path: path, Err: ErrDlmopen,
			Detail: "unknown built-in hook (the built-in hook is " + BuiltinPass + ")"}
	}
	l := core.LoadHookLibrary(path)
	switch l.Result {
	case 0:
	case core.LoadDlmopen:
		return Loaded{}, &LoadError{Path: path, Err: ErrDlmopen, Detail: l.Detail}
	case core.LoadRefusedAttach:
		return Loaded{}, &LoadError{Path: path, Err: ErrRefused, Detail: fmt.Sprintf("zpoline_hook_attach returned %d", l.Code)}
	case core.LoadRefusedInit:
		return Loaded{}, &LoadError{Path: path, Err: ErrRefused, Detail: fmt.Sprintf("__hook_init returned %d", l.Code)}
	case core.LoadNullInit:
		return Loaded{}, &LoadError{Path: path, Err: ErrSymbolNotFound, Detail: "zpoline_hook_init returned NULL"}
	default:
		return Loaded{}, &LoadError{Path: path, Err: ErrSymbolNotFound,
			Detail: "exports none of zpoline_hook_init, zpoline_hook_function, __hook_init"}
	}
	out := Loaded{Path: path, Flags: l.Hook.Flags, ABI: ABIRS, Hook: l.Hook}
	if l.Orig {
		out.ABI = ABIOrig
	}
	if out.Hook.Kind == core.HookRegs && out.Hook.Flags&core.HookVectorFree == 0 {
		if ok, _ := ProveVectorFree(out.Hook.Fn); ok {
			out.Hook.Flags |= core.HookVectorFree
			out.VectorFreeProven = true
		}
	}
	return out, nil
}

// ProveVectorFree decodes the hook function at fn and everything it reaches
// (internal/vectorfree) in this process's executable mappings; if it never touches the
// vector, x87 or mask registers, the loader need not save them around it.
func ProveVectorFree(fn unsafe.Pointer) (bool, string) {
	maps, err := procmaps.Self()
	if err != nil {
		return false, err.Error()
	}
	var code []vectorfree.Range
	for _, m := range maps {
		if m.Read && m.Exec {
			code = append(code, vectorfree.Range{Start: m.Start, End: m.End})
		}
	}
	// unix.Open, not os.Open: no descriptor of the Go poller is left in the program.
	mem, err := unix.Open("/proc/self/mem", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false, err.Error()
	}
	defer unix.Close(mem)
	read := func(addr uint64, n int) ([]byte, error) {
		b := make([]byte, n)
		got, err := unix.Pread(mem, b, int64(addr))
		if err != nil {
			return nil, err
		}
		return b[:got], nil
	}
	return vectorfree.Prove(read, code, uint64(uintptr(fn)))
}

// Choose runs the stages in order and returns the first hook that loads, with one
// message per failed stage for the log (stages that were not specified say nothing,
// and a missing default library is reported only when verbose).
func Choose(stages []Stage, verbose bool) (Loaded, []string) {
	var msgs []string
	for i, st := range stages {
		l, err := Load(st.Path)
		if err == nil {
			return l, msgs
		}
		// Name the stage that will be tried for real: a missing default library is passed over.
		next := "none"
		for _, n := range stages[i+1:] {
			if n.Name != "default" || exists(n.Path) {
				next = n.Name
				break
			}
		}
		switch {
		case errors.Is(err, ErrNotSpecified):
		case st.Name == "default" && !exists(st.Path) && !verbose:
		default:
			msgs = append(msgs, fmt.Sprintf("%v (from %s); falling back to the %s hook", err, st.Name, next))
		}
	}
	return Loaded{}, msgs // unreachable: the built-in stage always loads
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
