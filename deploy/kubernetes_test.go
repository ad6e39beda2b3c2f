package deploy_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/internal/testutil"
)

// manifests are the objects of daemonset.yaml, decoded strictly.
type manifests struct {
	namespace *corev1.Namespace
	configMap *corev1.ConfigMap
	daemonSet *appsv1.DaemonSet
	service   *corev1.Service
}

// splitDocuments splits a multi-document YAML text at its "---" lines.
func splitDocuments(data []byte) [][]byte {
	var docs [][]byte
	var cur bytes.Buffer
	flush := func() {
		if len(bytes.TrimSpace(cur.Bytes())) > 0 {
			docs = append(docs, bytes.Clone(cur.Bytes()))
		}
		cur.Reset()
	}
	for line := range bytes.Lines(data) {
		if string(bytes.TrimRight(line, "\n")) == "---" {
			flush()
			continue
		}
		cur.Write(line)
	}
	flush()
	return docs
}

// decodeStrict decodes a YAML document into obj as the API server decodes
// a request under strict field validation: field names match case
// sensitively (encoding/json, and so sigs.k8s.io/yaml's UnmarshalStrict,
// would take "hostPid" for hostPID), and an unknown or repeated field is an
// error.
func decodeStrict(doc []byte, obj any) error {
	j, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return err
	}
	strictErrs, err := kjson.UnmarshalStrict(j, obj)
	if err != nil {
		return err
	}
	return errors.Join(strictErrs...)
}

// decodeManifests decodes the documents of daemonset.yaml into the
// Kubernetes API's types, strictly: a field the type does not have, or
// one given twice, is an error, as it would be for kubectl apply
// --validate=strict.
func decodeManifests(data []byte) (*manifests, error) {
	m := &manifests{}
	for i, doc := range splitDocuments(data) {
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			return nil, fmt.Errorf("document %d: %w", i+1, err)
		}
		var obj any
		switch tm.APIVersion + " " + tm.Kind {
		case "v1 Namespace":
			m.namespace = &corev1.Namespace{}
			obj = m.namespace
		case "v1 ConfigMap":
			m.configMap = &corev1.ConfigMap{}
			obj = m.configMap
		case "apps/v1 DaemonSet":
			m.daemonSet = &appsv1.DaemonSet{}
			obj = m.daemonSet
		case "v1 Service":
			m.service = &corev1.Service{}
			obj = m.service
		default:
			return nil, fmt.Errorf("document %d: unexpected %s %s", i+1, tm.APIVersion, tm.Kind)
		}
		if err := decodeStrict(doc, obj); err != nil {
			return nil, fmt.Errorf("document %d (%s): %w", i+1, tm.Kind, err)
		}
	}
	if m.namespace == nil || m.configMap == nil || m.daemonSet == nil || m.service == nil {
		return nil, fmt.Errorf("want a Namespace, a ConfigMap, a DaemonSet and a Service")
	}
	return m, nil
}

