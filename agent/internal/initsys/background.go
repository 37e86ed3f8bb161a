package initsys

import (
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// runIdle runs fn in a new goroutine on an OS thread of its own whose scheduling policy is
// SCHED_IDLE, so the kernel runs it only when nothing else in the guest wants a CPU. Boot
// uses it for work the host connection does not need (loading the remaining kernel modules):
// on one vCPU under emulation, finit_module at normal priority took half the CPU from the
// agent's first yamux and ttrpc exchange and delayed the first answer by 100–180 ms.
// The thread is never unlocked, so Go discards it when fn returns: the policy cannot leak
// to other goroutines. If the policy cannot be set, fn still runs (at normal priority).
func runIdle(fn func(), onPolicyErr func(error)) {
	go func() {
		runtime.LockOSThread()
		if err := setIdlePolicy(); err != nil && onPolicyErr != nil {
			onPolicyErr(err)
		}
		fn()
	}()
}

// setIdlePolicy makes the calling thread SCHED_IDLE.
func setIdlePolicy() error {
	attr := unix.SchedAttr{Size: uint32(unsafe.Sizeof(unix.SchedAttr{})), Policy: unix.SCHED_IDLE}
	return unix.SchedSetAttr(0, &attr, 0)
}
