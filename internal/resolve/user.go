package resolve

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"

	"github.com/ktrace/ktrace/lang/probe"
	"github.com/ktrace/ktrace/lang/types"
	"github.com/ktrace/ktrace/uprobe"
)

// userTargets locates an expanded uprobe, uretprobe or usdt spec in its
// binary. A probe.USDT probe may have several locations (the macro expanded in
// several places), each with its own argument specifications: each is a
// target of its own.
func userTargets(sp probe.Spec) ([]*uprobe.Target, error) {
	// The spec names its binary as written (see shownPath): a relative
	// path is the working directory's.
	if abs, err := filepath.Abs(sp.Path); err == nil {
		sp.Path = abs
	}
	switch sp.Kind {
	case probe.Uprobe, probe.Uretprobe:
		var t *uprobe.Target
		var err error
		if sp.Name == "" {
			t, err = uprobe.LocateAddress(sp.Path, sp.Address, sp.Kind == probe.Uretprobe)
		} else {
			t, err = uprobe.LocateFunc(sp.Path, sp.Name, sp.Offset, sp.Kind == probe.Uretprobe)
		}
		if err != nil {
			return nil, err
		}
		return []*uprobe.Target{t}, nil
	case probe.USDT:
		f, err := uprobe.Open(sp.Path)
		if err != nil {
			return nil, err
		}
		notes, _ := f.USDT()
		var out []*uprobe.Target
		for _, n := range notes {
			if n.Provider != sp.Category || n.Name != sp.Name {
				continue
			}
			t, err := uprobe.LocateUSDT(sp.Path, n)
			if err != nil {
				return nil, err
			}
			out = append(out, t)
		}
		if len(out) == 0 {
			return nil, errors.New(noMatchesFor(sp) + ".")
		}
		return out, nil
	}
	return nil, fmt.Errorf("%s is not a user-space probe", sp)
}

// userPoints makes one attach point per target. probe.Spec holds the
// *uprobe.Target, which the compiler (probe.USDT arguments, func) and the
// session (file offset, semaphore) read.
func (r *Resolver) userPoints(sp probe.Spec, kind probe.Kind) ([]*types.AttachPoint, error) {
	locate := r.User
	if locate == nil {
		locate = userTargets
	}
	targets, err := locate(sp)
	if err != nil {
		return nil, err
	}
	var out []*types.AttachPoint
	for _, t := range targets {
		target := t.Path + ":" + t.Func
		switch {
		case t.IsUSDT():
			target = t.Path + ":" + t.Provider + ":" + t.Name
		case t.Func == "":
			target = t.Path + ":0x" + strconv.FormatUint(t.Address, 16)
		case t.FuncOffset != 0:
			target += "+" + strconv.FormatUint(t.FuncOffset, 10)
		}
		ap := &types.AttachPoint{Kind: kind, Name: sp.String(), Target: target, Spec: sp, User: t}
		typeUserArgs(ap)
		out = append(out, ap)
	}
	return out, nil
}

// typeUserArgs lets a uprobe type its args, and its casts, from its
// binary's DWARF when the script first uses them; a probe at an address
// has no function to look up.
func typeUserArgs(ap *types.AttachPoint) {
	t := ap.User
	if t.IsUSDT() || t.Path == "" {
		return
	}
	path, fn := t.Path, t.Func
	ap.UserTypes = func(name string) (*types.Type, error) {
		u, err := OpenUserTypes(path)
		if err != nil {
			return nil, err
		}
		return u.Type(name)
	}
	if ap.Kind != probe.Uprobe || fn == "" || ap.Spec.Name == "" {
		return
	}
	ap.LoadArgs = func() ([]*types.Field, error) {
		u, err := OpenUserTypes(path)
		if err != nil {
			return nil, err
		}
		return u.FuncArgs(fn)
	}
}

// staticUserTargets stands in for binaries in front-end tests and fuzzing:
// every function exists at a fixed offset, and every probe.USDT probe has one
// location whose arguments cover each operand form <sys/sdt.h> produces.
func staticUserTargets(sp probe.Spec) ([]*uprobe.Target, error) {
	t := &uprobe.Target{Path: sp.Path, Func: sp.Name, FuncOffset: sp.Offset, Address: 0x1000 + sp.Offset,
		Offset: 0x1000 + sp.Offset, Return: sp.Kind == probe.Uretprobe}
	if sp.Name == "" {
		t.Func, t.Address, t.Offset = "func", sp.Address, sp.Address
	}
	if sp.Kind == probe.USDT {
		args, err := uprobe.ParseArgs(StaticUSDTArgs)
		if err != nil {
			return nil, err
		}
		for i := range args {
			if args[i].Symbol != "" {
				args[i].SymbolAddr = 0x4010
			}
		}
		t.Func, t.FuncOffset = "main", 0x10
		t.Provider, t.Name, t.Args = sp.Category, sp.Name, args
		t.Semaphore, t.RefCtrOffset = 0x4020, 0x3020
	}
	return []*uprobe.Target{t}, nil
}

// StaticUSDTArgs are the arguments of every probe.USDT probe of the Static
// resolver: a signed register, an unsigned one, a high byte register, a
// frame slot, an indexed element, a constant, a %rip-relative global and
// a negative constant.
const StaticUSDTArgs = "-4@%eax 8@%rdx 1@%ah -4@-20(%rbp) -8@8(%rax,%rdx,8) 4@$42 -8@counter+8(%rip) -2@$-7"
