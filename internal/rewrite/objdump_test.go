package rewrite

import (
	"bufio"
	"bytes"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/zpoline-go/zpoline/internal/procmaps"
)

// objdumpInsn matches an instruction line of `objdump -d --no-show-raw-insn`:
// its address and its text.
var objdumpInsn = regexp.MustCompile(`^\s*([0-9a-f]+):\s+(.*?)\s*$`)

// objdumpBranch matches the text of a direct branch and captures its target.
// Indirect branches (`jmp *%rax`) do not match.
var objdumpBranch = regexp.MustCompile(`^(?:(?:bnd|notrack|data16|cs|ds|rex\.W)\s+)*(?:j[a-z]+|call[a-z]*|loop[a-z]*|xbegin[a-z]*)\s+([0-9a-f]+)\b`)

// oracle is what objdump disassembles in the executable sections of a file.
type oracle struct {
	// sites maps the link-time address of every syscall/sysenter to the
	// address of the instruction objdump shows before it (0 if none). A
	// prefixed one ("data16 syscall") is not listed: it is not patchable.
	sites map[uint64]uint64
	// targets holds every direct branch target.
	targets map[uint64]bool
}

// objdumpOracle runs objdump over path: the test oracle.
func objdumpOracle(t *testing.T, path string) oracle {
	t.Helper()
	objdump, err := exec.LookPath("objdump")
	if err != nil {
		t.Skip("objdump (binutils) not installed: it is the oracle of this test")
	}
	cmd := exec.Command(objdump, "-d", "--no-show-raw-insn", path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	o := oracle{sites: map[uint64]uint64{}, targets: map[uint64]bool{}}
	var prev uint64
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		m := objdumpInsn.FindSubmatch(sc.Bytes())
		if m == nil {
			prev = 0 // a label or section header: a new block
			continue
		}
		a, _ := strconv.ParseUint(string(m[1]), 16, 64)
		switch text := m[2]; {
		case string(text) == "syscall" || string(text) == "sysenter":
			o.sites[a] = prev
		case objdumpBranch.Match(text):
			to, _ := strconv.ParseUint(string(objdumpBranch.FindSubmatch(text)[1]), 16, 64)
			o.targets[to] = true
		}
		prev = a
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("objdump %s: %v\n%s", path, err, stderr.Bytes())
	}
	return o
}

// fileMappings returns the mappings the dynamic loader would make for the
// executable PT_LOADs of f, at load bias bias, with their contents read from
// the file bytes raw.
func fileMappings(t testing.TB, f *elf.File, raw []byte, bias uint64) (ms []procmaps.Mapping, mems [][]byte) {
	t.Helper()
	for _, p := range f.Progs {
		if p.Type != elf.PT_LOAD || p.Flags&elf.PF_X == 0 {
			continue
		}
		off := p.Off &^ (pageSize - 1)
		end := min((p.Off+p.Filesz+pageSize-1)&^(pageSize-1), uint64(len(raw)))
		start := bias + p.Vaddr&^(pageSize-1)
		ms = append(ms, procmaps.Mapping{
			Start: start, End: start + (p.Off+p.Filesz-off+pageSize-1)&^(pageSize-1),
			Read: true, Exec: true, Private: true, Offset: off,
		})
		mems = append(mems, raw[off:end])
	}
	if len(ms) == 0 {
		t.Fatal("no executable PT_LOAD")
	}
	return ms, mems
}

// accuracy holds what one image is expected to give.
type accuracy struct {
	path string
	// Exact numbers, checked only on the reference system (Debian 12,
	// glibc 2.36, see isGlibc236): syscalls objdump finds, jump sites, and
	// rt_sigreturn syscalls skipped. The rest are call sites.
	total, jump, sig int
	movJump          int // jump sites whose displaced instruction is b8/48 c7 c0 mov $imm32
	// Sites whose two bytes straddle a page boundary (link-time addresses).
	straddle []uint64
}

var accuracyCorpus = []accuracy{
	// 526 syscalls: 525 sites + __restore_rt (rt_sigreturn). Jump: 436 after
	// `mov $imm32,%eax`, 17 after another displaceable instruction; 72 call.
	{path: "/usr/lib/x86_64-linux-gnu/libc.so.6", total: 526, movJump: 436, jump: 453, sig: 1, straddle: []uint64{0x3efff, 0xfcfff}},
	// 46 syscalls: 45 sites + ld.so's own __restore_rt. Jump: 33 after a
	// mov $imm32, 2 after another displaceable instruction; 10 call.
	{path: "/lib64/ld-linux-x86-64.so.2", total: 46, movJump: 33, jump: 35, sig: 1},
	{path: "/usr/bin/python3.11"},  // no syscall instruction: it goes through libc
	{path: "/usr/local/go/bin/go"}, // static Go: compared with objdump only (depends on the Go version)
	{path: "/bin/ls"},              // no syscall instruction
}

