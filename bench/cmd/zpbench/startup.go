package main

import "os"

// startupProg is one program whose start-up section 3 measures.
type startupProg struct {
	label string
	argv  []string
}

// startupData holds section 3: wall time in ms of fork+exec+wait, per program and
// configuration, for the first (cold) run and the warm runs after it.
type startupData struct {
	progs []startupProg
	cfgs  []string
	cold  map[string]map[string]float64
	warm  map[string]map[string][]float64
}

// startupCfgs are the configurations of section 3.
var startupCfgs = []string{cfgNative, cfgBuiltin, cfgImpl, cfgPassVF, cfgPass}

// measureStartup runs section 3. Each configuration gets its own empty XDG_CACHE_HOME,
// so its first run is cold for the loader (no cached site list); the OS page cache is
// not dropped. Then b.o.startupRuns rounds run every configuration once each.
func (b *bench) measureStartup() *startupData {
	d := &startupData{cfgs: startupCfgs, cold: map[string]map[string]float64{}, warm: map[string]map[string][]float64{}}
	d.progs = append(d.progs, startupProg{"/bin/true", []string{"/bin/true"}})
	if _, err := os.Stat(b.o.python); err == nil {
		d.progs = append(d.progs, startupProg{b.o.python + " -c pass", []string{b.o.python, "-c", "pass"}})
	} else {
		progress("WARNING: %s not found: its start-up rows are skipped", b.o.python)
	}
	progress("section 3: start-up, %d programs x %d configurations x (1 cold + %d warm runs)", len(d.progs), len(d.cfgs), b.o.startupRuns)
	for _, p := range d.progs {
		d.cold[p.label] = map[string]float64{}
		d.warm[p.label] = map[string][]float64{}
		caches := map[string]string{}
		for _, name := range d.cfgs {
			caches[name] = b.freshCache()
			r := b.mustRun(b.cfgs[name], caches[name], nil, false, p.argv...)
			d.cold[p.label][name] = ms(r)
		}
		for i := 0; i < b.o.startupRuns; i++ {
			for _, name := range d.cfgs {
				r := b.mustRun(b.cfgs[name], caches[name], nil, false, p.argv...)
				d.warm[p.label][name] = append(d.warm[p.label][name], ms(r))
			}
		}
	}
	return d
}

// ms returns a run's wall time in milliseconds.
func ms(r runResult) float64 { return float64(r.wall.Nanoseconds()) / 1e6 }

// warmMed returns the warm median in ms.
func (d *startupData) warmMed(prog, cfg string) float64 { return median(d.warm[prog][cfg]) }

// print prints section 3.
func (d *startupData) print(b *bench) {
	section(3, "start-up: wall time of fork+exec+wait, ms")
	t := newTable(2, "program", "configuration", "cold (1st)", "warm med", "warm min", "x native", "added ms", "added (min)", "cold added")
	t.header[8] = "cold - native warm"
	for i, p := range d.progs {
		if i > 0 {
			t.sep()
		}
		nmed, nmin := d.warmMed(p.label, cfgNative), minimum(d.warm[p.label][cfgNative])
		for _, name := range d.cfgs {
			med, mn, cold := d.warmMed(p.label, name), minimum(d.warm[p.label][name]), d.cold[p.label][name]
			add, addMin, coldAdd := fdelta(med-nmed, 2), fdelta(mn-nmin, 2), fdelta(cold-nmed, 2)
			if name == cfgNative {
				add, addMin, coldAdd = "", "", ""
			}
			t.add(p.label, name, fnum(cold, 2), fnum(med, 2), fnum(mn, 2), fratio(med, nmed), add, addMin, coldAdd)
		}
	}
	t.print()
	note("Measured from Go around exec.Cmd.Run (includes Go's fork/exec, the same for every row).")
	note("cold = the first run of that configuration with an empty XDG_CACHE_HOME (no cached site")
	note("list); the OS page cache is not dropped. warm = %d runs after it, configurations interleaved.", b.o.startupRuns)
	note("cold - native warm: the cold run against the native warm median (a single native first run")
	note("is too noisy a baseline).")
	note("default lib, passvf.so and pass.so are loaded with dlmopen; pass.so links libc, so a second")
	note("libc is loaded into its namespace. Runs are not pinned.")
}
