package ecs

// RemoveComponent removes component c from e by its untyped view (what
// ComponentType.Remove does), for code that restores entities by
// component name: a snapshot restore recreates an entity with its type's
// components and removes those it had removed. Removing a component e
// lacks, or from a destroyed entity, does nothing.
func (e *Entity) RemoveComponent(c Component) {
	if e == nil || e.entry == nil || c == nil || !hasComponent(e, c) {
		return
	}
	e.removeDonburi(c.donburiType())
	e.mask.unset(c.maskBit())
}
