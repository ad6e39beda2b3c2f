package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// progInfo is what `bpftool -j prog show` says of a program. run_cnt and
// run_time_ns are there while BPF statistics are enabled.
type progInfo struct {
	ID        uint32 `json:"id"`
	Type      string `json:"type"`
	Name      string `json:"name"`
	RunCnt    uint64 `json:"run_cnt"`
	RunTimeNs uint64 `json:"run_time_ns"`
}

func bpftool(v any, args ...string) error {
	out, err := exec.Command("bpftool", append([]string{"-j"}, args...)...).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return fmt.Errorf("bpftool %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(ee.Stderr)))
		}
		return fmt.Errorf("bpftool %s: %v", strings.Join(args, " "), err)
	}
	if err := json.Unmarshal(out, v); err != nil {
		return fmt.Errorf("bpftool %s: %v", strings.Join(args, " "), err)
	}
	return nil
}

func showProg(id uint32) (progInfo, error) {
	var p progInfo
	err := bpftool(&p, "prog", "show", "id", strconv.FormatUint(uint64(id), 10))
	return p, err
}

// objectKinds are the kinds of BPF object, as bpftool and fdinfo name them.
var objectKinds = []string{"prog", "map", "link"}

// objects are the IDs of BPF objects, by kind.
type objects map[string]map[uint32]bool

func (o objects) add(kind string, id uint32) {
	if o[kind] == nil {
		o[kind] = map[uint32]bool{}
	}
	o[kind][id] = true
}

// ids lists the IDs of one kind in order.
func (o objects) ids(kind string) []uint32 {
	var ids []uint32
	for id := range o[kind] {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// systemObjects lists every BPF program, map and link of the system.
func systemObjects() (objects, error) {
	o := objects{}
	for _, kind := range objectKinds {
		var list []struct {
			ID uint32 `json:"id"`
		}
		if err := bpftool(&list, kind, "show"); err != nil {
			return nil, err
		}
		for _, e := range list {
			o.add(kind, e.ID)
		}
	}
	return o, nil
}

// heldObjects lists the BPF programs, maps and links process pid holds
// open, from the prog_id, map_id and link_id lines of its fdinfo.
func heldObjects(pid int) (objects, error) {
	o := objects{}
	dir := fmt.Sprintf("/proc/%d/fdinfo", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			continue // closed meanwhile
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), ":")
			if !ok {
				continue
			}
			kind, ok := strings.CutSuffix(k, "_id")
			if !ok || (kind != "prog" && kind != "map" && kind != "link") {
				continue
			}
			if id, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32); err == nil {
				o.add(kind, uint32(id))
			}
		}
		f.Close()
	}
	return o, nil
}

// remaining lists the objects of held that are still in now.
func remaining(held, now objects) objects {
	left := objects{}
	for kind, ids := range held {
		for id := range ids {
			if now[kind][id] {
				left.add(kind, id)
			}
		}
	}
	return left
}

func (o objects) count() int {
	n := 0
	for _, ids := range o {
		n += len(ids)
	}
	return n
}

func (o objects) String() string {
	var parts []string
	for _, kind := range objectKinds {
		ids := o.ids(kind)
		s := make([]string, len(ids))
		for i, id := range ids {
			s[i] = strconv.FormatUint(uint64(id), 10)
		}
		parts = append(parts, fmt.Sprintf("%d %ss [%s]", len(ids), kind, strings.Join(s, " ")))
	}
	return strings.Join(parts, ", ")
}
