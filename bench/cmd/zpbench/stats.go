package main

import (
	"fmt"
	"math"
	"sort"
)

// median returns the median of xs (the mean of the two middle values for an even count),
// or NaN for no values.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// minimum returns the smallest of xs, or NaN for no values.
func minimum(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	m := xs[0]
	for _, x := range xs[1:] {
		m = math.Min(m, x)
	}
	return m
}

// mean returns the arithmetic mean of xs, or NaN for no values.
func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// fnum formats x with the given number of decimals ("-" for NaN).
func fnum(x float64, decimals int) string {
	if math.IsNaN(x) {
		return "-"
	}
	return fmt.Sprintf("%.*f", decimals, x)
}

// fdelta formats x with an explicit sign ("-" for NaN).
func fdelta(x float64, decimals int) string {
	if math.IsNaN(x) {
		return "-"
	}
	return fmt.Sprintf("%+.*f", decimals, x)
}

// fratio formats x/base as "1.23x" ("-" when either is NaN or base is 0).
func fratio(x, base float64) string {
	if math.IsNaN(x) || math.IsNaN(base) || base == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", x/base)
}
