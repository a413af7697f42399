package logreduce

import (
	"hash/fnv"
	"math/bits"
	"strconv"
)

// Hashes used inside the miner. They are fixed functions (no random seed), so
// a miner's state, its samples and its ids are the same in every process.

const (
	seedLit     = 0x9e3779b97f4a7c15
	seedVarPre  = 0xc2b2ae3d27d4eb4f
	seedVarPost = 0x165667b19e3779f9
	seedLine    = 0x27d4eb2f165667c5
	seedSkel    = 0xd6e8feb86659fd93
	seedGlue    = 0x85ebca77c2b2ae63

	prime1 = 0x9e3779b185ebca87
	prime2 = 0xc2b2ae3d27d4eb4f
)

// mix is the splitmix64 finaliser.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// hashString is a fast non-cryptographic 64-bit hash, 8 bytes a step.
func hashString(s string, seed uint64) uint64 {
	h := seed ^ (uint64(len(s)) * prime1)
	for len(s) >= 8 {
		v := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
			uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
		h = bits.RotateLeft64(h^(v*prime1), 31) * prime2
		s = s[8:]
	}
	var v uint64
	for k := len(s) - 1; k >= 0; k-- {
		v = v<<8 | uint64(s[k])
	}
	return mix(h ^ (v * prime2) ^ uint64(len(s)))
}

// combine folds the hash of the next element into a running sequence hash.
func combine(h, x uint64) uint64 {
	return bits.RotateLeft64(h^x, 27)*prime1 + prime2
}

// signatureID is the public id of a template: FNV-1a 64 of its canonical
// text, 16 lower-case hex digits. It depends on the text only, so the same
// template gets the same id in every run, process and version.
func signatureID(template string) string {
	h := fnv.New64a()
	h.Write([]byte(template))
	return hex16(h.Sum64())
}

func hex16(x uint64) string {
	s := strconv.FormatUint(x, 16)
	for len(s) < 16 {
		s = "0" + s
	}
	return s
}
