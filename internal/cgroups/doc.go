// Package cgroups names cgroup v2 ids: the numbers the BPF cgroup builtin
// gives (bpf_get_current_cgroup_id) are the inode numbers of the cgroups'
// directories in the cgroup v2 hierarchy, and a metric label that says
// which container, pod or systemd unit a number stands for is far more
// useful than the number.
//
// A Resolver turns an id into the cgroup's path below the hierarchy's
// root, as /proc/PID/cgroup writes it ("/system.slice/nginx.service"), by
// walking the hierarchy; it keeps the whole table and walks again, at most
// once a second, when it meets an id it does not know.
//
// Identify reads a path the way the container runtimes and systemd name
// their cgroups, and Identity.Name gives the label value, the most specific
// readable name:
//
//	pod/<pod-uid>/<container-id[:12]>  a container of a Kubernetes pod
//	pod/<pod-uid>                      the pod's own cgroup (or its conmon)
//	docker/<container-id[:12]>         a Docker container
//	podman/<container-id[:12]>         a Podman container
//	containerd/<container-id[:12]>     a CRI container outside kubepods
//	crio/<container-id[:12]>           likewise, for CRI-O
//	system.slice/nginx.service         anything else: the path without its
//	                                   leading "/" ("/" for the root)
//
// Pod names are not in the cgroup tree: the pod's UID is, and
// `kubectl get pods -A -o custom-columns=UID:.metadata.uid,NAME:.metadata.name`
// maps it. (The kubelet's /var/lib/kubelet/pods/<uid>/etc-hosts names the
// pod's hostname, which is the pod name only when spec.hostname is unset,
// and pods on the host network have none, so it is not used.)
package cgroups
