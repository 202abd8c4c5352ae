// Command gencsv writes the benchmark table as CSV for ingest.sh.
package main

import (
	"bufio"
	"flag"
	"log"
	"os"

	"kaifang/datasets/sqlstore/bench"
)

func main() {
	n := flag.Int("n", 1000000, "rows")
	flag.Parse()
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	if err := bench.WriteCSV(w, *n); err != nil {
		log.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}
}
