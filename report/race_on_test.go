//go:build race

package report

// raceEnabled is true when the race detector is on; the scale test then
// writes a tenth of its records, as the detector slows writing tenfold.
const raceEnabled = true
