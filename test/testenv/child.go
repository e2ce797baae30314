package testenv

import (
	"os/exec"
	"runtime"
	"syscall"
)

// startChild starts cmd so that it is killed when the test binary dies (a
// panic, a kill, Stop never run), and not before: Linux sends the parent-death
// signal when the *thread* that forked the child ends, not the process
// (golang/go#27505), and the Go runtime ends a thread whenever a goroutine
// locked to it returns. So the child is started and waited for by one
// goroutine that keeps its thread locked until the child has exited; no other
// goroutine runs on that thread, so nothing else can end it early. done is
// closed once the child has exited.
func startChild(cmd *exec.Cmd) (done <-chan struct{}, err error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	exited := make(chan struct{})
	started := make(chan error, 1)
	go func() {
		// Never unlocked: the thread ends with this goroutine, once the
		// child it parents is gone.
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = cmd.Wait()
		close(exited)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return exited, nil
}
