// Command gocgo is a real-program check for zpoline-go (tests/programs_test.go, DESIGN.md §5):
// a cgo-enabled, dynamically linked Go program (so LD_PRELOAD applies) under the loader.
// It runs goroutines on several threads making system calls, os/exec (Go's
// clone(CLONE_VM|CLONE_VFORK) with the child on the parent's stack: DESIGN.md §3 "vfork"),
// concurrent execs, a C call through cgo, an os/signal round trip and file I/O. Its output
// is deterministic; the test compares it with a native run.
package main

/*
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static long c_write(const char *s) { return write(1, s, strlen(s)); }
static int c_sum(int n) { int s = 0; for (int i = 0; i < n; i++) s += i; return s; }
*/
import "C"

import (
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

func main() {
	var wg sync.WaitGroup
	sums := make([]string, 16)
	for i := range sums {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := sha256.New()
			for j := 0; j < 2000; j++ {
				fmt.Fprintf(h, "%d:%d", i, j)
				if j%50 == 0 {
					_ = os.Getpid()
					_, _ = os.Stat("/")
				}
			}
			sums[i] = fmt.Sprintf("%x", h.Sum(nil)[:8])
		}()
	}
	wg.Wait()
	for i, s := range sums {
		fmt.Printf("goroutine %d %s\n", i, s)
	}

	out, err := exec.Command("/bin/echo", "hello from echo").Output()
	check(err)
	fmt.Print(string(out))

	squares := make([]string, 8)
	for i := range squares {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := exec.Command("/bin/sh", "-c", fmt.Sprintf("echo $((%d * %d))", i, i)).Output()
			check(err)
			squares[i] = strings.TrimSpace(string(out))
		}()
	}
	wg.Wait()
	fmt.Println("squares", strings.Join(squares, " "))

	cs := C.CString("hello from C via cgo\n")
	C.c_write(cs)
	C.free(unsafe.Pointer(cs))
	fmt.Println("c_sum", C.c_sum(100))

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGUSR1)
	check(syscall.Kill(os.Getpid(), syscall.SIGUSR1))
	select {
	case s := <-sigs:
		fmt.Println("signal", s)
	case <-time.After(20 * time.Second):
		fmt.Println("signal lost")
		os.Exit(1)
	}

	dir, err := os.MkdirTemp("", "gocgo")
	check(err)
	defer os.RemoveAll(dir)
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(i * 7)
	}
	p := filepath.Join(dir, "f.bin")
	check(os.WriteFile(p, data, 0o600))
	back, err := os.ReadFile(p)
	check(err)
	fmt.Println("file roundtrip", string(back) == string(data), len(back))
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "gocgo:", err)
		os.Exit(1)
	}
}
