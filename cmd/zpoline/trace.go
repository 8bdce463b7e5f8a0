package main

// `zpoline trace` and `zpoline stat`: run a program under the loader with the recorder
// hook library (libzpoline_trace.so), read the records from the shared ring while the
// program runs, and print them with the decode package, or summarise them.

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/zpoline-go/zpoline/decode"
	"github.com/zpoline-go/zpoline/internal/tracering"
)

const traceName = "libzpoline_trace.so" // the recorder, next to the loader

const traceFlagsHelp = `  -o FILE          write the trace (or the summary) to FILE instead of stderr
  -e trace=SET     trace only the calls in SET: names, numbers and classes
                   (file, network, process, memory, signal, desc, ipc, %stat, ...),
                   'all', 'none', '!' to negate, as strace's -e trace= ('-e SET' too)
  -s N             print at most N bytes of strings and buffers (default 32)
  -T               print the time spent in each call, "<0.000012>"
  -f               follow children: always on (accepted for strace compatibility)
  --buffer-size N  bytes of the shared ring, a power of two (default 16 MiB)
  --loader PATH    the loader; default as for 'zpoline run'
  -h, --help       show this help
`

var traceCommand = &command{
	name:    "trace",
	summary: "print every system call of a program and its children, like strace -f",
	help: `Usage: zpoline trace [flags] [--] prog [args...]

Runs prog under the zpoline loader with the recorder hook library (libzpoline_trace.so,
next to the loader) and prints one strace-style line per system call of prog and of every
process it starts (threads, fork and vfork children, programs they exec):

  [pid 4711] openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC) = 3
  [pid 4712 tid 4715] read(3, "root:x:0:0:root:/root:/bin/bash\n"..., 4096) = 1234

The recorder inside each process copies the call's arguments (paths, buffers, structures)
into a shared ring without formatting anything; this command decodes them. The exit status
of prog is returned unchanged (a signal that killed it kills zpoline with it).

Flags:
` + traceFlagsHelp + `  -c               print only the summary table (as 'zpoline stat')
  --json           one JSON object per call instead of text lines

When the ring is full the traced program waits for this command: no record is dropped.
Calls made before the loader's constructor ran (the dynamic loader mapping libraries) are
not seen; see USAGE.md "zpoline trace".

Examples:
  zpoline trace -- ls /tmp
  zpoline trace -e trace=file,process -o /tmp/trace.txt -- make
  zpoline trace -c -- python3 app.py
  zpoline trace --json -- /bin/true | jq .name
`,
	main: func(args []string) int { return cmdTrace("trace", args) },
}

var statCommand = &command{
	name:    "stat",
	summary: "count the system calls of a program and its children, like strace -c -f",
	help: `Usage: zpoline stat [flags] [--] prog [args...]

Runs prog like 'zpoline trace' and prints only the summary table when it ends (to stderr,
or to -o FILE): for each system call the share of the time, the seconds spent, the
microseconds per call, the number of calls and of failed calls, sorted by time. Times are
wall-clock latency inside the call (strace -c -w). exit and exit_group are not counted
(they do not return), as with strace -c.

Flags:
` + traceFlagsHelp + `
Examples:
  zpoline stat -- bash -c 'ls | wc -l'
  zpoline stat -e trace=file -- git status
`,
	main: func(args []string) int { return cmdTrace("stat", args) },
}

type traceOptions struct {
	output  string
	filter  []string
	summary bool
	json    bool
	strsize int
	timing  bool
	follow  bool
	bufSize uint64
	loader  string
	argv    []string
}

type filterFlag struct{ specs *[]string }

func (f filterFlag) String() string { return "" }
func (f filterFlag) Set(v string) error {
	q, val, ok := strings.Cut(v, "=")
	switch {
	case !ok:
		val = v
	case q == "trace" || q == "t":
	default:
		return fmt.Errorf("-e %s: only trace=SET is supported", q)
	}
	*f.specs = append(*f.specs, val)
	return nil
}

