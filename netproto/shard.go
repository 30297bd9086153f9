package netproto

// Shard picks which of n dispatchers (sorted by id, indexed 0..n-1) carries
// the traffic keyed by id: an EntityID, a ClientID or a gate id. The key is
// mixed first so that sequential ids spread evenly. n <= 0 gives 0.
func Shard(id uint64, n int) int {
	if n <= 1 {
		return 0
	}
	return int(mix64(id) % uint64(n))
}

// ShardString is Shard for a name (service names): FNV-1a, then Shard.
func ShardString(name string, n int) int {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	h := uint64(offset)
	for i := 0; i < len(name); i++ {
		h ^= uint64(name[i])
		h *= prime
	}
	return Shard(h, n)
}

// Origin returns the high 16 bits of an id: the game that created an
// EntityID, or the gate of a ClientID.
func Origin(id uint64) uint16 { return uint16(id >> 48) }

// mix64 is a 64-bit finaliser (xor-shift-multiply rounds) with good
// avalanche, so low-entropy keys (sequences) land on every shard evenly.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
