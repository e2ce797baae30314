package testsupport

import (
	"context"
	"testing"
	"time"

	"github.com/ultramarket/gateway/application/jobs"
)

// JobReport is one pass of a job as jobs.Config.Report heard it.
type JobReport struct {
	N   int
	Err error
}

// Job is a pass running under jobs.Run in a goroutine, paced by a Ticker the
// test drives: the test ticks, reads the reports, and stops it.
type Job struct {
	Ticker  *Ticker
	reports chan JobReport
	done    chan struct{}
	err     error
	cancel  context.CancelFunc
}

// StartJob runs pass under jobs.Run with cfg, whose Ticker and Report it
// sets (and its Interval, when zero, to a valid one the Ticker ignores). The
// job is stopped when the test ends.
func StartJob(t testing.TB, pass jobs.Pass, cfg jobs.Config) *Job {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	j := &Job{Ticker: NewTicker(), reports: make(chan JobReport, 100), done: make(chan struct{}), cancel: cancel}
	if cfg.Interval == 0 {
		cfg.Interval = time.Hour
	}
	cfg.Ticker = j.Ticker
	cfg.Report = func(n int, err error) { j.reports <- JobReport{n, err} }
	go func() {
		defer close(j.done)
		j.err = jobs.Run(ctx, pass, cfg)
	}()
	t.Cleanup(func() {
		cancel()
		<-j.done
	})
	return j
}

// Next returns the next pass reported, failing the test if none comes.
func (j *Job) Next(t testing.TB) JobReport {
	t.Helper()
	select {
	case r := <-j.reports:
		return r
	case <-time.After(tickWait):
		t.Fatalf("no pass was reported within %s", tickWait)
		return JobReport{}
	}
}

// Unread is how many reported passes Next has not returned yet.
func (j *Job) Unread() int { return len(j.reports) }

// Stop ends the job's context and returns what jobs.Run returned, failing
// the test if it does not return promptly.
func (j *Job) Stop(t testing.TB) error {
	t.Helper()
	j.cancel()
	select {
	case <-j.done:
		return j.err
	case <-time.After(tickWait):
		t.Fatalf("jobs.Run did not return within %s of its context ending", tickWait)
		return nil
	}
}