func traceFlags(sub string, o *traceOptions) *flag.FlagSet {
	fs := newFlagSet(sub)
	fs.StringVar(&o.output, "o", "", "")
	fs.Var(filterFlag{&o.filter}, "e", "")
	fs.IntVar(&o.strsize, "s", decode.DefaultStrSize, "")
	fs.BoolVar(&o.timing, "T", false, "")
	fs.BoolVar(&o.follow, "f", true, "")
	fs.Uint64Var(&o.bufSize, "buffer-size", 16<<20, "")
	fs.StringVar(&o.loader, "loader", "", "")
	if sub == "trace" {
		fs.BoolVar(&o.summary, "c", false, "")
		fs.BoolVar(&o.json, "json", false, "")
	}
	return fs
}

func cmdTrace(sub string, args []string) int {
	var o traceOptions
	fs := traceFlags(sub, &o)
	if code, ok := parseFlags(fs, sub, args); !ok {
		return code
	}
	if sub == "stat" {
		o.summary = true
	}
	o.argv = fs.Args()
	if len(o.argv) == 0 {
		return usageError(sub+": no program given", "usage: zpoline "+sub+" [flags] -- prog [args...] (see 'zpoline "+sub+" --help')")
	}
	set := decode.AllSet()
	if len(o.filter) > 0 {
		var err error
		if set, err = decode.ParseTraceSet(strings.Join(o.filter, ",")); err != nil {
			return usageError(fmt.Sprintf("%s: bad -e trace=%s: %v", sub, strings.Join(o.filter, ","), err),
				"give system call names, numbers or classes (file, network, process, memory, signal, desc, ...)")
		}
	}
	if o.strsize < 1 || o.strsize > 1<<20 {
		return usageError(fmt.Sprintf("%s: -s %d is out of range", sub, o.strsize), "give a size from 1 to 1048576")
	}
	if o.bufSize < 1<<16 || o.bufSize > 1<<32 || o.bufSize&(o.bufSize-1) != 0 {
		return usageError(fmt.Sprintf("%s: --buffer-size %d is not a power of two from 65536 to 4294967296", sub, o.bufSize),
			"give for example 16777216")
	}
	if o.summary && o.json {
		return usageError(sub+": -c and --json cannot be combined", "choose the summary table or JSON lines")
	}

	// The environment: as `run` builds it, with the recorder as the hook.
	loader, _, p := findLoader(o.loader, os.Getenv)
	if p != nil {
		p.report()
		return exitUsage
	}
	ro := runOptions{hook: filepath.Join(filepath.Dir(loader), traceName), loader: loader}
	if _, err := os.Stat(ro.hook); err != nil {
		return usageError(fmt.Sprintf("cannot find the recorder %s next to the loader", ro.hook),
			"build it with make (build/"+traceName+"), or install it next to "+loaderName)
	}
	env, probs := runEnv(ro, os.Environ(), os.Getenv)
	if len(probs) > 0 {
		for _, p := range probs {
			p.report()
		}
		return exitUsage
	}
	var out io.Writer = os.Stderr
	if o.output != "" {
		abs, p := checkOutputFile("-o", o.output)
		if p != nil {
			p.report()
			return exitUsage
		}
		f, err := os.OpenFile(abs, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			return usageError(fmt.Sprintf("cannot write the -o file %s: %v", abs, errText(err)), "choose a writable path")
		}
		defer f.Close()
		out = f
	}
	path, code, prob := findProgram(o.argv[0])
	if prob != nil {
		prob.report()
		return code
	}
	if why := unhookedReason(path); why != "" {
		return usageError(fmt.Sprintf("%s cannot be traced: %s", path, why),
			"trace a dynamically linked program (zpoline hooks through LD_PRELOAD)")
	}

	ring, err := tracering.Create(o.bufSize, o.strsize+1)
	if err != nil {
		return usageError(err.Error(), "check that memfd_create and /proc work here")
	}
	defer ring.Close()
	env = setEnv(env, tracering.EnvRing, ring.Path())

	// Orphans of the traced tree are reparented to this process, so it can tell when
	// every recorder is gone.
	_ = unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGTERM, syscall.SIGHUP)
	cmd := &exec.Cmd{Path: path, Args: o.argv, Env: env, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
	if err := cmd.Start(); err != nil {
		return usageError(fmt.Sprintf("cannot execute %s: %v", path, err), "check that it is a program for this machine")
	}
	go func() {
		for s := range sigs {
			// A terminal's SIGINT already reached the whole process group; others are
			// passed on.
			if s != syscall.SIGINT && s != syscall.SIGQUIT {
				cmd.Process.Signal(s)
			}
		}
	}()

	bw := bufio.NewWriterSize(out, 256<<10)
	pr := newPrinter(bw, &o, set)
	done := make(chan struct{})
	var wg sync.WaitGroup
	var consumeErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		pr.clock = tracering.Calibrate(10 * time.Millisecond)
		c := tracering.NewConsumer(ring)
		final := false
		for {
			select {
			case <-done:
				final = true
			default:
			}
			n, err := c.Poll(pr.record, final)
			if err != nil {
				consumeErr = err
				return
			}
			if final {
				pr.skipped = c.Skipped
				return
			}
			if n == 0 {
				time.Sleep(200 * time.Microsecond)
			}
		}
	}()
	werr := cmd.Wait()
	// Wait for every other process of the tree (daemons included, as strace -f does).
	for {
		var ws unix.WaitStatus
		if _, err := unix.Wait4(-1, &ws, 0, nil); err != nil && err != unix.EINTR {
			break
		}
	}
	close(done)
	wg.Wait()
	signal.Stop(sigs)
	pr.finish()
	if d := ring.Dropped(); d > 0 {
		fmt.Fprintf(os.Stderr, "zpoline: %d records were dropped: a signal handler's call found the ring full while its own thread's record blocked it; use a larger --buffer-size\n", d)
	}
	if pr.skipped > 0 {
		fmt.Fprintf(os.Stderr, "zpoline: %d records were lost: their threads were killed while writing them\n", pr.skipped)
	}
	if err := bw.Flush(); err != nil {
		problem{fmt.Sprintf("cannot write the trace: %v", errText(err)), "check the -o file or stderr"}.report()
	}
	if consumeErr != nil {
		problem{consumeErr.Error(), "report this as a bug with the program traced"}.report()
	}
	return exitStatus(cmd, werr)
}

