//go:build linux

package blob

import (
	"os"

	"golang.org/x/sys/unix"
)

// The checksum and content type ride along in extended attributes: set on
// the temp file before the rename, they appear atomically with the bytes and
// cost no extra file. File systems without user xattrs just lose them.
const (
	xattrSHA256 = "user.kaifang.sha256"
	xattrType   = "user.kaifang.content_type"
)

func setMeta(f *os.File, sum, contentType string) {
	fd := int(f.Fd())
	_ = unix.Fsetxattr(fd, xattrSHA256, []byte(sum), 0)
	if contentType != "" {
		_ = unix.Fsetxattr(fd, xattrType, []byte(contentType), 0)
	}
}

func getMeta(f *os.File) (sum, contentType string) {
	fd := int(f.Fd())
	return fgetxattr(fd, xattrSHA256), fgetxattr(fd, xattrType)
}

func fgetxattr(fd int, name string) string {
	buf := make([]byte, 1024)
	n, err := unix.Fgetxattr(fd, name, buf)
	if err != nil || n < 0 || n > len(buf) {
		return ""
	}
	return string(buf[:n])
}
