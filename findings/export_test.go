package findings

// Stats reports the chain cache's hits, misses and size.
func (c *Checker) Stats() (hits, misses, entries int) {
	return c.chains.hits, c.chains.misses, c.chains.len()
}
