// Package deploy holds no code: its directory has what installs ktrace
// serve, the node agent, and the tests that check it. systemd/ has the
// service unit, kubernetes/ the DaemonSet (with its ConfigMap of scripts
// and its Service) and a ServiceMonitor, container/ the image's build file
// and scripts/ the scripts shipped as examples. README.md says how to
// install each.
//
// The tests decode the manifests strictly into the Kubernetes API's types,
// compile their scripts, verify the unit with systemd-analyze, build the
// binary with the container file's command, and run it with exactly the
// capabilities the unit and the DaemonSet grant, to show that each one is
// needed and that together they suffice.
package deploy
