package resolve

import "github.com/ktrace/ktrace/internal/symbol"

// UserSymbol finds a symbol of a user binary, for uaddr(); it implements
// types.UserSymbolResolver.
func (r *Resolver) UserSymbol(path, name string) (addr, size uint64, pie bool, err error) {
	return symbol.Lookup(path, name)
}
