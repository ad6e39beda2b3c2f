package verify

// LimitProcessedForFuzzing lowers the budget of simulated instructions to n
// and returns a function that restores it. Fuzz targets use it: finding
// crashes needs the budget's end exercised, not reached slowly.
func LimitProcessedForFuzzing(n int) (restore func()) {
	old := processedLimit
	processedLimit = n
	return func() { processedLimit = old }
}
