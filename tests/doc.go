// Package tests holds zpoline-go's correctness matrix: one probe program per hazard of
// DESIGN.md §3 (tests/probes), two test hook libraries, one per hook ABI (tests/hooks), and
// real programs run natively and under the loader with their output compared.
//
// Build the artifacts first (make test-artifacts, see tests/Makefile.inc), then:
//
//	go test ./tests -run Native   # the probes and programs natively: proves the tests
//	go test ./tests -run Hooked   # the same under build/libzpoline.so with each test hook
//
// ZPOLINE_BUILD overrides the build directory (default: ../build relative to this
// package); ZPOLINE_TEST_TIMEOUT overrides the per-run timeout (default 60s).
package tests
