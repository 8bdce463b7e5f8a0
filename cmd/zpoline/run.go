package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"syscall"
)

var runCommand = &command{
	name:    "run",
	summary: "run a program with every system call hooked",
	help: `Usage: zpoline run [flags] [--] prog [args...]

Runs prog under the zpoline loader: sets LD_PRELOAD and the ZPOLINE_* variables (with
absolute paths, so every process of the tree finds the same files), checks the
environment, then execs prog. prog keeps zpoline's process id, and its exit status or
terminating signal is returned unchanged. prog is looked up in PATH unless it contains
a slash. Flags after prog belong to prog; '--' ends zpoline's flags explicitly.

Flags:
  --hook PATH|builtin:NAME  the hook: a hook library (zpoline-rs or original zpoline ABI),
                            or builtin:pass (ZPOLINE_HOOK). Default: the inherited
                            ZPOLINE_HOOK, else libzpoline_hook_impl.so next to the loader
                            (one trace line per system call), else builtin:pass
  --exclude LIST            objects left unrewritten, separated by ':' or ',': file names
                            (libc.so.6) or paths as in /proc/self/maps (ZPOLINE_EXCLUDE);
                            repeatable
  --log FILE                where the default hook library writes its trace
                            (ZPOLINE_LOG; default: stderr)
  --stats FILE|-            a statistics report per process at exit, appended to FILE,
                            or '-' for stderr (ZPOLINE_STATS)
  --debug                   print every site rewritten or skipped (ZPOLINE_DEBUG=1)
  --loader PATH             the loader; default: $ZPOLINE_LOADER, else libzpoline.so next
                            to the zpoline executable, else ../lib/libzpoline.so from it
  -h, --help                show this help

LD_PRELOAD: the loader is added after the entries already there (it is listed last, so its
constructor runs first and other preloaded libraries' constructors are hooked; a libasan
already listed stays first). Variables that no flag sets are inherited unchanged.

Checks (each failure is one line, "zpoline: <cause>; <fix>", exit status 2): the loader is
an ELF shared object; page 0 can be mapped (vm.mmap_min_addr is 0, or the program will
have CAP_SYS_RAWIO; SELinux allows mmap_zero); the address-space limit is at least 2 GiB;
the --hook library exists; the --log and --stats files can be written; prog is not a
static or set-user-ID program, which LD_PRELOAD does not reach (ZPOLINE_ALLOW_UNHOOKED=1
runs it anyway, after one line saying so). A prog that is not found exits with 127, one
that cannot be executed with 126, as in a shell.

Known differences from starting prog directly, because zpoline is a Go program: signals
ignored when zpoline started are reset to their default action in prog, except SIGHUP and
SIGINT; signals blocked when it started stay blocked, except SIGHUP, SIGINT, SIGQUIT,
SIGABRT, SIGTERM, SIGCHLD, SIGURG, SIGPROF, SIGSYS and the fault signals (SIGILL, SIGTRAP,
SIGBUS, SIGFPE, SIGSEGV, SIGSTKFLT), which are unblocked.

Examples:
  zpoline run -- ls -la /usr
  zpoline run --log /tmp/trace.log -- make -j8
  zpoline run --hook ./myhook.so --stats - -- python3 app.py
`,
	main: cmdRun,
}

// listFlag collects a repeatable list flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ":") }

func (l *listFlag) Set(v string) error {
	for _, e := range strings.FieldsFunc(v, func(r rune) bool { return r == ':' || r == ',' }) {
		*l = append(*l, e)
	}
	return nil
}

type runOptions struct {
	hook, log, stats, loader string
	exclude                  listFlag
	debug                    bool
	argv                     []string
}

func runFlags(o *runOptions) *flag.FlagSet {
	fs := newFlagSet("run")
	fs.StringVar(&o.hook, "hook", "", "")
	fs.Var(&o.exclude, "exclude", "")
	fs.StringVar(&o.log, "log", "", "")
	fs.StringVar(&o.stats, "stats", "", "")
	fs.BoolVar(&o.debug, "debug", false, "")
	fs.StringVar(&o.loader, "loader", "", "")
	return fs
}

