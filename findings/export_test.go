package findings

// ChainCacheStats reports the shared chain cache's hits, misses and size.
func ChainCacheStats() (hits, misses, entries int) {
	chains.mu.Lock()
	defer chains.mu.Unlock()
	return chains.hits, chains.misses, chains.chains.Len()
}
