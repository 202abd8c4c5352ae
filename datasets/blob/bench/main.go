// Command bench streams a large generated object into a blob store and
// reports the process's peak resident memory, to show that Put never holds
// a whole file: the figure should stay near one S3 part (16 MiB) plus the
// runtime, whatever the object size.
//
//	go run ./datasets/blob/bench -url file:///tmp/blobbench -size 2048
//	go run ./datasets/blob/bench -url "$KAIFANG_TEST_S3" -size 2048 -unknown
//
// Run one store per process: VmHWM is a high-water mark for the process.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"kaifang/datasets/blob"
)

func main() {
	u := flag.String("url", "", "blob store URL (file://… or s3://…)")
	sizeMB := flag.Int64("size", 2048, "object size in MiB")
	unknown := flag.Bool("unknown", false, "announce size -1 (unknown length)")
	keep := flag.Bool("keep", false, "keep the object afterwards")
	flag.Parse()
	if *u == "" {
		fmt.Fprintln(os.Stderr, "bench: -url is required")
		os.Exit(2)
	}
	if err := run(*u, *sizeMB<<20, *unknown, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(u string, size int64, unknown, keep bool) error {
	ctx := context.Background()
	s, err := blob.Open(ctx, u)
	if err != nil {
		return err
	}
	defer s.Close()
	announced := size
	if unknown {
		announced = -1
	}
	key := fmt.Sprintf("bench/%d.bin", time.Now().UnixNano())
	before := vmHWM()
	start := time.Now()
	info, err := s.Put(ctx, key, &genReader{left: size}, announced, "application/octet-stream")
	if err != nil {
		return err
	}
	took := time.Since(start)
	peak := vmHWM()
	if !keep {
		_ = s.Delete(ctx, key)
	}
	scheme, _, _ := strings.Cut(u, ":")
	fmt.Printf("store=%s size=%dMiB announced=%d seconds=%.1f MiB/s=%.0f sha256=%s…  VmHWM before=%dMiB peak=%dMiB\n",
		scheme, info.Size>>20, announced, took.Seconds(), float64(info.Size>>20)/took.Seconds(), info.SHA256[:12], before>>10, peak>>10)
	return nil
}

// genReader produces cheap, non-constant bytes without holding them.
type genReader struct {
	left int64
	x    uint64
}

func (g *genReader) Read(p []byte) (int, error) {
	if g.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > g.left {
		p = p[:g.left]
	}
	if g.x == 0 {
		g.x = 0x9e3779b97f4a7c15
	}
	for i := 0; i+8 <= len(p); i += 8 {
		g.x ^= g.x << 13
		g.x ^= g.x >> 7
		g.x ^= g.x << 17
		v := g.x
		p[i], p[i+1], p[i+2], p[i+3], p[i+4], p[i+5], p[i+6], p[i+7] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24), byte(v>>32), byte(v>>40), byte(v>>48), byte(v>>56)
	}
	for i := len(p) &^ 7; i < len(p); i++ {
		p[i] = byte(i)
	}
	g.left -= int64(len(p))
	return len(p), nil
}

// vmHWM returns the peak resident set size in KiB (Linux), or 0.
func vmHWM() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(v), "%d", &kb)
			return kb
		}
	}
	return 0
}