func loadManifests(t *testing.T) *manifests {
	t.Helper()
	m, err := decodeManifests(readFile(t, filepath.Join("kubernetes", "daemonset.yaml")))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestStrictDecoding: a misspelt field anywhere, a value of the wrong
// type or a field given twice makes daemonset.yaml fail to decode, with
// the decoder's message; so the assertions of TestDaemonSet are about
// what Kubernetes would read.
func TestStrictDecoding(t *testing.T) {
	orig := string(readFile(t, filepath.Join("kubernetes", "daemonset.yaml")))
	for _, tc := range []struct {
		name, old, new, want string
	}{
		{
			// Case matters, as in the API server (encoding/json would
			// take hostPid for hostPID).
			name: "pod spec field",
			old:  "hostPID: true", new: "hostPid: true",
			want: `document 3 (DaemonSet): unknown field "spec.template.spec.hostPid"`,
		},
		{
			name: "container field",
			old:  "livenessProbe:", new: "livenesProbe:",
			want: `document 3 (DaemonSet): unknown field "spec.template.spec.containers[0].livenesProbe"`,
		},
		{
			name: "volume mount field",
			old:  "mountPath: /etc/ktrace/scripts\n              readOnly: true", new: "mountPath: /etc/ktrace/scripts\n              readonly: true",
			want: `document 3 (DaemonSet): unknown field "spec.template.spec.containers[0].volumeMounts[0].readonly"`,
		},
		{
			name: "security context field",
			old:  "allowPrivilegeEscalation: false", new: "allowPrivilegedEscalation: false",
			want: `document 3 (DaemonSet): unknown field "spec.template.spec.containers[0].securityContext.allowPrivilegedEscalation"`,
		},
		{
			name: "service field",
			old:  "clusterIP: None", new: "clusterIp: None",
			want: `document 4 (Service): unknown field "spec.clusterIp"`,
		},
		{
			name: "configmap field",
			old:  "data:\n  drops.bt:", new: "datas:\n  drops.bt:",
			want: `document 2 (ConfigMap): unknown field "datas"`,
		},
		{
			name: "wrong type",
			old:  "hostPID: true", new: "hostPID: yes please",
			want: `document 3 (DaemonSet): json: cannot unmarshal string into Go struct field PodSpec.spec.template.spec.hostPID of type bool`,
		},
		{
			name: "field twice",
			old:  "hostPID: true", new: "hostPID: true\n      hostPID: false",
			want: `document 3 (DaemonSet): yaml: unmarshal errors:
  line 26: key "hostPID" already set in map`,
		},
		{
			name: "unknown kind",
			old:  "kind: Service", new: "kind: Servic",
			want: `document 4: unexpected v1 Servic`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if strings.Count(orig, tc.old) != 1 {
				t.Fatalf("daemonset.yaml has %q %d times, want once", tc.old, strings.Count(orig, tc.old))
			}
			_, err := decodeManifests([]byte(strings.Replace(orig, tc.old, tc.new, 1)))
			if err == nil || err.Error() != tc.want {
				t.Errorf("got error\n%v\nwant\n%s", err, tc.want)
			}
		})
	}
}