// exitStatus returns prog's exit status; if a signal killed prog, it kills this process
// with the same signal (as a shell would see it), falling back to 128+signal.
func exitStatus(cmd *exec.Cmd, err error) int {
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		problem{fmt.Sprintf("waiting for the program: %v", err), "report this as a bug"}.report()
		return exitFailed
	}
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok {
		return cmd.ProcessState.ExitCode()
	}
	if ws.Signaled() {
		dieBySignal(ws.Signal())
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// dieBySignal kills this process with sig, past the Go runtime: the default action is
// installed with a raw rt_sigaction, the signal unblocked on this thread and sent to it.
// No core file of zpoline itself is written. It returns only if the signal did not kill.
func dieBySignal(sig syscall.Signal) {
	runtime.LockOSThread()
	signal.Reset(sig)
	unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
	var act [4]uint64 // struct kernel_sigaction: handler (SIG_DFL), flags, restorer, mask
	syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&act)), 0, 8, 0, 0)
	set := uint64(1) << (uint(sig) - 1)
	syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, 1 /* SIG_UNBLOCK */, uintptr(unsafe.Pointer(&set)), 0, 8, 0, 0)
	syscall.RawSyscall(syscall.SYS_TGKILL, uintptr(os.Getpid()), uintptr(syscall.Gettid()), uintptr(sig))
	time.Sleep(time.Second)
}

// ---- printing ----

type summaryRow struct {
	calls, errors int
	time          time.Duration
}

type printer struct {
	w       *bufio.Writer
	o       *traceOptions
	set     decode.Set
	clock   tracering.Clock
	line    []byte
	call    decode.Call
	pending map[uint32]pendingExec // execve by pid, waiting for its outcome
	sum     map[int64]*summaryRow
	skipped int
}