func cmdRun(args []string) int {
	var o runOptions
	fs := runFlags(&o)
	if code, ok := parseFlags(fs, "run", args); !ok {
		return code
	}
	o.argv = fs.Args()
	if len(o.argv) == 0 {
		return usageError("run: no program given", "usage: zpoline run [flags] -- prog [args...] (see 'zpoline run --help')")
	}
	env, probs := runEnv(o, os.Environ(), os.Getenv)
	if len(probs) > 0 {
		for _, p := range probs {
			p.report()
		}
		return exitUsage
	}
	path, code, prob := findProgram(o.argv[0])
	if prob != nil {
		prob.report()
		return code
	}
	if why := unhookedReason(path); why != "" {
		if os.Getenv(envAllowUnhooked) != "1" {
			return usageError(fmt.Sprintf("%s would run unhooked: %s", path, why),
				"run a dynamically linked program, or set "+envAllowUnhooked+"=1 to run it unhooked anyway")
		}
		fmt.Fprintf(os.Stderr, "zpoline: %s runs unhooked: %s (%s=1)\n", path, why, envAllowUnhooked)
	}
	err := syscall.Exec(path, o.argv, env)
	problem{fmt.Sprintf("cannot execute %s: %v", path, err), "check that it is a program for this machine"}.report()
	return exitNoExec
}

// runEnv checks the environment for o and returns the program's environment, built from
// environ, or every problem found.
func runEnv(o runOptions, environ []string, getenv func(string) string) ([]string, []problem) {
	var probs []problem
	add := func(p *problem) {
		if p != nil {
			probs = append(probs, *p)
		}
	}
	loader, _, p := findLoader(o.loader, getenv)
	add(p)
	add(page0Problem())
	if cur, err := addressSpace(); err == nil {
		add(addressSpaceProblem(cur))
	}
	set := map[string]string{}
	if o.hook != "" {
		h, p := resolveHook(o.hook)
		add(p)
		set[envHook] = h
	}
	if len(o.exclude) > 0 {
		set[envExclude] = o.exclude.String()
	}
	if o.log != "" {
		f, p := checkOutputFile("--log", o.log)
		add(p)
		set[envLog] = f
	}
	if o.stats == "-" {
		set[envStats] = "-"
	} else if o.stats != "" {
		f, p := checkOutputFile("--stats", o.stats)
		add(p)
		set[envStats] = f
	}
	if o.debug {
		set[envDebug] = "1"
	}
	if len(probs) > 0 {
		return nil, probs
	}
	set["LD_PRELOAD"] = preloadWith(getenv("LD_PRELOAD"), loader)
	env := environ
	for _, k := range []string{"LD_PRELOAD", envHook, envExclude, envLog, envStats, envDebug} {
		if v, ok := set[k]; ok {
			env = setEnv(env, k, v)
		}
	}
	return env, nil
}

// preloadWith returns LD_PRELOAD with the loader added last (ld.so initialises preloaded
// objects last-listed first, so the loader's constructor runs before the others'; libasan
// must stay first). An entry that is already this loader is dropped: two copies would fight
// over page 0.
func preloadWith(existing, loader string) string {
	var keep []string
	lst, lerr := os.Stat(loader)
	for _, e := range strings.FieldsFunc(existing, func(r rune) bool { return r == ':' || r == ' ' }) {
		if e == loader {
			continue
		}
		if st, err := os.Stat(e); err == nil && lerr == nil && os.SameFile(st, lst) {
			continue
		}
		keep = append(keep, e)
	}
	return strings.Join(append(keep, loader), ":")
}

// setEnv returns env with key set to val (every earlier assignment of key removed).
func setEnv(env []string, key, val string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k != key {
			out = append(out, kv)
		}
	}
	return append(out, key+"="+val)
}
