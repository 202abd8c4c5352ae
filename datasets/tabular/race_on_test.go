//go:build race

package tabular_test

// raceEnabled is set when the race detector runs, which slows excelize's
// XML decoding about twentyfold.
const raceEnabled = true
