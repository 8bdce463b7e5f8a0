package main

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// statsReport is one parsed ZPOLINE_STATS report. The loader's format is free text; it
// is parsed loosely so that new lines show up without changes here: "key: value" pairs
// (several per line, separated by "; "), and "mapping START-END OBJECT: result" lines.
type statsReport struct {
	keys     []string          // keys in order of appearance
	kv       map[string]string // key -> value
	mappings []statsMapping
}

// statsMapping is one "mapping" line.
type statsMapping struct {
	start, end uint64
	object     string
	result     string
}

var mappingLine = regexp.MustCompile(`^mapping (0x[0-9a-f]+)-(0x[0-9a-f]+) (.*?): (.*)$`)

// parseStats parses the first report in text (a file may hold one per process).
func parseStats(text string) statsReport {
	r := statsReport{kv: map[string]string{}}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "zpoline: pid") {
			if i > 0 {
				break // the next process's report
			}
			continue
		}
		if m := mappingLine.FindStringSubmatch(line); m != nil {
			s, _ := strconv.ParseUint(strings.TrimPrefix(m[1], "0x"), 16, 64)
			e, _ := strconv.ParseUint(strings.TrimPrefix(m[2], "0x"), 16, 64)
			r.mappings = append(r.mappings, statsMapping{s, e, m[3], m[4]})
			continue
		}
		for _, part := range strings.Split(line, "; ") {
			k, v, ok := strings.Cut(part, ": ")
			if !ok {
				k, v = part, ""
			}
			if _, seen := r.kv[k]; !seen {
				r.keys = append(r.keys, k)
			}
			r.kv[k] = strings.TrimSpace(v)
		}
	}
	return r
}

// statsValue returns the value of key in a statistics report.
func statsValue(text, key string) string { return parseStats(text).kv[key] }

// loaderStats is section 4's data: the report of the cold run and of the warm runs.
type loaderStats struct {
	cold statsReport
	warm []statsReport
}

// measureLoaderStats runs /bin/true under builtin:pass with ZPOLINE_STATS: once with an
// empty cache (cold), then b.o.trials times warm.
func (b *bench) measureLoaderStats() *loaderStats {
	progress("section 4: the loader's start-up report, 1 cold + %d warm runs of /bin/true", b.o.trials)
	cache := b.freshCache()
	one := func() statsReport {
		f := b.tmpFile("stats")
		b.mustRun(b.cfgs[cfgBuiltin], cache, []string{"ZPOLINE_STATS=" + f}, false, "/bin/true")
		text, err := os.ReadFile(f)
		if err != nil {
			fatalf("the loader wrote no statistics to ZPOLINE_STATS=%s: %v", f, err)
		}
		return parseStats(string(text))
	}
	ls := &loaderStats{cold: one()}
	for i := 0; i < b.o.trials; i++ {
		ls.warm = append(ls.warm, one())
	}
	return ls
}

// durationMs parses the leading Go duration of a value ("25.7ms", "1.2ms (go 0.3ms)").
func durationMs(v string) (float64, bool) {
	f := strings.Fields(v)
	if len(f) == 0 {
		return 0, false
	}
	tok := strings.TrimRight(f[0], ",;")
	d, err := time.ParseDuration(tok)
	if err != nil || !strings.ContainsAny(tok, "smhµun") { // a bare "0" is a count
		return 0, false
	}
	return float64(d.Nanoseconds()) / 1e6, true
}

// print prints section 4 (mem supplies the private pages dirtied).
func (ls *loaderStats) print(b *bench, mem *memData) {
	section(4, "the loader's own start-up (ZPOLINE_STATS of /bin/true, builtin:pass)")
	last := ls.warm[len(ls.warm)-1]
	t := newTable(1, "figure", "cold run", "warm median", "warm min")
	skip := map[string]bool{"loader": true}
	var footnotes []string
	label := func(k string) string { // long keys: the part before " (", full text below
		if short, _, ok := strings.Cut(k, " ("); ok && len(k) > 32 {
			footnotes = append(footnotes, k)
			return short + " (*)"
		}
		return k
	}
	for _, k := range last.keys {
		if skip[k] {
			continue
		}
		cold, warm := ls.cold.kv[k], last.kv[k]
		if _, ok := durationMs(warm); ok {
			var xs []float64
			for _, w := range ls.warm {
				if x, ok := durationMs(w.kv[k]); ok {
					xs = append(xs, x)
				}
			}
			c, _ := durationMs(cold)
			t.add(label(k), fnum(c, 2)+" ms", fnum(median(xs), 2)+" ms", fnum(minimum(xs), 2)+" ms")
			continue
		}
		varies := ""
		for _, w := range ls.warm {
			if w.kv[k] != warm {
				varies = " (varies)"
			}
		}
		t.add(label(k), cold, warm+varies, "")
	}
	for _, k := range ls.cold.keys { // figures only the cold run has
		if _, ok := last.kv[k]; !ok && !skip[k] {
			t.add(label(k), ls.cold.kv[k], "-", "")
		}
	}
	t.print()
	for _, f := range footnotes {
		note("(*) %s", f)
	}
	note("The loader's own account of its start-up (1 cold run with an empty cache, %d warm runs).", len(ls.warm))

	fmt.Println()
	mt := newTable(2, "mapping", "object", "size KiB", "warm run", "cold run")
	for _, m := range last.mappings {
		cold := "="
		for _, c := range ls.cold.mappings {
			if c.object == m.object && c.end-c.start == m.end-m.start && c.result != m.result {
				cold = c.result
			}
		}
		mt.add(fmt.Sprintf("%#x", m.start), m.object, strconv.FormatUint((m.end-m.start)/1024, 10), m.result, cold)
	}
	mt.print()
	note("Per-mapping lines of the last warm run as the loader prints them; cold run: \"=\" when the same.")

	fmt.Println("\n  Private pages dirtied (smaps of a sleeping `sleep 2`, see section 5):")
	mem.printDirty(cfgBuiltin)
}
