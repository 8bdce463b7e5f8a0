// The Go runtime must not keep cgroup files open in the program to re-read its CPU limit.

//go:debug containermaxprocs=0
//go:debug updatemaxprocs=0

// Command libzpoline is built with -buildmode=c-shared into libzpoline.so, the loader:
//
//	LD_PRELOAD=build/libzpoline.so prog args...
//
// Everything lives in the loader package; this main only links it in, so that a user's
// own c-shared main importing the loader package (and registering hooks) is a complete
// loader as well.
package main

import "C"

import _ "github.com/zpoline-go/zpoline/loader"

func main() {}