type pendingExec struct {
	call decode.Call
	pid  uint32
	tid  uint32
	t0   uint64
}

func newPrinter(w *bufio.Writer, o *traceOptions, set decode.Set) *printer {
	return &printer{w: w, o: o, set: set, pending: map[uint32]pendingExec{}, sum: map[int64]*summaryRow{}}
}

// toCall fills p.call from a record (the copies alias the consumer's buffer).
func (p *printer) toCall(r *tracering.Record) *decode.Call {
	c := &p.call
	c.Nr, c.Args, c.Ret, c.Done = r.Nr, r.Args, r.Ret, true
	clear(c.In)
	clear(c.Out)
	for _, cp := range r.Caps {
		m := &c.In
		if cp.Phase == 1 {
			m = &c.Out
		}
		if *m == nil {
			*m = map[int][]byte{}
		}
		(*m)[int(cp.Arg)] = cp.Data
	}
	return c
}

// record handles one record, in ring order.
func (p *printer) record(r *tracering.Record) {
	switch {
	case r.Type == tracering.TypeExec:
		if pe, ok := p.pending[r.Pid]; ok {
			delete(p.pending, r.Pid)
			pe.call.Ret = 0
			p.emit(&pe.call, pe.pid, pe.tid, pe.t0, r.T0, false)
		}
		return
	case r.Type != tracering.TypeCall:
		return
	}
	c := p.toCall(r)
	switch {
	case r.Flags&tracering.FlagUnfinished != 0 && (r.Nr == unix.SYS_EXECVE || r.Nr == unix.SYS_EXECVEAT):
		// Held until the program image changes (EXEC) or the call fails (RESUMED); the
		// copies are kept, the consumer's buffer is reused.
		keep := decode.Call{Nr: c.Nr, Args: c.Args, Done: true, In: map[int][]byte{}}
		for k, v := range c.In {
			keep.In[k] = append([]byte(nil), v...)
		}
		if old, ok := p.pending[r.Pid]; ok {
			old.call.Done = false
			p.emit(&old.call, old.pid, old.tid, old.t0, old.t0, false)
		}
		p.pending[r.Pid] = pendingExec{call: keep, pid: r.Pid, tid: r.Tid, t0: r.T0}
	case r.Flags&tracering.FlagResumed != 0:
		if pe, ok := p.pending[r.Pid]; ok && pe.tid == r.Tid {
			delete(p.pending, r.Pid)
			pe.call.Ret = r.Ret
			p.emit(&pe.call, pe.pid, pe.tid, pe.t0, r.T1, false)
		}
	case r.Flags&tracering.FlagUnfinished != 0: // exit, exit_group
		c.Done = false
		p.emit(c, r.Pid, r.Tid, r.T0, r.T1, true)
	default:
		p.emit(c, r.Pid, r.Tid, r.T0, r.T1, false)
	}
}

// finish prints the execve calls whose outcome never came (a static program was
// exec'd, or the process was killed), and the summary.
func (p *printer) finish() {
	pids := make([]int, 0, len(p.pending))
	for pid := range p.pending {
		pids = append(pids, int(pid))
	}
	sort.Ints(pids)
	for _, pid := range pids {
		pe := p.pending[uint32(pid)]
		pe.call.Done = false
		p.emit(&pe.call, pe.pid, pe.tid, pe.t0, pe.t0, false)
	}
	if p.o.summary {
		p.summary()
	}
}

