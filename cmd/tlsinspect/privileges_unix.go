//go:build unix

package main

import (
	"fmt"
	"os/user"
	"slices"
	"strconv"
	"syscall"
)

// dropPrivileges gives up root for good and becomes user name (-Z), as
// tcpdump does once its capture device is open: the user's groups, then
// its primary group, then its user id, in that order because after setuid
// the others can no longer be changed. On Linux, Go (1.16 and later)
// applies each call to every thread of the process, and the kernel clears
// the capabilities when root's user ids are given up. It returns the ids
// taken, for the log line.
func dropPrivileges(name string) (string, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return "", fmt.Errorf("-Z %s: %v: give an existing user, e.g. nobody", name, err)
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err1 != nil || err2 != nil {
		return "", fmt.Errorf("-Z %s: user id %q or group id %q is not a number", name, u.Uid, u.Gid)
	}
	groups := []int{gid}
	if ids, err := u.GroupIds(); err == nil {
		for _, s := range ids {
			if g, err := strconv.Atoi(s); err == nil && !slices.Contains(groups, g) {
				groups = append(groups, g)
			}
		}
	}
	if err := syscall.Setgroups(groups); err != nil {
		return "", fmt.Errorf("-Z %s: setting the groups: %v (-Z needs root; without root, run as the user directly with file capabilities, see the README)", name, err)
	}
	if err := syscall.Setgid(gid); err != nil {
		return "", fmt.Errorf("-Z %s: setgid %d: %v", name, gid, err)
	}
	if err := syscall.Setuid(uid); err != nil {
		return "", fmt.Errorf("-Z %s: setuid %d: %v", name, uid, err)
	}
	if uid != 0 && syscall.Setuid(0) == nil {
		return "", fmt.Errorf("-Z %s: root could be taken back after setuid %d: refusing to go on", name, uid)
	}
	return fmt.Sprintf("uid %d, gid %d, groups %v", uid, gid, groups), nil
}
