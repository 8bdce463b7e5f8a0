package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"time"
)

// memSample is what one sleeping process looked like.
type memSample struct {
	status map[string]float64 // /proc/PID/status: VmRSS, RssAnon, RssFile (kB), Threads
	rollup map[string]float64 // /proc/PID/smaps_rollup: Rss, Pss, Private_Dirty, ... (kB)
	exec   map[string]execMem // executable mappings by object
}

// execMem sums the executable mappings of one object.
type execMem struct {
	sizeKB, dirtyKB float64
}

// memData holds the samples of sections 4 (private pages dirtied) and 5.
type memData struct {
	cfgs    []string
	samples map[string][]memSample
}

// memCfgs are the configurations of section 5.
var memCfgs = []string{cfgNative, cfgBuiltin, cfgImpl}

// measureMemory starts `sleep 2` b.o.memTrials times per configuration (interleaved),
// waits until its main thread sleeps in clock_nanosleep, lets it settle for 100 ms,
// reads /proc/PID/{status,smaps_rollup,smaps} and kills it.
func (b *bench) measureMemory() *memData {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		fatalf("sleep not found: %v", err)
	}
	d := &memData{cfgs: memCfgs, samples: map[string][]memSample{}}
	progress("section 5: sleeping process, %d configurations x %d samples", len(d.cfgs), b.o.memTrials)
	for i := 0; i < b.o.memTrials; i++ {
		for _, name := range d.cfgs {
			d.samples[name] = append(d.samples[name], b.sampleSleep(name, sleep))
		}
	}
	return d
}

// sampleSleep takes one memSample of `sleep 2` in configuration name.
func (b *bench) sampleSleep(name, sleep string) memSample {
	ctx, cancel := context.WithTimeout(context.Background(), b.o.timeout)
	defer cancel()
	cmd := b.command(ctx, b.cfgs[name], b.warmEnv, nil, sleep, "2")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		fatalf("%s: start sleep: %v", name, err)
	}
	pid := cmd.Process.Pid
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	proc := fmt.Sprintf("/proc/%d/", pid)
	deadline := time.Now().Add(1800 * time.Millisecond)
	for {
		if st := readTrim(proc + "stat"); st == "?" || strings.Contains(st, ") Z ") {
			cmd.Wait()
			fatalf("%s: sleep exited before it slept (loader failure?)\n--- its stderr ---\n%s", name, tail(stderr.String(), 2000))
		}
		f := strings.Fields(readTrim(proc + "syscall"))
		if len(f) > 0 && (f[0] == "230" || f[0] == "35") { // clock_nanosleep, nanosleep
			break
		}
		if time.Now().After(deadline) {
			fatalf("%s: sleep never reached nanosleep within 1.8 s (stuck in start-up?)\n--- its stderr ---\n%s", name, tail(stderr.String(), 2000))
		}
		time.Sleep(2 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // let the loader's runtime threads settle
	s := memSample{status: map[string]float64{}, rollup: map[string]float64{}, exec: map[string]execMem{}}
	readFields(proc+"status", s.status)
	readFields(proc+"smaps_rollup", s.rollup)
	readExecSmaps(proc+"smaps", s.exec)
	if s.status["VmRSS"] == 0 || s.rollup["Rss"] == 0 {
		fatalf("%s: could not read %sstatus / smaps_rollup", name, proc)
	}
	return s
}

// readFields reads "Key:   N kB" / "Key: N" lines into m.
func readFields(path string, m map[string]float64) {
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		if f := strings.Fields(v); len(f) > 0 {
			if x, err := strconv.ParseFloat(f[0], 64); err == nil {
				m[k] = x
			}
		}
	}
}

// readExecSmaps sums size and Private_Dirty of the executable mappings in an smaps file
// by object (the path; anonymous ones by address).
func readExecSmaps(path string, m map[string]execMem) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	cur := "" // object of the current mapping if executable
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) >= 5 && strings.Contains(fields[0], "-") && len(fields[1]) == 4 {
			cur = ""
			if strings.Contains(fields[1], "x") {
				cur = strings.Join(fields[5:], " ")
				if cur == "" {
					cur = "[anon exec @0x" + strings.SplitN(fields[0], "-", 2)[0] + "]"
				}
			}
			continue
		}
		if cur == "" || len(fields) < 2 {
			continue
		}
		x, _ := strconv.ParseFloat(fields[1], 64)
		e := m[cur]
		switch fields[0] {
		case "Size:":
			e.sizeKB += x
		case "Private_Dirty:":
			e.dirtyKB += x
		}
		m[cur] = e
	}
}

