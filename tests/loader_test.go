package tests

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zpoline-go/zpoline/internal/sitecache"
)

// buildDir is where `make` put the artifacts.
func buildDir(t *testing.T) string {
	t.Helper()
	return needLoader(t).build
}

// runLoaded runs argv under the loader with extra environment and returns stdout, stderr.
func runLoaded(t *testing.T, env []string, argv ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "LD_PRELOAD="+filepath.Join(buildDir(t), "libzpoline.so"))
	cmd.Env = append(cmd.Env, env...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.WaitDelay = time.Second
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return out.String(), errb.String(), err
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("%v hung; stdout:\n%s\nstderr:\n%s", argv, out.String(), errb.String())
	}
	return "", "", nil
}

func TestStatsShowRewrittenLibc(t *testing.T) {
	_, stderr, err := runLoaded(t, []string{"ZPOLINE_HOOK=builtin:pass", "ZPOLINE_STATS=-"}, "/bin/cat", "/proc/self/comm")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	m := regexp.MustCompile(`libc\.so\.6: (\d+) sites \(jump (\d+), call (\d+)\)`).FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no libc line in statistics:\n%s", stderr)
	}
	if n, _ := strconv.Atoi(m[1]); n < 400 {
		t.Errorf("only %d libc sites rewritten:\n%s", n, stderr)
	}
	if !strings.Contains(stderr, "the loader itself") {
		t.Errorf("the loader's own mapping was not excluded:\n%s", stderr)
	}
	if m := regexp.MustCompile(`calls hooked: (\d+)`).FindStringSubmatch(stderr); m == nil || m[1] == "0" {
		t.Errorf("no hooked calls counted:\n%s", stderr)
	}
}

