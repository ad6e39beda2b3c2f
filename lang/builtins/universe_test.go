package builtins

import "testing"

// TestTable checks the table's invariants: IDs and names are unique per
// form, arguments bound sensibly, argN is Arg0+N.
func TestTable(t *testing.T) {
	seen := map[ID]bool{}
	for _, b := range table {
		if b.ID == Invalid || seen[b.ID] {
			t.Errorf("%s: ID %d is invalid or taken", b.Name, b.ID)
		}
		seen[b.ID] = true
		if b.Call && b.MaxArgs != Variadic && b.MaxArgs < b.MinArgs {
			t.Errorf("%s(): takes %d to %d arguments", b.Name, b.MinArgs, b.MaxArgs)
		}
		if !b.Call && (b.MinArgs != 0 || b.MaxArgs != 0) {
			t.Errorf("variable %s has arguments", b.Name)
		}
		if b.Class == 0 {
			t.Errorf("%s has no value class", b.Name)
		}
		if Get(b.ID).Name != b.Name {
			t.Errorf("Get(%d) = %s, want %s", b.ID, Get(b.ID).Name, b.Name)
		}
	}
	for i := 0; i <= 11; i++ {
		name := "arg" + string(rune('0'+i))
		if i >= 10 {
			name = "arg1" + string(rune('0'+i-10))
		}
		if b := Variable(name); b == nil || b.ID != Arg0+ID(i) {
			t.Errorf("%s is not Arg0+%d", name, i)
		}
	}
	if len(variables)+len(functions) != len(table) {
		t.Errorf("%d names for %d entries: a name is listed twice in one form", len(variables)+len(functions), len(table))
	}
}

func TestLookup(t *testing.T) {
	cases := []struct {
		name string
		call bool
		want ID
	}{
		{"pid", false, Pid}, {"nsecs", false, Nsecs}, {"nsecs", true, NsecsCall},
		{"kstack", false, Kstack}, {"kstack", true, KstackCall}, {"printf", true, Printf},
		{"printf", false, Invalid}, {"nosuch", true, Invalid},
	}
	for _, c := range cases {
		b := Variable(c.name)
		if c.call {
			b = Function(c.name)
		}
		got := Invalid
		if b != nil {
			got = b.ID
		}
		if got != c.want {
			t.Errorf("lookup %q (call %v) = %v, want %v", c.name, c.call, got, c.want)
		}
		id := VariableID(c.name)
		if c.call {
			id = FunctionID(c.name)
		}
		if id != c.want {
			t.Errorf("ID of %q (call %v) = %v, want %v", c.name, c.call, id, c.want)
		}
	}
	if s := Printf.String(); s != "printf()" {
		t.Errorf("Printf.String() = %q", s)
	}
}
