// Package loader is libzpoline.so: imported by a `package main` built with
// -buildmode=c-shared, it maps the trampoline at address 0, rewrites every system-call
// instruction of the process and installs the hook, from a constructor that runs when
// the library is preloaded.
//
// A user's own c-shared main that imports this package is a complete loader.
//
// Start-up is Go (it runs once, on the main thread, before main); everything that runs
// per system call is C and assembly in internal/core.
package loader

import "C"

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/zpoline-go/zpoline/internal/core"
	"github.com/zpoline-go/zpoline/internal/hooklib"
	"github.com/zpoline-go/zpoline/internal/procmaps"
	"github.com/zpoline-go/zpoline/internal/sitecache"
)

// Errors of start-up; each message names the cause and the fix.
var (
	// ErrPageZero: the kernel refused to map the trampoline at address 0.
	ErrPageZero = errors.New("cannot map the trampoline at address 0")
	// ErrNoFarPage: no address was free for the trampoline's far page.
	ErrNoFarPage = core.ErrNoFarPage
	// ErrProcMem: /proc/self/mem could not be opened to write code.
	ErrProcMem = errors.New("cannot open /proc/self/mem to write code")
)

// Config is what the environment asks of the loader.
type Config struct {
	Exclude       []string // ZPOLINE_EXCLUDE: object names or paths left unrewritten
	Debug         bool     // ZPOLINE_DEBUG=1: every site rewritten or skipped
	Stats         string   // ZPOLINE_STATS: file, or "-" for stderr
	AllowUnhooked bool     // ZPOLINE_ALLOW_UNHOOKED=1: run on unhooked when set-up fails
	CacheDir      string   // where found sites are kept per file; "" with ZPOLINE_CACHE=0
}

// ConfigFromEnv reads the loader's environment variables.
func ConfigFromEnv(getenv func(string) string) Config {
	c := Config{Debug: getenv("ZPOLINE_DEBUG") == "1", Stats: getenv("ZPOLINE_STATS"),
		AllowUnhooked: getenv("ZPOLINE_ALLOW_UNHOOKED") == "1"}
	if getenv("ZPOLINE_CACHE") != "0" {
		c.CacheDir = sitecache.Dir(getenv)
	}
	for _, e := range strings.Split(getenv("ZPOLINE_EXCLUDE"), ":") {
		if e != "" {
			c.Exclude = append(c.Exclude, e)
		}
	}
	return c
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "zpoline: "+format+"\n", args...)
}

// init runs on the Go runtime's own thread while the loader's constructor waits for it:
// the warm start (internal/core/zp_warm.c) waits for GoInitDone. A hook library the warm
// start installed is proven vector-free here when it can be, before the program runs.
func init() {
	core.NewCodeWorkerReady() // requests posted before it runs wait for it
	go newCodeWorker()
	if fn := core.WarmHookToProve(); fn != nil {
		if ok, _ := hooklib.ProveVectorFree(fn); ok { // as hooklib.Load does on the Go start-up
			core.MarkBaseHookVectorFree()
		}
	}
	core.GoInitDone()
}

//export zpolineStart
func zpolineStart() {
	startWith(func(cfg Config) (*Report, error) { return Start(cfg) })
}

// zpolineFinishWarm finishes a warm start (internal/core/zp_warm.c) whose hook library
// did not load: the process is rewritten; the hook stages, their messages and the rest
// of the start-up run here.
//
//export zpolineFinishWarm
func zpolineFinishWarm() {
	startWith(func(cfg Config) (*Report, error) {
		maps, err := procmaps.Self()
		if err != nil {
			return nil, fmt.Errorf("read /proc/self/maps: %w", err)
		}
		self, ok := ownMapping(maps, core.EntryCall())
		if !ok {
			return nil, errors.New("cannot find the loader's own mapping in /proc/self/maps")
		}
		rep := &Report{LoaderPath: self.Path}
		return rep, finishStart(cfg, rep)
	})
}

// startWith runs a start-up on the main thread and handles its failure as the
// configuration asks.
func startWith(start func(Config) (*Report, error)) {
	core.RestoreStdioFlags() // the Go runtime has started: its os package saw blocking stdio
	cfg := ConfigFromEnv(os.Getenv)
	t0 := time.Now()
	rep, err := start(cfg)
	if err != nil {
		if cfg.AllowUnhooked {
			logf("%v; running unhooked (ZPOLINE_ALLOW_UNHOOKED=1)", err)
			return
		}
		logf("%v; not running the program unhooked (set ZPOLINE_ALLOW_UNHOOKED=1 to allow it)", err)
		os.Exit(127)
	}
	rep.Elapsed = time.Since(t0)
	if cfg.Stats != "" {
		core.SetStats(rep.String(), statsFD(cfg.Stats))
	}
}

