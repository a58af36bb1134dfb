//go:build linux && (amd64 || arm64)

package report

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"unsafe"
)

// Linux inode flag ioctls (linux/fs.h) on 64-bit platforms.
const (
	fsIocGetFlags = 0x80086601
	fsIocSetFlags = 0x40086602
	fsImmutableFl = 0x00000010
)

// makeImmutable sets the immutable attribute on dir (chattr +i), which
// stops even root from creating files in it, and returns a function that
// clears it again. It fails without CAP_LINUX_IMMUTABLE or on file systems
// without inode flags.
func makeImmutable(dir string) (undo func(), err error) {
	set := func(on bool) error {
		f, err := os.Open(dir)
		if err != nil {
			return err
		}
		defer f.Close()
		var flags uint32
		if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), fsIocGetFlags, uintptr(unsafe.Pointer(&flags))); errno != 0 {
			return errno
		}
		if on {
			flags |= fsImmutableFl
		} else {
			flags &^= fsImmutableFl
		}
		if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), fsIocSetFlags, uintptr(unsafe.Pointer(&flags))); errno != 0 {
			return errno
		}
		return nil
	}
	if err := set(true); err != nil {
		return nil, err
	}
	return func() { _ = set(false) }, nil
}

func TestWriteFileModeIgnoresUmask(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "sub", "report.html")
	if err := WriteFile(context.Background(), path, FormatHTML, sliceSource(fixtureRecords()), Options{}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("report mode under umask 077 = %v; want 0644", fi.Mode().Perm())
	}
}