func (p *printer) emit(c *decode.Call, pid, tid uint32, t0, t1 uint64, noReturn bool) {
	if !p.set.Has(c.Nr) {
		return
	}
	dur := p.clock.Duration(t1 - t0)
	if t1 < t0 {
		dur = 0
	}
	if p.o.summary {
		if noReturn || !c.Done {
			return // strace -c counts calls when they return
		}
		s := p.sum[c.Nr]
		if s == nil {
			s = &summaryRow{}
			p.sum[c.Nr] = s
		}
		s.calls++
		if c.Failed() {
			s.errors++
		}
		s.time += dur
		return
	}
	opts := decode.Options{StrSize: p.o.strsize}
	if p.o.json {
		p.emitJSON(c, pid, tid, t0, dur, opts)
		return
	}
	b := p.line[:0]
	b = append(b, "[pid "...)
	b = strconv.AppendUint(b, uint64(pid), 10)
	if tid != pid {
		b = append(b, " tid "...)
		b = strconv.AppendUint(b, uint64(tid), 10)
	}
	b = append(b, "] "...)
	b = decode.AppendFormat(b, c, opts)
	if p.o.timing && c.Done {
		b = append(b, " <"...)
		b = strconv.AppendFloat(b, dur.Seconds(), 'f', 6, 64)
		b = append(b, '>')
	}
	b = append(b, '\n')
	p.line = b
	p.w.Write(b)
}

type jsonCall struct {
	Pid        uint32    `json:"pid"`
	Tid        uint32    `json:"tid"`
	Nr         int64     `json:"nr"`
	Name       string    `json:"name"`
	Args       [6]uint64 `json:"args"`
	Call       string    `json:"call"`
	Finished   bool      `json:"finished"`
	Ret        *int64    `json:"ret,omitempty"`
	Errno      string    `json:"errno,omitempty"`
	Result     string    `json:"result"`
	Start      string    `json:"start"`
	DurationNs int64     `json:"duration_ns"`
}

func (p *printer) emitJSON(c *decode.Call, pid, tid uint32, t0 uint64, dur time.Duration, opts decode.Options) {
	j := jsonCall{Pid: pid, Tid: tid, Nr: c.Nr, Name: decode.Name(c.Nr), Args: c.Args,
		Call: decode.FormatCall(*c, opts), Finished: c.Done, Result: decode.FormatResult(*c, opts),
		Start: p.clock.Time(t0).UTC().Format(time.RFC3339Nano), DurationNs: int64(dur)}
	if c.Done {
		ret := c.Ret
		j.Ret = &ret
		if c.Failed() {
			j.Errno = decode.ErrnoName(c.Errno())
		}
	}
	b, _ := json.Marshal(&j)
	p.w.Write(append(b, '\n'))
}

// summary prints the table of strace -c.
func (p *printer) summary() {
	type row struct {
		nr int64
		summaryRow
	}
	var rows []row
	var total summaryRow
	for nr, s := range p.sum {
		rows = append(rows, row{nr, *s})
		total.calls += s.calls
		total.errors += s.errors
		total.time += s.time
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].time != rows[j].time {
			return rows[i].time > rows[j].time
		}
		if rows[i].calls != rows[j].calls {
			return rows[i].calls > rows[j].calls
		}
		return decode.Name(rows[i].nr) < decode.Name(rows[j].nr)
	})
	const rule = "------ ----------- ----------- --------- --------- ----------------\n"
	w := p.w
	fmt.Fprintf(w, "%6s %11s %11s %9s %9s %s\n", "% time", "seconds", "usecs/call", "calls", "errors", "syscall")
	w.WriteString(rule)
	line := func(name string, s summaryRow) {
		pct := 0.0
		if total.time > 0 {
			pct = 100 * float64(s.time) / float64(total.time)
		}
		errs := ""
		if s.errors > 0 {
			errs = strconv.Itoa(s.errors)
		}
		per := int64(0)
		if s.calls > 0 {
			per = int64(s.time/time.Microsecond) / int64(s.calls)
		}
		fmt.Fprintf(w, "%6.2f %11.6f %11d %9d %9s %s\n", pct, s.time.Seconds(), per, s.calls, errs, name)
	}
	for _, r := range rows {
		line(decode.Name(r.nr), r.summaryRow)
	}
	w.WriteString(rule)
	if total.time > 0 {
		line("total", total)
	} else {
		fmt.Fprintf(w, "%6.2f %11.6f %11d %9d %9s %s\n", 0.0, 0.0, 0, total.calls, strconv.Itoa(total.errors), "total")
	}
}