// values returns one field of every sample of cfg.
func (d *memData) values(cfg string, get func(memSample) float64) []float64 {
	var xs []float64
	for _, s := range d.samples[cfg] {
		xs = append(xs, get(s))
	}
	return xs
}

// print prints section 5.
func (d *memData) print(b *bench) {
	section(5, "what the loader adds to a sleeping process (`sleep 2`, read while it sleeps)")
	type metric struct {
		label string
		mb    bool // kB shown as MB
		get   func(memSample) float64
	}
	metrics := []metric{
		{"VmRSS (MB)", true, func(s memSample) float64 { return s.status["VmRSS"] }},
		{"  RssAnon (MB)", true, func(s memSample) float64 { return s.status["RssAnon"] }},
		{"  RssFile (MB)", true, func(s memSample) float64 { return s.status["RssFile"] }},
		{"Pss (MB)", true, func(s memSample) float64 { return s.rollup["Pss"] }},
		{"Private_Dirty (MB)", true, func(s memSample) float64 { return s.rollup["Private_Dirty"] }},
		{"threads", false, func(s memSample) float64 { return s.status["Threads"] }},
	}
	t := newTable(2, "metric", "configuration", "median", "min", "x native", "added")
	for i, m := range metrics {
		if i > 0 {
			t.sep()
		}
		scale, dec := 1.0, 0
		if m.mb {
			scale, dec = 1/1024.0, 2
		}
		nmed := median(d.values(cfgNative, m.get)) * scale
		for _, name := range d.cfgs {
			xs := d.values(name, m.get)
			med, mn := median(xs)*scale, minimum(xs)*scale
			add := fdelta(med-nmed, dec)
			if name == cfgNative {
				add = ""
			}
			t.add(m.label, name, fnum(med, dec), fnum(mn, dec), fratio(med, nmed), add)
		}
	}
	t.print()
	note("%d samples per configuration, one process each. threads includes the Go runtime's threads", b.o.memTrials)
	note("in the loader (the native sleep has one). Pss shares the pages of shared files fairly.")
}

// printDirty prints the private pages the loader dirties (part of section 4): the
// executable mappings with private dirty pages in a sleeping process, native and hooked.
func (d *memData) printDirty(hooked string) {
	objs := map[string]bool{}
	for _, cfg := range []string{cfgNative, hooked} {
		for _, s := range d.samples[cfg] {
			for o, e := range s.exec {
				if e.dirtyKB > 0 {
					objs[o] = true
				}
			}
		}
	}
	var names []string
	for o := range objs {
		names = append(names, o)
	}
	sort.Strings(names)
	t := newTable(1, "executable mapping", "size KiB", "native dirty KiB", "hooked dirty KiB", "pages dirtied", "pages in it")
	var total float64
	for _, o := range names {
		get := func(s memSample) float64 { return s.exec[o].dirtyKB }
		n, h := median(d.values(cfgNative, get)), median(d.values(hooked, get))
		size := median(d.values(hooked, func(s memSample) float64 { return s.exec[o].sizeKB }))
		total += h - n
		t.add(o, fnum(size, 0), fnum(n, 0), fnum(h, 0), fnum((h-n)/4, 0), fnum(size/4, 0))
	}
	rollup := func(cfg string) float64 {
		return median(d.values(cfg, func(s memSample) float64 { return s.rollup["Private_Dirty"] }))
	}
	n, h := rollup(cfgNative), rollup(hooked)
	t.sep()
	t.add("text dirtied (sum of the above)", "", "", "", fdelta(total/4, 0), "")
	t.add("whole process (smaps_rollup)", "", fnum(n, 0), fnum(h, 0), fdelta((h-n)/4, 0), "")
	t.print()
	note("Private_Dirty of executable mappings of `sleep 2` under %s vs native (medians): rewriting", hooked)
	note("a `syscall` copies its page (copy-on-write); pages without a site should stay clean.")
}