// isGlibc236 reports whether this machine has the glibc the exact numbers
// of accuracyCorpus were taken from.
var isGlibc236 = sync.OnceValue(func() bool {
	b, err := os.ReadFile("/usr/lib/x86_64-linux-gnu/libc.so.6")
	return err == nil && bytes.Contains(b, []byte("GNU C Library (Debian GLIBC 2.36-"))
})

// TestAccuracyObjdump compares the sites found in real images with every
// syscall objdump disassembles in them. The only difference allowed is the
// rt_sigreturn sites, which are found but deliberately not returned.
func TestAccuracyObjdump(t *testing.T) {
	if testing.Short() {
		t.Skip("runs objdump over large binaries")
	}
	for _, tc := range accuracyCorpus {
		t.Run(filepath.Base(tc.path), func(t *testing.T) {
			t.Parallel()
			raw, err := os.ReadFile(tc.path)
			if os.IsNotExist(err) {
				t.Skipf("%s not installed", tc.path)
			}
			if err != nil {
				t.Fatal(err)
			}
			f, err := elf.NewFile(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			bias := uint64(0)
			if f.Type == elf.ET_DYN {
				bias = 0x7f3a12340000 // anything page-aligned: addresses must move with it
			}
			t0 := time.Now()
			img, err := NewImage(f)
			if err != nil {
				t.Fatal(err)
			}
			if img.Warning != nil {
				t.Errorf("image warning: %v", img.Warning)
			}
			tImage := time.Since(t0)
			ms, mems := fileMappings(t, f, raw, bias)
			var sites []Site
			var st Stats
			t1 := time.Now()
			for i, m := range ms {
				s, st1, err := img.ScanMapping(m, mems[i])
				if err != nil {
					t.Fatal(err)
				}
				sites = append(sites, s...)
				st.add(st1)
			}
			tScan := time.Since(t1)

			o := objdumpOracle(t, tc.path)
			bytesAt := func(addr uint64) []byte {
				for i, m := range ms {
					if m.Contains(addr) {
						return mems[i][addr-m.Start:]
					}
				}
				return nil
			}
			compareWithOracle(t, o, sites, st, bias, bytesAt)
			oracle := o.sites

			sig := 0
			for _, r := range st.Rejects {
				if r.Kind == RejectSigreturn {
					sig++
				}
			}
			t.Logf("%s: objdump %d; sites %d = %d jump + %d call; rt_sigreturn skipped %d; other rejects %d of %d candidates; "+
				"demoted %d; decoded %d funcs, %d bytes (%.1f%% of %d), %d by resync windows",
				tc.path, len(oracle), st.Sites, st.Jump, st.Call, sig, st.Rejected-sig, st.Candidates,
				len(st.Demoted), st.FuncsDecoded, st.BytesDecoded, 100*float64(st.BytesDecoded)/float64(st.BytesExamined), st.BytesExamined, st.Fallback)
			t.Logf("%s: NewImage %v (%d function ranges), scan %v (%.0f MB/s)", tc.path, tImage.Round(time.Microsecond),
				len(img.Funcs), tScan.Round(time.Microsecond), float64(st.BytesExamined)/tScan.Seconds()/1e6)
			for _, d := range st.Demoted {
				t.Logf("  demoted %v", d)
			}

			if tc.total == 0 && tc.path != "/usr/local/go/bin/go" && len(oracle) != 0 {
				t.Logf("objdump finds syscalls where the reference system has none")
			}
			if !isGlibc236() || tc.total == 0 {
				return
			}
			var straddle []uint64
			for _, s := range sites {
				if s.Addr/pageSize != (s.Addr+1)/pageSize {
					straddle = append(straddle, s.Addr-bias)
				}
			}
			if !slices.Equal(straddle, tc.straddle) {
				t.Errorf("sites straddling a page: %#x, want %#x", straddle, tc.straddle)
			}
			movJump := 0
			for _, s := range sites {
				if s.Shape == ShapeJump && (s.Prefix[0] == 0xb8 || bytes.HasPrefix(s.Prefix, []byte{0x48, 0xc7, 0xc0})) {
					movJump++
				}
			}
			if len(oracle) != tc.total || st.Sites+sig != tc.total || st.Jump != tc.jump || movJump != tc.movJump || sig != tc.sig {
				t.Errorf("objdump %d, sites %d (jump %d, %d of them after mov $imm32) + rt_sigreturn %d; "+
					"want %d = %d jump (%d after mov $imm32) + %d call + %d rt_sigreturn",
					len(oracle), st.Sites, st.Jump, movJump, sig, tc.total, tc.jump, tc.movJump, tc.total-tc.jump-tc.sig, tc.sig)
			}
		})
	}
}

// compareWithOracle checks sites (runtime addresses) against objdump
// (link-time addresses):
//   - sites plus rt_sigreturn rejects are exactly objdump's syscalls;
//   - every site's bytes are what its shape says;
//   - every jump site's Start is the instruction objdump shows before the
//     syscall, and no direct branch objdump decodes targets (Start, Addr+2);
//   - every syscall objdump shows right after a `b8 imm32` or `48 c7 c0
//     imm32` mov is a jump site unless it was demoted with a reason.
func compareWithOracle(t *testing.T, o oracle, sites []Site, st Stats, bias uint64, bytesAt func(uint64) []byte) {
	t.Helper()
	got := map[uint64]string{}
	for _, s := range sites {
		got[s.Addr-bias] = "site"
		b := bytesAt(s.Addr)
		if len(b) < 2 || b[0] != 0x0f || (b[1] != 0x05 && b[1] != 0x34) {
			t.Errorf("site %v: bytes % x are no syscall/sysenter", s, b[:min(2, len(b))])
			continue
		}
		if s.Shape != ShapeJump {
			continue
		}
		pre := bytesAt(s.Start)
		if s.Addr-s.Start < 5 || len(pre) < int(s.Addr-s.Start) || !bytes.Equal(pre[:s.Addr-s.Start], s.Prefix) {
			t.Errorf("jump site %v: prefix does not match memory", s)
		}
		if p, ok := o.sites[s.Addr-bias]; ok && p != s.Start-bias {
			t.Errorf("jump site %v: objdump shows the instruction before it at %#x", s, p+bias)
		}
		for a := s.Start + 1; a < s.End(); a++ {
			if o.targets[a-bias] {
				t.Errorf("jump site %v: objdump shows a direct branch to %#x", s, a)
			}
		}
	}
	for _, r := range st.Rejects {
		if r.Kind == RejectSigreturn {
			got[r.Addr-bias] = "rt_sigreturn"
		}
	}
	demoted := map[uint64]bool{}
	for _, d := range st.Demoted {
		demoted[d.Addr-bias] = true
	}
	var missing, extra, notJump []string
	for a, p := range o.sites {
		if got[a] == "" {
			reason := "no reject recorded"
			for _, r := range st.Rejects {
				if r.Addr-bias == a {
					reason = r.String()
				}
			}
			missing = append(missing, fmt.Sprintf("%#x (%s)", a, reason))
			continue
		}
		pre := bytesAt(p + bias)
		isMov := p != 0 && len(pre) >= 7 && (a-p == 5 && pre[0] == 0xb8 || a-p == 7 && bytes.HasPrefix(pre, []byte{0x48, 0xc7, 0xc0}))
		if got[a] == "site" && isMov && !demoted[a] {
			if b := bytesAt(a + bias); len(b) >= 2 && b[1] == 0x05 {
				var shape Shape
				for _, s := range sites {
					if s.Addr == a+bias {
						shape = s.Shape
					}
				}
				if shape != ShapeJump {
					notJump = append(notJump, fmt.Sprintf("%#x", a+bias))
				}
			}
		}
	}
	for a, what := range got {
		if _, ok := o.sites[a]; !ok {
			extra = append(extra, fmt.Sprintf("%#x (%s)", a, what))
		}
	}
	slices.Sort(missing)
	slices.Sort(extra)
	slices.Sort(notJump)
	if len(missing) > 0 {
		t.Errorf("%d syscalls objdump finds are missing: %v", len(missing), missing)
	}
	if len(extra) > 0 {
		t.Errorf("%d sites objdump does not know: %v", len(extra), extra)
	}
	if len(notJump) > 0 {
		t.Errorf("%d syscalls follow a mov $imm32 but got ShapeCall without a recorded reason: %v", len(notJump), notJump)
	}
}

// TestAccuracyLive scans this test process's own executable mapping and its
// vDSO from memory (as the loader will), and compares with objdump.
func TestAccuracyLive(t *testing.T) {
	if testing.Short() {
		t.Skip("runs objdump")
	}
	ms, err := procmaps.Self()
	if err != nil {
		t.Fatal(err)
	}
	memf, err := os.Open("/proc/self/mem")
	if err != nil {
		t.Skip(err)
	}
	defer memf.Close()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	read := func(m procmaps.Mapping) []byte {
		b := make([]byte, m.Size())
		if _, err := memf.ReadAt(b, int64(m.Start)); err != nil {
			t.Fatalf("read %v: %v", m, err)
		}
		return b
	}
	var sawExe, sawVDSO bool
	for _, m := range ms {
		if !m.Exec || (m.Path != exe && m.Path != "[vdso]") {
			continue
		}
		mem := read(m)
		var path string
		var f *elf.File
		if m.Path == "[vdso]" {
			// The vDSO is a complete ELF image in memory.
			sawVDSO = true
			path = filepath.Join(t.TempDir(), "vdso.so")
			if err := os.WriteFile(path, mem, 0o644); err != nil {
				t.Fatal(err)
			}
			f, err = elf.NewFile(bytes.NewReader(mem))
		} else {
			sawExe = true
			path = exe
			f, err = elf.Open(exe)
		}
		if err != nil {
			t.Fatal(err)
		}
		t0 := time.Now()
		sites, st, err := ScanMapping(m, mem, f)
		d := time.Since(t0)
		if err != nil {
			t.Fatal(err)
		}
		img, _ := NewImage(f)
		bias, _ := img.Bias(m)
		o := objdumpOracle(t, path)
		// Only the part of the oracle inside this mapping.
		for a := range o.sites {
			if !m.Contains(a + bias) {
				delete(o.sites, a)
			}
		}
		compareWithOracle(t, o, sites, st, bias, func(a uint64) []byte {
			if !m.Contains(a) {
				return nil
			}
			return mem[a-m.Start:]
		})
		oracle := o.sites
		t.Logf("%s at %#x (bias %#x): objdump %d, sites %d (%d jump, %d call), rejects %d, %v",
			m.Path, m.Start, bias, len(oracle), st.Sites, st.Jump, st.Call, st.Rejected, d.Round(time.Microsecond))
		for _, s := range sites {
			if m.Path == "[vdso]" {
				t.Logf("  vdso site %v", s)
			}
		}
		f.Close()
	}
	if !sawExe || !sawVDSO {
		t.Fatalf("executable mapping found: %v, vDSO found: %v", sawExe, sawVDSO)
	}
}

// TestAccuracyWide runs the objdump comparison over every x86-64 executable
// and shared library of the system that contains a 0f 05 or 0f 34 pair. It
// takes minutes, so it runs only with ZPOLINE_WIDE_TEST=1. (On the
// reference system: 317 files, 23 with syscalls, all equal to objdump.)
func TestAccuracyWide(t *testing.T) {
	if os.Getenv("ZPOLINE_WIDE_TEST") != "1" {
		t.Skip("set ZPOLINE_WIDE_TEST=1 to compare every system binary with objdump")
	}
	var files []string
	for _, g := range []string{"/usr/lib/x86_64-linux-gnu/*.so*", "/usr/lib/x86_64-linux-gnu/*/*.so*", "/usr/bin/*", "/usr/sbin/*", "/usr/libexec/*/*"} {
		m, _ := filepath.Glob(g)
		files = append(files, m...)
	}
	for _, path := range files {
		fi, err := os.Lstat(path)
		if err != nil || !fi.Mode().IsRegular() || fi.Size() > 64<<20 {
			continue
		}
		raw, err := os.ReadFile(path)
		if err != nil || !bytes.Contains(raw, []byte{0x0f, 0x05}) && !bytes.Contains(raw, []byte{0x0f, 0x34}) {
			continue
		}
		f, err := elf.NewFile(bytes.NewReader(raw))
		if err != nil || f.Machine != elf.EM_X86_64 || (f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN) ||
			!slices.ContainsFunc(f.Progs, func(p *elf.Prog) bool { return p.Type == elf.PT_LOAD && p.Flags&elf.PF_X != 0 }) {
			continue
		}
		t.Run(path, func(t *testing.T) {
			img, err := NewImage(f)
			if err != nil {
				t.Fatal(err)
			}
			bias := uint64(0)
			if f.Type == elf.ET_DYN {
				bias = 0x7f3a12340000
			}
			ms, mems := fileMappings(t, f, raw, bias)
			var sites []Site
			var st Stats
			for i, m := range ms {
				s, st1, err := img.ScanMapping(m, mems[i])
				if err != nil {
					t.Fatal(err)
				}
				sites = append(sites, s...)
				st.add(st1)
			}
			o := objdumpOracle(t, path)
			compareWithOracle(t, o, sites, st, bias, func(addr uint64) []byte {
				for i, m := range ms {
					if m.Contains(addr) {
						return mems[i][addr-m.Start:]
					}
				}
				return nil
			})
			if len(o.sites) > 0 {
				t.Logf("objdump %d; %v", len(o.sites), st)
			}
		})
	}
}
