//go:build !race

package tabular_test

const raceEnabled = false
