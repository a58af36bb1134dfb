//go:build race

package postmark

func init() { raceEnabled = true }
