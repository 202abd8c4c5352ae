package unihan

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// CodePoint parses "U+4E00"; a trailing source annotation ("U+4E00<kMatthews")
// is dropped.
func CodePoint(s string) (rune, error) {
	s, _, _ = strings.Cut(s, "<")
	if !strings.HasPrefix(s, "U+") {
		return 0, fmt.Errorf("bad code point %q", s)
	}
	n, err := strconv.ParseUint(s[2:], 16, 32)
	if err != nil {
		return 0, fmt.Errorf("bad code point %q: %w", s, err)
	}
	if n > 0x10FFFF {
		return 0, fmt.Errorf("bad code point %q: past U+10FFFF", s)
	}
	return rune(n), nil
}

// Lines calls fn with the character and the value of every line of r that
// gives field, in file order, and comment with every comment line (the
// header names the Unicode version) when comment is not nil. An error from
// fn stops the reading and is returned.
func Lines(r io.Reader, field string, comment func(line string), fn func(cp rune, value string) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		if line[0] == '#' {
			if comment != nil {
				comment(line)
			}
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) < 3 || cols[1] != field {
			continue
		}
		cp, err := CodePoint(cols[0])
		if err != nil {
			return err
		}
		if err := fn(cp, cols[2]); err != nil {
			return fmt.Errorf("%s: %w", cols[0], err)
		}
	}
	return sc.Err()
}
