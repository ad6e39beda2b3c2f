package types_test

import "testing"

// TestSameSiteAttachedOnce checks that attach points of one probe that
// resolve to the same site are one point: the body runs once per event.
func TestSameSiteAttachedOnce(t *testing.T) {
	for _, tc := range []struct {
		src    string
		points []string
	}{
		{`kprobe:f, kprobe:f { }`, []string{"kprobe:f"}},
		{`kprobe:f, kprobe:g, kprobe:f { }`, []string{"kprobe:f", "kprobe:g"}},
		{`tracepoint:sched:sched_switch, tracepoint:sched:sched_switch, tracepoint:skb:kfree_skb { }`,
			[]string{"tracepoint:sched:sched_switch", "tracepoint:skb:kfree_skb"}},
	} {
		info, err := check(t, tc.src)
		if err != nil {
			t.Errorf("%s: %v", tc.src, err)
			continue
		}
		var got []string
		for _, pt := range info.Probes[0].Points {
			got = append(got, pt.Name)
		}
		if len(got) != len(tc.points) {
			t.Errorf("%s: points %q, want %q", tc.src, got, tc.points)
			continue
		}
		for i := range got {
			if got[i] != tc.points[i] {
				t.Errorf("%s: points %q, want %q", tc.src, got, tc.points)
				break
			}
		}
	}
}
