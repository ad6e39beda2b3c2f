//go:build !amd64 && !arm64

package syscalls

// names is empty where ktrace has no table: syscall_name() says so.
var names [0]string
