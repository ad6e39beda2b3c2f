package types

import "fmt"

// Types of user-space binaries. A uprobe's arguments and the structs they
// point to come from the traced binary's DWARF, which the kernel's BTF
// (Config.Types) knows nothing of: such a struct carries its own member
// lookup as its Source, and the checker asks it before the TypeSource.

// OwnMembers is the Source of a Struct that looks up its own members: a
// struct or union of a user-space binary's debug information.
type OwnMembers interface {
	// Member finds a member, looking through anonymous structs and
	// unions; t is the Struct the Source belongs to.
	Member(t *Type, name string) (*Member, error)
	// Members lists the members, anonymous ones flattened.
	Members(t *Type) ([]*Member, error)
}

// memberOf finds a member of a struct, from the struct's own source or
// the TypeSource.
func (c *checker) memberOf(t *Type, name string) (*Member, error) {
	if own, ok := t.Source.(OwnMembers); ok {
		return own.Member(t, name)
	}
	if c.info.Config.Types == nil {
		return nil, fmt.Errorf("%s has no members", t)
	}
	return c.info.Config.Types.Member(t, name)
}

// membersOf lists a struct's members, from its own source or the
// TypeSource.
func (c *checker) membersOf(t *Type) ([]*Member, error) {
	if own, ok := t.Source.(OwnMembers); ok {
		return own.Members(t)
	}
	if c.info.Config.Types == nil {
		return nil, fmt.Errorf("%s has no members", t)
	}
	return c.info.Config.Types.Members(t)
}

// userType resolves a type name a uprobe's script uses from the probe's
// binaries' debug information, for casts such as (struct foo *)arg0: nil
// when the probe has no user types or none of that name. The script's
// own definitions come first.
func (c *checker) userType(name string) *Type {
	if c.probe == nil || (c.script != nil && (c.script.tags[name] != nil || c.script.typedefs[name] != nil)) {
		return nil
	}
	var out *Type
	for _, ap := range c.probe.Points {
		if ap.UserTypes == nil {
			return nil
		}
		t, err := ap.UserTypes(name)
		if err != nil || t == nil {
			return nil
		}
		if out != nil && !Equal(out, t) {
			return nil
		}
		out = t
	}
	return out
}
