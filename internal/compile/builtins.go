package compile

import (
	"fmt"

	"github.com/cilium/ebpf/asm"

	"github.com/ktrace/ktrace/internal/abi"
	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/builtins"
	"github.com/ktrace/ktrace/lang/probe"
)

// The compiler's side of lang/builtins: one switch per way a builtin's
// value is produced (lang/builtins.Class), each case the code of one
// builtin. Builtins the checker folds into constants (kaddr(), getopt(),
// has_cpid …) never get here: intExpr loads their value.

// intVariable compiles a builtin variable with an integer value.
func (g *gen) intVariable(x *ast.Ident) operand {
	switch id := builtins.VariableID(x.Name); {
	case id == builtins.Nsecs:
		// bpftrace's nsecs is the boot clock, which counts suspend.
		return g.helperValue(x, asm.FnKtimeGetBootNs)
	case id == builtins.Elapsed:
		return g.elapsed(x)
	case id == builtins.Jiffies:
		return g.helperValue(x, asm.FnJiffies64)
	case id == builtins.Rand:
		return g.helperValue(x, asm.FnGetPrandomU32)
	case id == builtins.Cgroup:
		return g.helperValue(x, asm.FnGetCurrentCgroupId)
	case id == builtins.Numaid:
		return g.helperValue(x, asm.FnGetNumaNodeId)
	case id == builtins.Ncpus:
		return g.constValue(x, int64(g.c.opts.PossibleCPUs))
	case id == builtins.Cpid:
		return g.constValue(x, int64(g.c.info.Config.ChildPID))
	case id == builtins.Username:
		g.call(asm.FnGetCurrentUidGid)
		g.emit(asm.Mov.Reg32(asm.R0, asm.R0))
		return g.result(x)
	case id == builtins.Ppid:
		return g.ppid(x)
	case id == builtins.Usermode:
		return g.usermode(x)
	case id == builtins.Curtask:
		g.call(asm.FnGetCurrentTask)
		return g.result(x)
	case id == builtins.Func && g.ap.Kind.IsUser() && g.ap.User != nil:
		return g.userFunc(x)
	case id >= builtins.Arg0 && id <= builtins.Arg11 && g.kind == probe.USDT:
		return g.usdtArg(x, int(id-builtins.Arg0))
	default:
		return g.contextVariable(x, id)
	}
}

// contextVariable compiles the builtins every probe reads the same way:
// from a helper or the program's context.
func (g *gen) contextVariable(x *ast.Ident, id builtins.ID) operand {
	o := g.temp(x)
	r := asm.R0
	switch {
	case id == builtins.Pid:
		g.call(asm.FnGetCurrentPidTgid)
		g.emit(asm.RSh.Imm(asm.R0, 32))
	case id == builtins.Tid:
		g.call(asm.FnGetCurrentPidTgid)
		g.emit(asm.Mov.Reg32(asm.R0, asm.R0))
	case id == builtins.Uid:
		g.call(asm.FnGetCurrentUidGid)
		g.emit(asm.Mov.Reg32(asm.R0, asm.R0))
	case id == builtins.Gid:
		g.call(asm.FnGetCurrentUidGid)
		g.emit(asm.RSh.Imm(asm.R0, 32))
	case id == builtins.CPU:
		g.call(asm.FnGetSmpProcessorId)
	case id == builtins.Probe:
		g.loadImm(asm.R0, int64(g.c.probeID(g.ap.Name)))
	case id >= builtins.Arg0 && id <= builtins.Arg5:
		g.loadArg(asm.R0, int(id-builtins.Arg0))
	case id == builtins.Retval:
		if g.kind == probe.Fexit {
			// bpf_get_func_ret(ctx, &value) knows where the return value
			// sits, whatever the function's argument count.
			slot := g.alloc(x, 8)
			g.emit(asm.Mov.Reg(asm.R1, regCtx))
			g.stackPtr(asm.R2, slot)
			g.call(asm.FnGetFuncRet)
			g.emit(asm.LoadMem(asm.R0, asm.RFP, slot, asm.DWord))
		} else {
			g.emit(asm.LoadMem(asm.R0, regCtx, ptRegsAX, asm.DWord))
		}
	case id == builtins.Func:
		g.emit(asm.Mov.Reg(asm.R1, regCtx))
		g.call(asm.FnGetFuncIp)
	default:
		g.errorf(x, "internal error: builtin %s has no code generator", x.Name)
	}
	g.store(o, r)
	return o
}

// userFunc is func in a user-space probe: the function is known when the
// probe is attached, so its name is interned like the probe builtin's.
func (g *gen) userFunc(x *ast.Ident) operand {
	t := g.ap.User
	name := t.Func
	if name == "" {
		name = fmt.Sprintf("0x%x", t.Address)
	}
	return g.constValue(x, int64(g.c.probeID(name)))
}

