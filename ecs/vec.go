package ecs

import "math"

// Vec3 is a position, velocity or direction in world units. Y is up; the
// AOI grid works on the XZ plane.
type Vec3 struct {
	X, Y, Z float32 // world units; Y is up
}

// Add returns v+o.
func (v Vec3) Add(o Vec3) Vec3 { return Vec3{v.X + o.X, v.Y + o.Y, v.Z + o.Z} }

// Sub returns v-o.
func (v Vec3) Sub(o Vec3) Vec3 { return Vec3{v.X - o.X, v.Y - o.Y, v.Z - o.Z} }

// Scale returns v*s.
func (v Vec3) Scale(s float32) Vec3 { return Vec3{v.X * s, v.Y * s, v.Z * s} }

// LenSq returns the squared length of v (no square root).
func (v Vec3) LenSq() float32 { return v.X*v.X + v.Y*v.Y + v.Z*v.Z }

// Len returns the length of v.
func (v Vec3) Len() float32 { return float32(math.Sqrt(float64(v.LenSq()))) }

// Dist returns the distance between v and o.
func (v Vec3) Dist(o Vec3) float32 { return v.Sub(o).Len() }

// DistSqXZ returns the squared distance between v and o on the XZ plane
// (the AOI test, without a square root).
func (v Vec3) DistSqXZ(o Vec3) float32 {
	dx, dz := v.X-o.X, v.Z-o.Z
	return dx*dx + dz*dz
}

// DistXZ returns the distance between v and o on the XZ plane.
func (v Vec3) DistXZ(o Vec3) float32 { return float32(math.Sqrt(float64(v.DistSqXZ(o)))) }