// TestDaemonSet checks what the DaemonSet must be: in the host's PID
// namespace, not privileged, with exactly the documented capabilities, its
// probes on the agent's endpoints, its scripts from the ConfigMap.
func TestDaemonSet(t *testing.T) {
	m := loadManifests(t)
	ds := m.daemonSet
	pod := ds.Spec.Template.Spec
	ns := m.namespace.Name
	for what, got := range map[string]string{"ConfigMap": m.configMap.Namespace, "DaemonSet": ds.Namespace, "Service": m.service.Namespace} {
		if got != ns {
			t.Errorf("%s in namespace %q, want %q", what, got, ns)
		}
	}
	sel, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
	if err != nil {
		t.Fatal(err)
	}
	if !sel.Matches(labelSet(ds.Spec.Template.Labels)) {
		t.Errorf("the selector %v does not match the pod template's labels %v", sel, ds.Spec.Template.Labels)
	}
	if !pod.HostPID {
		t.Error("hostPID is not set: the probes' pids and /proc/PID/root would not be the host's")
	}
	if pod.HostNetwork {
		t.Error("hostNetwork is set: it is not needed")
	}
	if len(pod.Tolerations) != 1 || pod.Tolerations[0].Operator != corev1.TolerationOpExists || pod.Tolerations[0].Key != "" {
		t.Errorf("tolerations %+v: want one that tolerates every taint (operator Exists, no key)", pod.Tolerations)
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Containers))
	}
	c := pod.Containers[0]

	sc := c.SecurityContext
	if sc == nil || sc.Capabilities == nil {
		t.Fatal("the container has no securityContext.capabilities")
	}
	if sc.Privileged == nil || *sc.Privileged {
		t.Error("the container must say privileged: false")
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Error("the container must say allowPrivilegeEscalation: false")
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Error("the container must say readOnlyRootFilesystem: true")
	}
	if sc.RunAsUser == nil || *sc.RunAsUser != 0 {
		t.Error("the container must run as uid 0 (tracefs is root's)")
	}
	if !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		t.Errorf("capabilities.drop = %v, want [ALL]", sc.Capabilities.Drop)
	}
	var added []string
	for _, c := range sc.Capabilities.Add {
		added = append(added, "CAP_"+string(c))
	}
	if !slices.Equal(added, documentedCaps) {
		t.Errorf("capabilities.add = %v, want %v", added, documentedCaps)
	}

	if len(c.Args) == 0 || c.Args[0] != "serve" {
		t.Fatalf("args %q: want ktrace serve (the image's entrypoint is ktrace)", c.Args)
	}
	flags := checkServeArgs(t, "DaemonSet args", c.Args[1:])
	if _, ok := flags["--insecure-listen"]; !ok {
		t.Error("no --insecure-listen: a listener on 0.0.0.0 without TLS needs it")
	}
	if flags["--node"] != "$(NODE_NAME)" {
		t.Errorf("--node %q, want $(NODE_NAME)", flags["--node"])
	}
	if env := findEnv(c.Env, "NODE_NAME"); env == nil || env.ValueFrom == nil || env.ValueFrom.FieldRef == nil || env.ValueFrom.FieldRef.FieldPath != "spec.nodeName" {
		t.Errorf("NODE_NAME is not the downward API's spec.nodeName: %+v", env)
	}
	if len(c.Ports) != 1 || c.Ports[0].Name != "metrics" {
		t.Fatalf("ports %+v: want one, named metrics", c.Ports)
	}
	port := c.Ports[0].ContainerPort
	if want := fmt.Sprintf("0.0.0.0:%d", port); flags["--listen"] != want {
		t.Errorf("--listen %q, want %q (the container port)", flags["--listen"], want)
	}
	for _, p := range []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{
		{"liveness", c.LivenessProbe, "/healthz"},
		{"readiness", c.ReadinessProbe, "/readyz"},
		{"startup", c.StartupProbe, "/healthz"},
	} {
		switch {
		case p.probe == nil || p.probe.HTTPGet == nil:
			t.Errorf("no HTTP %s probe", p.name)
		case p.probe.HTTPGet.Path != p.path:
			t.Errorf("%s probe on %s, want %s", p.name, p.probe.HTTPGet.Path, p.path)
		case p.probe.HTTPGet.Port.String() != "metrics":
			t.Errorf("%s probe on port %s, want metrics", p.name, p.probe.HTTPGet.Port.String())
		case p.probe.HTTPGet.Scheme != "" && p.probe.HTTPGet.Scheme != corev1.URISchemeHTTP:
			t.Errorf("%s probe scheme %s: the listener is plain HTTP", p.name, p.probe.HTTPGet.Scheme)
		}
	}
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, lim := c.Resources.Requests[r], c.Resources.Limits[r]
		if req.IsZero() || lim.IsZero() || req.Cmp(lim) > 0 {
			t.Errorf("%s: request %s, limit %s: want both, the request below the limit", r, req.String(), lim.String())
		}
	}

	// The scripts: --scripts is where the ConfigMap is mounted.
	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Volumes {
		volumes[v.Name] = v
	}
	mounts := map[string]corev1.VolumeMount{}
	for _, vm := range c.VolumeMounts {
		mounts[vm.MountPath] = vm
		if !vm.ReadOnly {
			t.Errorf("volume %s is mounted writable at %s", vm.Name, vm.MountPath)
		}
		if _, ok := volumes[vm.Name]; !ok {
			t.Errorf("mount of an undefined volume %s", vm.Name)
		}
	}
	scripts, ok := mounts[flags["--scripts"]]
	if !ok {
		t.Fatalf("--scripts %q is no mount", flags["--scripts"])
	}
	if cm := volumes[scripts.Name].ConfigMap; cm == nil || cm.Name != m.configMap.Name {
		t.Errorf("--scripts %s: volume %s is not the ConfigMap %s", flags["--scripts"], scripts.Name, m.configMap.Name)
	}
	for path, host := range map[string]string{"/sys/kernel/tracing": "/sys/kernel/tracing", "/host/sys/fs/cgroup": "/sys/fs/cgroup"} {
		vm, ok := mounts[path]
		if !ok {
			t.Errorf("nothing mounted at %s", path)
			continue
		}
		if hp := volumes[vm.Name].HostPath; hp == nil || hp.Path != host {
			t.Errorf("%s: volume %s is not the host's %s", path, vm.Name, host)
		}
	}

	// The Service: headless, selects the pods, port metrics, annotated for
	// Prometheus's kubernetes_sd.
	svc := m.service
	if svc.Spec.ClusterIP != corev1.ClusterIPNone {
		t.Errorf("Service clusterIP %q, want None (headless: every pod is scraped)", svc.Spec.ClusterIP)
	}
	if !labelSet(svc.Spec.Selector).AsSelector().Matches(labelSet(ds.Spec.Template.Labels)) {
		t.Errorf("the Service's selector %v does not match the pods' labels %v", svc.Spec.Selector, ds.Spec.Template.Labels)
	}
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Name != "metrics" || svc.Spec.Ports[0].Port != port || svc.Spec.Ports[0].TargetPort.String() != "metrics" {
		t.Errorf("Service ports %+v: want metrics, %d, to the container's metrics port", svc.Spec.Ports, port)
	}
	if a := svc.Annotations; a["prometheus.io/scrape"] != "true" || a["prometheus.io/port"] != fmt.Sprint(port) || a["prometheus.io/path"] != "/metrics" {
		t.Errorf("Service annotations %v: want prometheus.io/scrape true, port %d, path /metrics", a, port)
	}
}

