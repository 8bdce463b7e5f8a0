package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// program is one C program or library zpbench builds with gcc.
type program struct {
	out   string   // output path
	src   string   // the C source
	deps  []string // other inputs (headers)
	flags []string // gcc flags besides -o and the source
}

// buildPrograms compiles the workloads and the bench hook libraries into build/bench/
// when they are missing or older than one of their inputs.
func (b *bench) buildPrograms() error {
	b.sysloop = filepath.Join(b.out, "sysloop")
	b.passVF = filepath.Join(b.out, "hooks", "passvf.so")
	b.pass = filepath.Join(b.out, "hooks", "pass.so")
	b.passSSE = filepath.Join(b.out, "hooks", "passsse.so")
	hdr := filepath.Join(b.root, "include", "zpoline.h")
	warn := []string{"-Wall", "-Wextra", "-Werror"}
	progs := []program{
		{
			out: b.sysloop, src: filepath.Join(b.root, "bench", "workloads", "sysloop.c"),
			flags: append([]string{"-O2", "-g"}, warn...),
		},
		{
			// Vector-free for real (-mgeneral-regs-only) and without libc, like the
			// default hook library.
			out: b.passVF, src: filepath.Join(b.root, "bench", "hooks", "passvf.c"), deps: []string{hdr},
			flags: append([]string{"-O2", "-fPIC", "-shared", "-mgeneral-regs-only", "-fvisibility=hidden",
				"-nostdlib", "-Wl,-z,defs"}, warn...),
		},
		{
			// An ordinary shared library: default flags, libc linked.
			out: b.pass, src: filepath.Join(b.root, "bench", "hooks", "pass.c"), deps: []string{hdr},
			flags: append([]string{"-O2", "-fPIC", "-shared"}, warn...),
		},
		{
			out: b.passSSE, src: filepath.Join(b.root, "bench", "hooks", "passsse.c"), deps: []string{hdr},
			flags: append([]string{"-O2", "-fPIC", "-shared"}, warn...),
		},
	}
	for _, p := range progs {
		if !stale(p.out, append([]string{p.src}, p.deps...)) {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p.out), 0o755); err != nil {
			return err
		}
		args := append(append([]string(nil), p.flags...), "-o", p.out, p.src)
		progress("gcc %s", strings.Join(args, " "))
		cmd := exec.Command("gcc", args...)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("building %s: %v", p.out, err)
		}
	}
	return nil
}

// stale reports whether out is missing or older than any of ins.
func stale(out string, ins []string) bool {
	o, err := os.Stat(out)
	if err != nil {
		return true
	}
	for _, in := range ins {
		if i, err := os.Stat(in); err != nil || i.ModTime().After(o.ModTime()) {
			return true
		}
	}
	return false
}
