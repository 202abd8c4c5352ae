package tabular_test

import (
	"os"
	"runtime/pprof"
	"testing"
	"time"
)

func FuzzHangXLSX(f *testing.F) {
	FuzzReadXLSXSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		done := make(chan bool)
		go func() {
			select {
			case <-done:
			case <-time.After(8 * time.Second):
				os.WriteFile("/tmp/hang_input.bin", data, 0o644)
				fh, _ := os.Create("/tmp/hang_stack.txt")
				pprof.Lookup("goroutine").WriteTo(fh, 2)
				fh.Close()
				os.Exit(3)
			}
		}()
		checkFile(t, "f.xlsx", data)
		close(done)
	})
}
