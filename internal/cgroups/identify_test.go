package cgroups

import (
	"strings"
	"testing"
)

// Container ids are 64 hex digits; pod UIDs are UUIDs (the kubelet's
// systemd driver writes their dashes as underscores).
const (
	cid    = "3f4e8a1b2c9d0e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f"
	cid2   = "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b"
	uid    = "1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901"
	uidSys = "1b2c3d4e_5f60_7182_93a4_b5c6d7e8f901"
	// A static pod's UID is a hash of its manifest: hex, no dashes.
	staticUID = "6a3c0e5e2f1d4b7a8c9e0f1a2b3c4d5e"
)

func TestIdentify(t *testing.T) {
	for _, tc := range []struct {
		name, path string
		want       Identity // Path is filled in from path
		label      string
	}{
		{
			name:  "root",
			path:  "/",
			label: "/",
		},
		{
			name:  "systemd service",
			path:  "/system.slice/nginx.service",
			want:  Identity{Unit: "nginx.service", Slice: "system.slice"},
			label: "system.slice/nginx.service",
		},
		{
			name:  "login session",
			path:  "/user.slice/user-1000.slice/session-3.scope",
			want:  Identity{Unit: "session-3.scope", Slice: "user-1000.slice"},
			label: "user.slice/user-1000.slice/session-3.scope",
		},
		{
			name:  "user manager's app",
			path:  "/user.slice/user-1000.slice/user@1000.service/app.slice/app-gnome-firefox-4242.scope",
			want:  Identity{Unit: "app-gnome-firefox-4242.scope", Slice: "app.slice"},
			label: "user.slice/user-1000.slice/user@1000.service/app.slice/app-gnome-firefox-4242.scope",
		},
		{
			name:  "a service's sub-cgroup",
			path:  "/system.slice/containerd.service/worker",
			want:  Identity{Unit: "containerd.service", Slice: "system.slice"},
			label: "system.slice/containerd.service/worker",
		},
		{
			name:  "plain directory",
			path:  "/ktrace-test",
			label: "ktrace-test",
		},
		{
			name: "containerd, systemd driver, burstable pod",
			path: "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + uidSys + ".slice/cri-containerd-" + cid + ".scope",
			want: Identity{Runtime: RuntimeContainerd, ContainerID: cid, PodUID: uid, QoS: QoSBurstable,
				Unit: "cri-containerd-" + cid + ".scope", Slice: "kubepods-burstable-pod" + uidSys + ".slice"},
			label: "pod/" + uid + "/" + cid[:12],
		},
		{
			name: "containerd, systemd driver, guaranteed pod",
			path: "/kubepods.slice/kubepods-pod" + uidSys + ".slice/cri-containerd-" + cid + ".scope",
			want: Identity{Runtime: RuntimeContainerd, ContainerID: cid, PodUID: uid, QoS: QoSGuaranteed,
				Unit: "cri-containerd-" + cid + ".scope", Slice: "kubepods-pod" + uidSys + ".slice"},
			label: "pod/" + uid + "/" + cid[:12],
		},
		{
			name: "CRI-O, systemd driver, best-effort pod",
			path: "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + uidSys + ".slice/crio-" + cid + ".scope",
			want: Identity{Runtime: RuntimeCRIO, ContainerID: cid, PodUID: uid, QoS: QoSBestEffort,
				Unit: "crio-" + cid + ".scope", Slice: "kubepods-besteffort-pod" + uidSys + ".slice"},
			label: "pod/" + uid + "/" + cid[:12],
		},
		{
			name: "CRI-O's conmon is the pod's, not a container",
			path: "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + uidSys + ".slice/crio-conmon-" + cid + ".scope",
			want: Identity{PodUID: uid, QoS: QoSBestEffort,
				Unit: "crio-conmon-" + cid + ".scope", Slice: "kubepods-besteffort-pod" + uidSys + ".slice"},
			label: "pod/" + uid,
		},
		{
			name: "a pod's own slice",
			path: "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + uidSys + ".slice",
			want: Identity{PodUID: uid, QoS: QoSBurstable,
				Slice: "kubepods-burstable-pod" + uidSys + ".slice"},
			label: "pod/" + uid,
		},
		{
			name:  "a QoS slice is no pod",
			path:  "/kubepods.slice/kubepods-burstable.slice",
			want:  Identity{Slice: "kubepods-burstable.slice"},
			label: "kubepods.slice/kubepods-burstable.slice",
		},
		{
			name: "static pod",
			path: "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + staticUID + ".slice/cri-containerd-" + cid + ".scope",
			want: Identity{Runtime: RuntimeContainerd, ContainerID: cid, PodUID: staticUID, QoS: QoSBurstable,
				Unit: "cri-containerd-" + cid + ".scope", Slice: "kubepods-burstable-pod" + staticUID + ".slice"},
			label: "pod/" + staticUID + "/" + cid[:12],
		},
		{
			name:  "cgroupfs driver, burstable pod",
			path:  "/kubepods/burstable/pod" + uid + "/" + cid,
			want:  Identity{ContainerID: cid, PodUID: uid, QoS: QoSBurstable},
			label: "pod/" + uid + "/" + cid[:12],
		},
		{
			name:  "cgroupfs driver, best-effort pod",
			path:  "/kubepods/besteffort/pod" + uid + "/" + cid,
			want:  Identity{ContainerID: cid, PodUID: uid, QoS: QoSBestEffort},
			label: "pod/" + uid + "/" + cid[:12],
		},
		{
			name:  "cgroupfs driver, guaranteed pod",
			path:  "/kubepods/pod" + uid + "/" + cid,
			want:  Identity{ContainerID: cid, PodUID: uid, QoS: QoSGuaranteed},
			label: "pod/" + uid + "/" + cid[:12],
		},
		{
			name:  "pod<uid> outside kubepods is no pod",
			path:  "/pod" + uid + "/" + cid,
			label: "pod" + uid + "/" + cid,
		},
		{
			name: "kind: a pod inside a node container",
			path: "/system.slice/docker-" + cid2 + ".scope/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod" + uidSys + ".slice/cri-containerd-" + cid + ".scope",
			want: Identity{Runtime: RuntimeContainerd, ContainerID: cid, PodUID: uid, QoS: QoSBestEffort,
				Unit: "cri-containerd-" + cid + ".scope", Slice: "kubelet-kubepods-besteffort-pod" + uidSys + ".slice"},
			label: "pod/" + uid + "/" + cid[:12],
		},
		{
			name:  "kind: the node container itself",
			path:  "/system.slice/docker-" + cid2 + ".scope/kubelet.slice",
			want:  Identity{Runtime: RuntimeDocker, ContainerID: cid2, Unit: "docker-" + cid2 + ".scope", Slice: "kubelet.slice"},
			label: "docker/" + cid2[:12],
		},
		{
			name:  "Docker, systemd driver",
			path:  "/system.slice/docker-" + cid + ".scope",
			want:  Identity{Runtime: RuntimeDocker, ContainerID: cid, Unit: "docker-" + cid + ".scope", Slice: "system.slice"},
			label: "docker/" + cid[:12],
		},
		{
			name:  "the Docker daemon is no container",
			path:  "/system.slice/docker.service",
			want:  Identity{Unit: "docker.service", Slice: "system.slice"},
			label: "system.slice/docker.service",
		},
		{
			name:  "Docker, cgroupfs driver",
			path:  "/docker/" + cid,
			want:  Identity{Runtime: RuntimeDocker, ContainerID: cid},
			label: "docker/" + cid[:12],
		},
		{
			name:  "Docker in Docker: the inner container",
			path:  "/docker/" + cid2 + "/docker/" + cid,
			want:  Identity{Runtime: RuntimeDocker, ContainerID: cid},
			label: "docker/" + cid[:12],
		},
		{
			name:  "Docker, cgroupfs driver: a short id is no container",
			path:  "/docker/" + cid[:12],
			label: "docker/" + cid[:12],
		},
		{
			name:  "a container's sub-cgroup (systemd inside it)",
			path:  "/system.slice/docker-" + cid + ".scope/init.scope",
			want:  Identity{Runtime: RuntimeDocker, ContainerID: cid, Unit: "init.scope", Slice: "system.slice"},
			label: "docker/" + cid[:12],
		},
		{
			name:  "Podman, rootful",
			path:  "/machine.slice/libpod-" + cid + ".scope",
			want:  Identity{Runtime: RuntimePodman, ContainerID: cid, Unit: "libpod-" + cid + ".scope", Slice: "machine.slice"},
			label: "podman/" + cid[:12],
		},
		{
			name:  "Podman, rootless, payload in a sub-cgroup",
			path:  "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + cid + ".scope/container",
			want:  Identity{Runtime: RuntimePodman, ContainerID: cid, Unit: "libpod-" + cid + ".scope", Slice: "user.slice"},
			label: "podman/" + cid[:12],
		},
		{
			name:  "Podman's conmon is no container",
			path:  "/machine.slice/libpod-conmon-" + cid + ".scope",
			want:  Identity{Unit: "libpod-conmon-" + cid + ".scope", Slice: "machine.slice"},
			label: "machine.slice/libpod-conmon-" + cid + ".scope",
		},
		{
			name:  "an upper-case id is no container id",
			path:  "/system.slice/docker-" + strings.ToUpper(cid) + ".scope",
			want:  Identity{Unit: "docker-" + strings.ToUpper(cid) + ".scope", Slice: "system.slice"},
			label: "system.slice/docker-" + strings.ToUpper(cid) + ".scope",
		},
		{
			name:  "no leading slash, trailing slash",
			path:  "system.slice/nginx.service/",
			want:  Identity{Unit: "nginx.service", Slice: "system.slice"},
			label: "system.slice/nginx.service",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.want
			want.Path = tc.path
			got := Identify(tc.path)
			if got != want {
				t.Errorf("Identify(%q)\n got %+v\nwant %+v", tc.path, got, want)
			}
			if n := got.Name(); n != tc.label {
				t.Errorf("Name() = %q, want %q", n, tc.label)
			}
		})
	}
}
