package tracering

import "time"

func rdtsc() uint64

// Clock converts the recorder's time stamps (rdtsc) into durations. The recorder makes
// no system call to read the time; the TSC of this machine class is invariant
// (constant_tsc, nonstop_tsc), so one frequency serves every CPU.
type Clock struct {
	tsc0 uint64
	t0   time.Time
	hz   float64
}

// Calibrate measures the TSC frequency against the monotonic clock over at least d
// (10 ms gives about 10 ppm).
func Calibrate(d time.Duration) Clock {
	t0, c0 := time.Now(), rdtsc()
	time.Sleep(d)
	t1, c1 := time.Now(), rdtsc()
	return Clock{tsc0: c0, t0: t0, hz: float64(c1-c0) / t1.Sub(t0).Seconds()}
}

// Duration converts a difference of two time stamps.
func (c Clock) Duration(ticks uint64) time.Duration {
	if c.hz <= 0 {
		return 0
	}
	return time.Duration(float64(ticks) / c.hz * 1e9)
}

// Time converts a time stamp into wall-clock time.
func (c Clock) Time(tsc uint64) time.Time {
	if c.hz <= 0 {
		return c.t0
	}
	return c.t0.Add(time.Duration(float64(int64(tsc-c.tsc0)) / c.hz * 1e9))
}

// Hz is the measured frequency.
func (c Clock) Hz() float64 { return c.hz }
