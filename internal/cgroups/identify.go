package cgroups

import (
	"regexp"
	"strings"
)

// The container runtimes this package recognizes, as Identity.Runtime
// names them.
const (
	RuntimeContainerd = "containerd"
	RuntimeCRIO       = "crio"
	RuntimeDocker     = "docker"
	RuntimePodman     = "podman"
)

// Kubernetes QoS classes, as Identity.QoS names them.
const (
	QoSGuaranteed = "guaranteed"
	QoSBurstable  = "burstable"
	QoSBestEffort = "besteffort"
)

// Identity is what a cgroup's path tells about who runs in it. Fields the
// path says nothing about are empty.
type Identity struct {
	// Path is the cgroup's path below the hierarchy's root, "/..." as
	// /proc/PID/cgroup writes it.
	Path string
	// Runtime is the container runtime that made the container's cgroup
	// (RuntimeContainerd, ...); empty for a Kubernetes container under the
	// cgroupfs driver, whose cgroup does not say.
	Runtime string
	// ContainerID is the container's full id (64 hex digits).
	ContainerID string
	// PodUID is the Kubernetes pod's UID, with dashes
	// ("1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901").
	PodUID string
	// QoS is the pod's QoS class (QoSGuaranteed, ...).
	QoS string
	// Unit is the innermost systemd unit: "nginx.service",
	// "session-3.scope", "cri-containerd-<id>.scope".
	Unit string
	// Slice is the innermost systemd slice: "system.slice",
	// "user-1000.slice", "kubepods-burstable.slice".
	Slice string
}

// shortID is how many characters of a container id Name keeps: Docker's
// and crictl's short form.
const shortID = 12

// Name is the label value for the cgroup, the most specific readable
// name (see the package documentation for the forms).
func (id Identity) Name() string {
	switch {
	case id.PodUID != "" && id.ContainerID != "":
		return "pod/" + id.PodUID + "/" + id.ContainerID[:shortID]
	case id.PodUID != "":
		return "pod/" + id.PodUID
	case id.ContainerID != "":
		return id.Runtime + "/" + id.ContainerID[:shortID]
	}
	if p := strings.Trim(id.Path, "/"); p != "" {
		return p
	}
	return "/"
}

var (
	// A container's systemd scope, made by the runtime through the
	// systemd cgroup driver: "cri-containerd-<id>.scope" (containerd's CRI
	// plugin), "crio-<id>.scope", "docker-<id>.scope", "libpod-<id>.scope"
	// (Podman). CRI-O's and Podman's monitors, "crio-conmon-<id>.scope" and
	// "libpod-conmon-<id>.scope", do not match: they are not the container.
	scopeRE = regexp.MustCompile(`^(cri-containerd|crio|docker|libpod)-([0-9a-f]{64})\.scope$`)
	// A pod's slice under the kubelet's systemd driver:
	// "kubepods-burstable-pod<uid>.slice", with the UID's dashes turned
	// into underscores (a dash separates a slice name's levels);
	// "kubepods-pod<uid>.slice" for a Guaranteed pod. A prefix before
	// "kubepods" is a kubelet run with another root (kind's
	// "kubelet-kubepods-...").
	podSliceRE = regexp.MustCompile(`^(?:[a-z0-9_]+-)?kubepods(?:-(burstable|besteffort))?-pod([0-9a-f_]+)\.slice$`)
	// A pod's directory under the kubelet's cgroupfs driver: "pod<uid>".
	podDirRE = regexp.MustCompile(`^pod([0-9a-f-]+)$`)
	// A container's directory under a cgroupfs driver: its id.
	containerDirRE = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

var scopeRuntimes = map[string]string{
	"cri-containerd": RuntimeContainerd,
	"crio":           RuntimeCRIO,
	"docker":         RuntimeDocker,
	"libpod":         RuntimePodman,
}

// Identify reads a cgroup path (below the hierarchy's root) the way the
// container runtimes, the kubelet and systemd name cgroups. It does no
// I/O. The innermost container wins (a container in a container, or kind's
// pods inside a node container), and a directory below a container's (a
// container's own sub-cgroups) still belongs to the container.
func Identify(path string) Identity {
	id := Identity{Path: path}
	// parent is the previous path element, for the cgroupfs layouts that
	// spread one fact over two levels (/docker/<id>, /kubepods/burstable).
	parent := ""
	inKubepods := false
	for _, elem := range strings.Split(path, "/") {
		if elem == "" {
			continue
		}
		switch {
		case strings.HasSuffix(elem, ".slice"):
			id.Slice = elem
		case strings.HasSuffix(elem, ".service"), strings.HasSuffix(elem, ".scope"):
			id.Unit = elem
		}
		if m := podSliceRE.FindStringSubmatch(elem); m != nil {
			id.setPod(strings.ReplaceAll(m[2], "_", "-"), m[1])
		} else if m := scopeRE.FindStringSubmatch(elem); m != nil {
			id.Runtime, id.ContainerID = scopeRuntimes[m[1]], m[2]
		} else if elem == "kubepods" {
			inKubepods = true
		} else if m := podDirRE.FindStringSubmatch(elem); m != nil && inKubepods {
			qos := ""
			if parent == QoSBurstable || parent == QoSBestEffort {
				qos = parent
			}
			id.setPod(m[1], qos)
		} else if containerDirRE.MatchString(elem) {
			switch {
			case parent == "docker":
				id.Runtime, id.ContainerID = RuntimeDocker, elem
			case id.PodUID != "" && podDirRE.MatchString(parent):
				// The kubelet's cgroupfs driver names no runtime.
				id.Runtime, id.ContainerID = "", elem
			}
		}
		parent = elem
	}
	return id
}

// setPod records the pod a path element names. A container seen before
// it is the node's own (kind runs pods inside a node container), not the
// pod's: it is forgotten.
func (id *Identity) setPod(uid, qos string) {
	if qos == "" {
		qos = QoSGuaranteed
	}
	id.PodUID, id.QoS = uid, qos
	id.Runtime, id.ContainerID = "", ""
}