// memVariable compiles a builtin variable whose value is built in memory;
// it reports false for any other identifier.
func (g *gen) memVariable(x *ast.Ident, dst int16, size int) bool {
	switch builtins.VariableID(x.Name) {
	case builtins.Comm:
		g.comm(dst, size)
	case builtins.Kstack, builtins.Ustack:
		g.collectStack(x, dst, size)
	default:
		return false
	}
	return true
}

// intCall compiles a builtin function with an integer value; it reports
// false for other calls.
func (g *gen) intCall(x *ast.Call) (operand, bool) {
	switch id := builtins.FunctionID(x.Name); id {
	case builtins.NsecsCall:
		return g.nsecsMode(x), true
	case builtins.Bswap:
		return g.bswap(x), true
	case builtins.Ksym:
		// The address; user space names it.
		return g.intExpr(x.Args[0]), true
	case builtins.Strncmp:
		return g.strncmp(x), true
	case builtins.Strcontains, builtins.Strstr:
		return g.strsearch(x, id == builtins.Strstr), true
	case builtins.Strlen, builtins.Len:
		return g.length(x), true
	case builtins.HasKey:
		return g.hasKey(x), true
	case builtins.Delete:
		return g.deleted(x), true
	case builtins.Uaddr:
		return g.uaddr(x), true
	case builtins.Kptr, builtins.Uptr:
		// The address is the pointer's; the type tells who reads it.
		return g.intExpr(x.Args[0]), true
	case builtins.Reg:
		return g.reg(x), true
	case builtins.SocketCookie:
		return g.socketCookie(x), true
	case builtins.Memcmp:
		return g.compareBytes(x, false), true
	case builtins.Find:
		return g.find(x), true
	case builtins.PercpuKaddr:
		return g.percpuKaddr(x), true
	case builtins.Skboutput:
		return g.skboutput(x), true
	case builtins.WriteUser:
		return g.writeUser(x), true
	}
	return operand{}, false
}

// memCall compiles a builtin function whose value is built in memory; it
// reports false for other calls.
func (g *gen) memCall(x *ast.Call, dst int16, size int) bool {
	switch builtins.FunctionID(x.Name) {
	case builtins.Str:
		g.str(x, dst, size)
	case builtins.Strftime:
		g.strftime(x, dst, size)
	case builtins.Ntop:
		g.ntop(x, dst, size)
	case builtins.Buf:
		g.buf(x, dst, size)
	case builtins.Strerror, builtins.SyscallName, builtins.SignalName:
		g.strerror(x, dst, size)
	case builtins.KstackCall, builtins.UstackCall:
		g.collectStack(x, dst, size)
	case builtins.Usym:
		g.usym(x, dst, size)
	case builtins.Macaddr:
		g.macaddr(x, dst, size)
	case builtins.CgroupPath:
		g.cgroupPath(x, dst, size)
	case builtins.Path:
		g.path(x, dst, size)
	case builtins.CommCall:
		g.commOf(x, dst, size)
	default:
		return false
	}
	return true
}

// stmtCall compiles a builtin function used as a statement; it reports
// false for calls whose value is computed and dropped.
func (g *gen) stmtCall(x *ast.Call) bool {
	switch id := builtins.FunctionID(x.Name); id {
	case builtins.Printf:
		g.formatEvent(x, abi.RecordPrintf)
	case builtins.Cat:
		g.formatEvent(x, abi.RecordCat)
	case builtins.System:
		g.formatEvent(x, abi.RecordSystem)
	case builtins.Errorf:
		g.formatEvent(x, abi.RecordErrorf)
	case builtins.Warnf:
		g.formatEvent(x, abi.RecordWarnf)
	case builtins.Print:
		g.print(x)
	case builtins.Clear:
		g.mapEvent(x, abi.RecordClearMap)
	case builtins.Zero:
		g.mapEvent(x, abi.RecordZeroMap)
	case builtins.Delete:
		g.delete(x)
	case builtins.Exit:
		g.exitCall(x)
	case builtins.Time:
		g.timeCall(x)
	case builtins.Join:
		g.join(x)
	case builtins.Signal, builtins.SignalThread:
		g.signal(x, id == builtins.SignalThread)
	case builtins.Debugf:
		g.debugf(x)
	case builtins.Override:
		g.override(x)
	case builtins.Fail, builtins.StaticAssert:
		// The checker has judged them: a fail() here is in a branch that
		// is never taken.
	default:
		return false
	}
	return true
}

// mapEvent sends a record that asks user space to do something to a whole
// map: clear() or zero().
func (g *gen) mapEvent(x *ast.Call, kind abi.RecordKind) {
	m := g.c.maps[x.Args[0].(*ast.MapRef).Name]
	id := g.c.event(x, &Event{Kind: kind, Map: m, Size: abi.HeaderSize})
	g.sendEvent(x, id, abi.HeaderSize, nil)
}
