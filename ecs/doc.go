// Package ecs is ecsworld's world model over donburi: stable entity IDs,
// named components, entity types with typed methods and hooks, spaces,
// and nested attributes with dirty tracking. It knows nothing of the
// network; the systems package drives it tick by tick.
//
// # Schema
//
// A game declares its schema once, at start-up:
//
//	var Health = ecs.NewComponent[HealthData]("health")
//
//	var Player = ecs.NewEntityType("player").
//		With(Health).
//		Attr("name", ecs.AttrAllClients|ecs.AttrPersistent).
//		AOI(50).
//		Method(ecs.Method1("Say", ecs.OwnClient, func(e *ecs.Entity, c ecs.Caller, text string) error {
//			return nil
//		})).
//		OnCreated(func(e *ecs.Entity) {})
//
//	reg := ecs.NewRegistry()
//	err := reg.RegisterType(Player)
//	w := ecs.NewWorld(reg, ecs.WorldOptions{IDs: ecs.NewIDGen(gameID, nil)})
//
// NewWorld freezes the registry; RegisterType seals the type. Components
// and entity types are descriptors held by the game and its Registry:
// there is no package-level registry.
//
// # Concurrency
//
// A World and everything reached from it (entities, attributes, queries
// run over it) belong to one goroutine, the game's tick goroutine. Only
// IDGen (atomic), immutable declarations (a registered EntityType, a
// Method, a frozen Registry) and EncodeArgs are safe to use from other
// goroutines.
//
// # Identity
//
// EntityID is the only identity that leaves the process: 16 bits of game
// id and 48 bits of an IDGen sequence that starts from the wall clock, so
// IDs stay unique across restarts (see IDGen for the exact limit).
// donburi's entity handles are reused and never leave this package's
// Entity.
//
// # Methods
//
// Methods are declared one by one with Method0..Method4, each with a
// Permission; there is no reflection over exported methods. Arguments
// travel as one CBOR array (EncodeArgs) and are decoded with bounded
// limits by Method.Invoke, which also recovers panics of the method body.
// Permission checks are separate (Method.Allowed) so the RPC stage can
// count denials apart from failures; World.Call does lookup, check and
// invoke in one step.
//
// # Per-tick lists and the systems
//
// The world keeps four lists of what changed during a tick (Moved,
// SpaceChanges, Destroyed, AttrDirty; see World). The AOI system learns of
// joins, leaves and moves from them instead of polling, keeps its grid in
// the space's SpaceData slot and its per-entity handle in AOIHandle, and
// runs the AOI hooks through EntityType.Hooks. The sync system reads
// Moved and AttrDirty with each entity's AttrChanges. The scheduler resets
// the lists at the end of the tick (World.ResetTick).
//
// Hooks run synchronously where the change happens (Create, Destroy,
// EnterSpace, LeaveSpace, SetClient). A panic in a hook is recovered and
// reported to WorldOptions.OnError; it never unwinds into engine code.
//
// # Snapshots and migration
//
// What a snapshot or a migration needs is public: World.Each visits the
// entities in ID order; Entity.Components lists the registered components
// an entity has, whose values Component.GetAny reads and Component.New /
// SetAny write back, found by name with Registry.Component; Attrs().ToMap
// is the attribute tree in plain form; position, yaw, velocity,
// destination, AOI radius and client binding have getters and setters.
// Create with CreateOptions.Restore (and the saved ID) rebuilds an entity
// without hooks; World.Remove takes one out without hooks (it lives on
// elsewhere); IDGen.Last and Resume carry the ID sequence across a
// restart. Space membership is restored with CreateOptions.Space, so
// create the spaces first. The plain attribute tree survives CBOR as it
// is, if it is decoded into any with DefaultMapType map[string]any (CBOR
// integers come back as int64 or uint64, which Set takes).
//
// For restores by the thousand: World.Reserve grows the tables once and
// has donburi make entities in batches; Entity.AdoptAttrsWith installs
// attributes whose keys many entities share (AttrKeys) without copying,
// sorting or hashing them; a small attribute map keeps its keys sorted,
// so MapAttr.SortedRange visits them in order at no cost.
// Entity.AdoptPackedAttrs goes further for maps of scalars: an
// AttrPacker checks their encoded values and the map decodes them on its
// first use, so a restored entity the game does not touch costs no
// decoding (and a writer copies its values as they are: MapAttr.Packed).
// This is also why reading an attribute map may write to it: like the
// rest of the World, it is for one goroutine only.
//
// # Deviations from the first API sketch, and additions
//
//   - World.Entity returns (*Entity, bool).
//   - The zero Caller (CallerNone) may call nothing; server calls use
//     ServerCaller() (Kind CallerServer), so a caller left unfilled is
//     never trusted as the server.
//   - Method.Invoke forbids CBOR tags in arguments; EncodeArgs therefore
//     encodes time.Time as an RFC 3339 string.
//   - Setting an attached attribute container elsewhere is an error
//     (ErrAttrAttached); use Clone.
//   - SetAOIRadius marks the entity moved, so AOI re-evaluates it.
//   - Query.Each collects its matches before calling fn, which makes
//     creating, destroying and changing components inside it safe.
//   - EachMember's fn returns bool (false stops), like World.Each.
//   - DecodeEntityID and DecodeClientID also return the rest of the input.
//   - CreateOptions has Client (bind at creation) and Restore (rebuild
//     without hooks, for snapshots and migration).
//   - EntityType.Hooks returns *Hooks whose methods run a hook nil-safely
//     with panic recovery, e.g. t.Hooks().OnEnterAOI(e, other).
package ecs
