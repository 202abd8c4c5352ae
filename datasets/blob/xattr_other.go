//go:build !linux

package blob

import "os"

// Elsewhere the checksum is not kept; Stat reports size and time only.
func setMeta(f *os.File, sum, contentType string) {}

func getMeta(f *os.File) (sum, contentType string) { return "", "" }