// statsFD opens where ZPOLINE_STATS asks the statistics to go: a file (appended to), or
// for "-" (and when the file cannot be opened) a duplicate of stderr, because programs
// close fd 2 before they exit (coreutils do).
func statsFD(name string) int {
	if name != "-" {
		fd, err := unix.Open(name, unix.O_WRONLY|unix.O_CREAT|unix.O_APPEND|unix.O_CLOEXEC, 0o644)
		if err == nil {
			return fd
		}
		logf("ZPOLINE_STATS: %s: %v; statistics go to stderr", name, err)
	}
	fd, err := unix.FcntlInt(2, unix.F_DUPFD_CLOEXEC, 900)
	if err != nil {
		return 2
	}
	return fd
}

// Start sets up the trampoline, rewrites the process and installs the hook.
func Start(cfg Config) (*Report, error) {
	// No garbage collection during start-up: a collection starts the runtime's
	// scavenger, whose timer opens an epoll and an eventfd in the program.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	rep := &Report{}
	// unix.Open, not os.OpenFile: no descriptor of the Go poller is left in the program.
	fd, err := unix.Open("/proc/self/mem", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: %v (is /proc mounted?)", ErrProcMem, err)
	}
	mem := os.NewFile(uintptr(fd), "/proc/self/mem")
	defer mem.Close()
	if err := mapTrampoline(mem); err != nil {
		return nil, err
	}
	if err := rewriteProcess(mem, cfg, rep); err != nil {
		return nil, err
	}
	return rep, finishStart(cfg, rep)
}

// finishStart chooses and installs the hook in a rewritten process and lets the
// program's Go hooks and new-code rewriting begin.
func finishStart(cfg Config, rep *Report) error {
	loaderDir := filepath.Dir(rep.LoaderPath)
	stages := hooklib.Stages(os.Getenv, loaderDir)
	for i, st := range stages[:1] {
		abs, err := hooklib.Resolve(st.Path)
		if err == nil && abs != st.Path {
			// Children that exec in another directory load the same library.
			os.Setenv(st.Name, abs)
			stages[i].Path = abs
		}
	}
	// What the hook namespaces map is never rewritten, now or later (zp_hookload.c).
	loaded, msgs := hooklib.Choose(stages, cfg.Debug)
	for _, m := range msgs {
		logf("%s", m)
	}
	core.InstallHook(loaded.Hook)
	rep.Hook = string(loaded.ABI)
	if loaded.Path != "" {
		rep.Hook += " " + loaded.Path
	}
	if loaded.VectorFreeProven {
		rep.Hook += " (vector-free: proven by decoding)"
	}
	core.RestoreSignals()
	if err := enableNewCode(cfg); err != nil {
		return err
	}
	core.StartGoHooks()
	return nil
}

// mapTrampoline maps and fills the low region and the far page.
func mapTrampoline(mem *os.File) error {
	err := core.MapTrampoline(int(mem.Fd()))
	var pz *core.PageZeroError
	if errors.As(err, &pz) {
		return pageZeroError(pz.Errno)
	}
	return err
}

// pageZeroError explains why page 0 could not be mapped and how to allow it.
func pageZeroError(err error) error {
	minAddr := "?"
	if b, e := os.ReadFile("/proc/sys/vm/mmap_min_addr"); e == nil {
		minAddr = strings.TrimSpace(string(b))
	}
	switch {
	case errors.Is(err, syscall.EEXIST):
		return fmt.Errorf("%w: something is already mapped there", ErrPageZero)
	case minAddr != "0":
		return fmt.Errorf("%w: vm.mmap_min_addr is %s (fix: sysctl -w vm.mmap_min_addr=0, or give the program CAP_SYS_RAWIO)", ErrPageZero, minAddr)
	case selinuxEnforcing():
		return fmt.Errorf("%w: SELinux forbids it (fix: setsebool -P mmap_low_allowed 1, or allow mmap_zero for this domain)", ErrPageZero)
	default:
		return fmt.Errorf("%w: %v", ErrPageZero, err)
	}
}

func selinuxEnforcing() bool {
	b, err := os.ReadFile("/sys/fs/selinux/enforce")
	return err == nil && strings.TrimSpace(string(b)) == "1"
}
