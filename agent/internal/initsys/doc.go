// Package initsys does the agent's PID-1 duties in the guest: make the initramfs root a
// bind mount of itself so that pivot_root works for container runtimes (root.go); mount
// proc, sys, devtmpfs, devpts (newinstance, ptmxmode=0666), /dev/shm, /tmp, /run and
// cgroup v2 on /sys/fs/cgroup; route the agent's
// output to /dev/console; parse the kernel command line's vessel.* keys; load the
// kernel modules listed in /etc/vessel/modules.list in order with finit_module (EEXIST
// is fine, other failures are logged and recorded); set the hostname; bring lo up;
// create /dev/disk/by-id/virtio-<serial> links (no udev; RefreshDiskLinks may be
// called again later); record a boot timeline; and at shutdown sync, unmount
// everything in reverse order (lazily when busy) and power off.
//
// The parts that need to be PID 1 are thin wrappers around pure functions that take
// their system calls as parameters (ParseCmdline, ParseModulesList, LoadModules,
// MakeDiskLinks, UnmountAll, ...), which are tested on the host.
package initsys