func findEnv(env []corev1.EnvVar, name string) *corev1.EnvVar {
	for i := range env {
		if env[i].Name == name {
			return &env[i]
		}
	}
	return nil
}

// TestConfigMapScripts: the ConfigMap's scripts are deploy/scripts/'s,
// byte for byte, and compile.
func TestConfigMapScripts(t *testing.T) {
	m := loadManifests(t)
	files, err := filepath.Glob(filepath.Join("scripts", "*.bt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no scripts in deploy/scripts")
	}
	for _, f := range files {
		name := filepath.Base(f)
		if got, ok := m.configMap.Data[name]; !ok || got != string(readFile(t, f)) {
			t.Errorf("the ConfigMap's %s differs from %s: copy the file into it", name, f)
		}
	}
	testutil.RequireRoot(t) // compiling reads tracefs and the kernel's BTF
	for name, src := range m.configMap.Data {
		if !strings.HasSuffix(name, ".bt") {
			t.Errorf("ConfigMap key %s: scripts are NAME.bt", name)
			continue
		}
		if _, err := os.Stat(filepath.Join("scripts", name)); err != nil {
			t.Errorf("the ConfigMap's %s is not in deploy/scripts", name)
		}
		if _, err := ktrace.Compile(name, []byte(src), nil); err != nil {
			t.Errorf("%s does not compile: %v", name, err)
		}
	}
}

// serviceMonitor is the part of the Prometheus Operator's ServiceMonitor
// (monitoring.coreos.com/v1) that servicemonitor.yaml uses; the type is
// not in k8s.io/api. Strict decoding into it rejects any other field.
type serviceMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Selector          metav1.LabelSelector `json:"selector"`
		NamespaceSelector struct {
			MatchNames []string `json:"matchNames"`
		} `json:"namespaceSelector"`
		Endpoints []struct {
			Port          string `json:"port"`
			Path          string `json:"path"`
			Scheme        string `json:"scheme"`
			Interval      string `json:"interval"`
			ScrapeTimeout string `json:"scrapeTimeout"`
		} `json:"endpoints"`
	} `json:"spec"`
}

func TestServiceMonitor(t *testing.T) {
	data := readFile(t, filepath.Join("kubernetes", "servicemonitor.yaml"))
	var sm serviceMonitor
	if err := decodeStrict(data, &sm); err != nil {
		t.Fatal(err)
	}
	typo := strings.Replace(string(data), "scrapeTimeout:", "scrapeTimout:", 1)
	err := decodeStrict([]byte(typo), &serviceMonitor{})
	if want := `unknown field "spec.endpoints[0].scrapeTimout"`; err == nil || err.Error() != want {
		t.Errorf("a misspelt field: got %v, want %s", err, want)
	}
	if sm.APIVersion != "monitoring.coreos.com/v1" || sm.Kind != "ServiceMonitor" {
		t.Errorf("%s %s, want monitoring.coreos.com/v1 ServiceMonitor", sm.APIVersion, sm.Kind)
	}
	m := loadManifests(t)
	if sm.Namespace != m.service.Namespace || !slices.Equal(sm.Spec.NamespaceSelector.MatchNames, []string{m.service.Namespace}) {
		t.Errorf("namespace %s, selects %v: want the Service's, %s", sm.Namespace, sm.Spec.NamespaceSelector.MatchNames, m.service.Namespace)
	}
	sel, err := metav1.LabelSelectorAsSelector(&sm.Spec.Selector)
	if err != nil {
		t.Fatal(err)
	}
	if !sel.Matches(labelSet(m.service.Labels)) {
		t.Errorf("selector %v does not match the Service's labels %v", sel, m.service.Labels)
	}
	if len(sm.Spec.Endpoints) != 1 {
		t.Fatalf("%d endpoints, want 1", len(sm.Spec.Endpoints))
	}
	ep := sm.Spec.Endpoints[0]
	if ep.Port != m.service.Spec.Ports[0].Name || ep.Path != "/metrics" || ep.Scheme != "http" {
		t.Errorf("endpoint %+v: want port %s, path /metrics, scheme http", ep, m.service.Spec.Ports[0].Name)
	}
}