func TestSamplesSeeTheirOwnHook(t *testing.T) {
	out, stderr, err := runLoaded(t, []string{"ZPOLINE_HOOK=builtin:pass"}, filepath.Join(buildDir(t), "zpoline_samples"))
	if err != nil {
		t.Fatalf("%v\nstdout:\n%s\nstderr:\n%s", err, out, stderr)
	}
	for _, want := range []string{"getppid() = 4242", "hook saw openat", "zpoline_samples: ok"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
}

func TestOutputEqualsNative(t *testing.T) {
	for _, argv := range [][]string{
		{"/bin/ls", "-la", "/usr"},
		{"/bin/bash", "-c", "seq 1 2000 | sort -r | head -5 | tr 1 x; (echo sub; exit 3); echo $?"},
		// The loader leaves no descriptor of its own (Go's poller, cgroup files) behind.
		{"/bin/ls", "/proc/self/fd"},
	} {
		native, err := exec.Command(argv[0], argv[1:]...).Output()
		if err != nil {
			t.Fatal(err)
		}
		out, stderr, err := runLoaded(t, []string{"ZPOLINE_HOOK=builtin:pass"}, argv...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", argv, err, stderr)
		}
		if out != string(native) {
			t.Errorf("%v: output differs\nnative:\n%s\nhooked:\n%s", argv, native, out)
		}
	}
}

// The loader's SIGSEGV handler (bad numbers at callq sites) must not swallow a SIGSEGV
// that was sent, not caused: the program dies by it exactly as natively.
func TestSentSIGSEGVStillKills(t *testing.T) {
	_, stderr, err := runLoaded(t, []string{"ZPOLINE_HOOK=builtin:pass"}, "/bin/sh", "-c", "kill -SEGV $$")
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("sh survived its own SIGSEGV: %v\n%s", err, stderr)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGSEGV {
		t.Fatalf("want death by SIGSEGV, got %v\n%s", ee, stderr)
	}
}

// The site cache: a second process mapping the same libc takes its sites from the cache
// (no decoding), a damaged entry is ignored, and ZPOLINE_CACHE=0 turns it off.
func TestSiteCache(t *testing.T) {
	cache := t.TempDir()
	env := []string{"ZPOLINE_HOOK=builtin:pass", "ZPOLINE_STATS=-", "XDG_CACHE_HOME=" + cache}
	libc := func(stderr string) string {
		m := regexp.MustCompile(`libc\.so\.6: (\d+) sites .*, (scanned|cached)`).FindStringSubmatch(stderr)
		if m == nil {
			t.Fatalf("no libc line in the statistics:\n%s", stderr)
		}
		return m[1] + " " + m[2]
	}
	runCat := func(extra ...string) string {
		t.Helper()
		out, stderr, err := runLoaded(t, append(append([]string{}, env...), extra...), "/bin/cat", "/proc/self/comm")
		if err != nil || out != "cat\n" {
			t.Fatalf("cat: %v, stdout %q\n%s", err, out, stderr)
		}
		return libc(stderr)
	}
	first := runCat()
	if !strings.HasSuffix(first, "scanned") {
		t.Fatalf("first run: %s, want scanned", first)
	}
	second := runCat()
	if second != strings.Replace(first, "scanned", "cached", 1) {
		t.Fatalf("second run: %s, want the same sites, cached (first: %s)", second, first)
	}
	if got := runCat("ZPOLINE_CACHE=0"); !strings.HasSuffix(got, "scanned") {
		t.Fatalf("ZPOLINE_CACHE=0: %s, want scanned", got)
	}
	// An entry whose bytes do not match memory: the loader must verify every site before
	// writing it, skip the wrong one, and run the program all the same.
	files, _ := filepath.Glob(filepath.Join(cache, "zpoline", "*.sites"))
	var wrong int
	for _, f := range files {
		var k sitecache.Key
		if _, err := fmt.Sscanf(filepath.Base(f), "%x-%x-%x-%x-%x-%x.sites", &k.Dev, &k.Ino, &k.Size, &k.MtimeNs,
			&k.Offset, &k.Length); err != nil {
			t.Fatalf("cache file name %s: %v", f, err)
		}
		sites, err := sitecache.Load(filepath.Dir(f), k, 0)
		if err != nil {
			t.Fatal(err)
		}
		for i := range sites {
			if len(sites[i].Prefix) > 0 {
				sites[i].Prefix[1] ^= 0xff // not what is in memory
				wrong++
				break
			}
		}
		if err := sitecache.Store(filepath.Dir(f), k, 0, sites); err != nil {
			t.Fatal(err)
		}
	}
	if wrong == 0 {
		t.Fatal("no jump site in the cache to damage")
	}
	out, stderr, err := runLoaded(t, env, "/bin/cat", "/proc/self/comm")
	if err != nil || out != "cat\n" {
		t.Fatalf("cat with a wrong cache entry: %v, stdout %q\n%s", err, out, stderr)
	}
	if !regexp.MustCompile(`libc\.so\.6: \d+ sites .*, [1-9]\d* changed before write, cached`).MatchString(stderr) {
		t.Fatalf("the wrong libc site was not caught by the byte check:\n%s", stderr)
	}

	// Damage every entry: the loader must notice and scan again.
	files, _ = filepath.Glob(filepath.Join(cache, "zpoline", "*.sites"))
	if len(files) == 0 {
		t.Fatal("no cache files written")
	}
	for _, f := range files {
		if err := os.WriteFile(f, []byte("zpoline-sites-1\ngarbage"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if got := runCat(); got != first {
		t.Fatalf("damaged cache: %s, want %s", got, first)
	}
}

// The Go runtime's threads keep every asynchronous signal blocked, so a signal sent to
// the process reaches one of the program's threads as it would natively. The Go runtime
// unblocks SIGCHLD and SIGSTKFLT on its threads unless the loader stops it; then bash's
// SIGCHLD handler could reap a subshell on a runtime thread while the main thread blocks
// SIGCHLD, and `(exit 3); echo $?` printed 0. Checked on a sleeping process's threads
// (their SigBlk in /proc) under the C loader and the Go-hook loader.
func TestRuntimeThreadsBlockAsyncSignals(t *testing.T) {
	a := needLoader(t)
	async := map[string]syscall.Signal{
		"SIGHUP": syscall.SIGHUP, "SIGINT": syscall.SIGINT, "SIGTERM": syscall.SIGTERM,
		"SIGALRM": syscall.SIGALRM, "SIGUSR1": syscall.SIGUSR1,
		"SIGSTKFLT": syscall.SIGSTKFLT, "SIGCHLD": syscall.SIGCHLD,
	}
	for _, loader := range []string{a.loader, filepath.Join(a.build, "libzpoline_go_getppid.so")} {
		t.Run(filepath.Base(loader), func(t *testing.T) {
			requireFiles(t, loader)
			cmd := exec.Command("/bin/sleep", "30")
			// ZPOLINE_WARM=0: a warm start would not start the Go runtime at all.
			cmd.Env = append(os.Environ(), "LD_PRELOAD="+loader, "ZPOLINE_HOOK=builtin:pass", "ZPOLINE_WARM=0")
			var errb strings.Builder
			cmd.Stderr = &errb
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() { cmd.Process.Kill(); cmd.Wait() }()
			pid := cmd.Process.Pid
			// Wait until the program itself runs (the loader's start-up is over).
			deadline := time.Now().Add(20 * time.Second)
			for {
				wchan, _ := os.ReadFile(fmt.Sprintf("/proc/%d/wchan", pid))
				if strings.Contains(string(wchan), "nanosleep") {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("sleep never reached nanosleep under the loader (wchan %q); stderr:\n%s", wchan, errb.String())
				}
				time.Sleep(10 * time.Millisecond)
			}
			tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
			if err != nil {
				t.Fatal(err)
			}
			if len(tasks) < 2 {
				t.Fatalf("want the Go runtime's threads beside sleep's, found %d thread(s)", len(tasks))
			}
			for _, task := range tasks {
				if task.Name() == strconv.Itoa(pid) {
					continue // the program's own thread
				}
				status, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/status", pid, task.Name()))
				if err != nil {
					t.Fatal(err)
				}
				m := regexp.MustCompile(`(?m)^SigBlk:\s*([0-9a-f]+)$`).FindSubmatch(status)
				if m == nil {
					t.Fatalf("no SigBlk in thread %s's status", task.Name())
				}
				blocked, _ := strconv.ParseUint(string(m[1]), 16, 64)
				for name, sig := range async {
					if blocked&(1<<(uint(sig)-1)) == 0 {
						t.Errorf("runtime thread %s does not block %s (SigBlk %s)", task.Name(), name, m[1])
					}
				}
			}
		})
	}
}

// The warm start (internal/core/zp_warm.c): with every executable mapping in the site
// cache, the process is rewritten and its hook loaded in C before the Go runtime starts.
// ZPOLINE_WARM=1 reports the decision on stderr. Under it the program and its hooks see
// what they see under the Go start-up: the samples' own hook, a hook library by absolute
// path (and code made executable after start-up, which needs Go), no descriptor left
// open; a hook library that fails is reported once and the fallback runs; a cache entry
// that does not match sends the process through the Go start-up.
func TestWarmStart(t *testing.T) {
	a := needProbes(t)
	cache := t.TempDir()
	env := append(baseEnv(), "LD_PRELOAD="+a.loader, "ZPOLINE_WARM=1", "XDG_CACHE_HOME="+cache)
	const cold, warm = "zpoline: no warm start: ", "zpoline: warm start: "
	// runTwice runs argv twice, the first run filling the cache (the very first one in
	// the empty cache starts cold), and returns the second, which must start warm.
	first := true
	runTwice := func(t *testing.T, extra []string, argv ...string) *runResult {
		t.Helper()
		spec := runSpec{args: argv, env: append(append([]string{}, env...), extra...)}
		r := run(t, spec)
		if !r.ok() || (first && !strings.Contains(string(r.stderr), cold)) {
			t.Fatalf("first run: want success (and a cold start in an empty cache)\n%s", r)
		}
		first = false
		r = run(t, spec)
		if !r.ok() || !strings.Contains(string(r.stderr), warm) || strings.Contains(string(r.stderr), cold) {
			t.Fatalf("second run: want success and only %q\n%s", warm, r)
		}
		return r
	}

	t.Run("samples", func(t *testing.T) {
		r := runTwice(t, []string{"ZPOLINE_HOOK=builtin:pass"}, filepath.Join(a.build, "zpoline_samples"))
		for _, want := range []string{"getppid() = 4242", "hook saw openat", "zpoline_samples: ok"} {
			if !strings.Contains(string(r.stdout), want) {
				t.Errorf("missing %q\n%s", want, r)
			}
		}
	})
	t.Run("hook-library-new-code", func(t *testing.T) {
		lib := filepath.Join(a.build, "tests", "libnewcode.so")
		hook := []string{"ZPOLINE_HOOK=" + a.hookRS, "PROBE_HOOKED=1"}
		for _, args := range [][]string{{"jit"}, {"dlopen", lib}} {
			native := run(t, runSpec{args: append([]string{a.probe("newcode")}, args...), env: nativeEnv()})
			r := runTwice(t, hook, append([]string{a.probe("newcode")}, args...)...)
			if !bytes.Equal(r.stdout, native.stdout) {
				t.Errorf("newcode %v: want the native output %q\n%s", args, native.stdout, r)
			}
		}
	})
	t.Run("no-descriptor-left", func(t *testing.T) {
		native, err := exec.Command("/bin/ls", "/proc/self/fd").Output()
		if err != nil {
			t.Fatal(err)
		}
		runTwice(t, []string{"ZPOLINE_HOOK=builtin:pass"}, "/bin/ls", "/proc/self/fd")
		for i := 0; i < 20; i++ {
			r := run(t, runSpec{args: []string{"/bin/ls", "/proc/self/fd"}, env: append(env, "ZPOLINE_HOOK=builtin:pass")})
			if !r.ok() || !bytes.Equal(r.stdout, native) {
				t.Fatalf("run %d: want the native listing %q\n%s", i, native, r)
			}
		}
	})
	// The program's first actions after a warm start (descriptors, the open-file limit,
	// signal actions, a thread, a fork) come out as natively, run after run: the Go
	// runtime the warm start did not wait for before rewriting has finished starting, and
	// put back what it changed, before main runs.
	t.Run("first-actions-as-native", func(t *testing.T) {
		argv := []string{"/bin/sh", "-c", `ulimit -Sn 512 && ulimit -Hn 4096 && exec "$0"`, a.probe("warmstart")}
		native := run(t, runSpec{args: argv, env: nativeEnv()})
		if !native.ok() || !strings.Contains(string(native.stdout), "nofile soft 512 hard 4096") {
			t.Fatalf("native run\n%s", native)
		}
		runTwice(t, []string{"ZPOLINE_HOOK=builtin:pass"}, argv...)
		for i := 0; i < 20; i++ {
			r := run(t, runSpec{args: argv, env: append(env, "ZPOLINE_HOOK=builtin:pass")})
			if !r.ok() || !bytes.Equal(r.stdout, native.stdout) || strings.Contains(string(r.stderr), cold) {
				t.Fatalf("run %d: want a warm start and the native output %q\n%s", i, native.stdout, r)
			}
		}
	})
	t.Run("failing-hook-library", func(t *testing.T) {
		nosym := filepath.Join(a.build, "tests", "testhook_nosym.so")
		r := runTwice(t, []string{"ZPOLINE_HOOK=" + nosym, "ZPOLINE_LOG=/dev/null"}, "/bin/echo", "hi")
		msg := "zpoline: hook library " + nosym + ": symbol not found"
		if n := strings.Count(string(r.stderr), msg); n != 1 || !strings.Contains(string(r.stderr), "the hook library did not load") {
			t.Fatalf("want the failure reported once (%q), got %d\n%s", msg, n, r)
		}
	})
	t.Run("stale-cache", func(t *testing.T) {
		files, _ := filepath.Glob(filepath.Join(cache, "zpoline", "*.sites"))
		if len(files) == 0 {
			t.Fatal("no cache files written")
		}
		for _, f := range files {
			if err := os.WriteFile(f, []byte("zpoline-sites-1\ngarbage"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		r := run(t, runSpec{args: []string{"/bin/echo", "hi"}, env: append(env, "ZPOLINE_HOOK=builtin:pass")})
		if !r.ok() || string(r.stdout) != "hi\n" || !strings.Contains(string(r.stderr), cold+"a cache file is malformed") {
			t.Fatalf("want the Go start-up after a damaged cache entry\n%s", r)
		}
	})
}
