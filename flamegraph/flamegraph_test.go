package flamegraph_test

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ktrace/ktrace/flamegraph"
	"github.com/ktrace/ktrace/internal/testutil"
)

var samples = []flamegraph.Sample{
	{Frames: []string{"work", "main", "serve", "compress"}, Count: 60},
	{Frames: []string{"work", "main", "serve", "parse"}, Count: 30},
	{Frames: []string{"work", "main", "serve", "parse"}, Count: 5}, // merges with the line above
	{Frames: []string{"work", "main", "read", "vfs_read_[k]"}, Count: 4},
	{Frames: []string{"sh", "<a&b>"}, Count: 1},
}

func TestFolded(t *testing.T) {
	var b bytes.Buffer
	if err := flamegraph.WriteFolded(&b, append(samples, flamegraph.Sample{Frames: []string{"x;y"}, Count: 2})); err != nil {
		t.Fatal(err)
	}
	want := "sh;<a&b> 1\nwork;main;read;vfs_read_[k] 4\nwork;main;serve;compress 60\nwork;main;serve;parse 35\nx:y 2\n"
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
	back, err := flamegraph.ParseFolded(strings.NewReader(b.String() + "work;main;serve;parse 5\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != 5 || back[3].Count != 40 || strings.Join(back[3].Frames, "/") != "work/main/serve/parse" {
		t.Errorf("parsed back %+v", back)
	}
	if _, err := flamegraph.ParseFolded(strings.NewReader("a;b\n")); err == nil {
		t.Error("a line without a count parsed")
	}
}

// svgFrame is one frame of the SVG as the browser sees it.
type svgFrame struct {
	Title string `xml:"title"`
	Rect  struct {
		X     float64 `xml:"x,attr"`
		Y     float64 `xml:"y,attr"`
		Width float64 `xml:"width,attr"`
		Fill  string  `xml:"fill,attr"`
	} `xml:"rect"`
	Text  string `xml:"text"`
	Depth int    `xml:"data-d,attr"`
}

type svgDoc struct {
	XMLName xml.Name `xml:"svg"`
	Width   int      `xml:"width,attr"`
	Height  float64  `xml:"height,attr"`
	Script  string   `xml:"script"`
	Texts   []struct {
		ID   string `xml:"id,attr"`
		Text string `xml:",chardata"`
	} `xml:"text"`
	Frames struct {
		G []svgFrame `xml:"g"`
	} `xml:"g"`
}

func render(t *testing.T, opts flamegraph.SVGOptions) ([]byte, *svgDoc) {
	t.Helper()
	var b bytes.Buffer
	if err := flamegraph.WriteSVG(&b, samples, opts); err != nil {
		t.Fatal(err)
	}
	var doc svgDoc
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("the SVG is not well-formed XML: %v", err)
	}
	return b.Bytes(), &doc
}

// TestSVGStructure parses the SVG as XML and checks its frames: one per
// node of the merged call tree, titled with name and counts, as wide as
// their share of the samples, names cut to fit.
func TestSVGStructure(t *testing.T) {
	raw, doc := render(t, flamegraph.SVGOptions{Title: "T", Subtitle: "sub"})
	if doc.Width != 1200 {
		t.Errorf("width %d", doc.Width)
	}
	byName := map[string]svgFrame{}
	for _, f := range doc.Frames.G {
		name := f.Title[:strings.LastIndex(f.Title, " (")]
		byName[name] = f
	}
	// all, work, main, serve, compress, parse, read, vfs_read_[k], sh, <a&b>
	if len(doc.Frames.G) != 10 {
		t.Errorf("%d frames, want 10: %v", len(doc.Frames.G), byName)
	}
	const full = 1180.0 // 1200 minus the margins
	total := 100.0
	for name, want := range map[string]struct {
		count float64
		depth int
		title string
	}{
		"all":          {100, 0, "all (100 samples, 100.00%)"},
		"work":         {99, 1, "work (99 samples, 99.00%)"},
		"serve":        {95, 3, "serve (95 samples, 95.00%)"},
		"compress":     {60, 4, "compress (60 samples, 60.00%)"},
		"parse":        {35, 4, "parse (35 samples, 35.00%)"},
		"vfs_read_[k]": {4, 4, "vfs_read_[k] (4 samples, 4.00%)"},
		"<a&b>":        {1, 2, "<a&b> (1 samples, 1.00%)"},
	} {
		f, ok := byName[name]
		if !ok {
			t.Errorf("no frame %q", name)
			continue
		}
		if f.Title != want.title || f.Depth != want.depth {
			t.Errorf("%s: title %q depth %d, want %q depth %d", name, f.Title, f.Depth, want.title, want.depth)
		}
		if w := want.count / total * full; f.Rect.Width < w-0.01 || f.Rect.Width > w+0.01 {
			t.Errorf("%s: width %v, want %v", name, f.Rect.Width, w)
		}
	}
	// Children sit above their parents, callees in name order from the left.
	if byName["compress"].Rect.Y >= byName["serve"].Rect.Y || byName["compress"].Rect.X >= byName["parse"].Rect.X {
		t.Errorf("layout: compress at %+v, parse at %+v, serve at %+v", byName["compress"].Rect, byName["parse"].Rect, byName["serve"].Rect)
	}
	// 11.8 px fits one character: no text. 47.2 px fits 5: "vfs..".
	if byName["<a&b>"].Text != "" || byName["vfs_read_[k]"].Text != "vfs.." || byName["compress"].Text != "compress" {
		t.Errorf("texts %q, %q, %q", byName["<a&b>"].Text, byName["vfs_read_[k]"].Text, byName["compress"].Text)
	}
	if byName["vfs_read_[k]"].Rect.Fill == byName["parse"].Rect.Fill {
		t.Error("kernel frames are not colored apart")
	}
	for _, want := range []string{"function zoom(", "function search(", "Reset Zoom", `id="search"`, `id="details"`} {
		if !bytes.Contains(raw, []byte(want)) {
			t.Errorf("the SVG lacks %s", want)
		}
	}
	if bytes.Contains(raw, []byte("href")) || bytes.Contains(raw, []byte("src=")) || bytes.Contains(raw, []byte("@import")) {
		t.Error("the SVG refers to something outside itself")
	}
}

// TestSVGInChromium renders the SVG in headless Chromium and checks the
// pixels: the frames are drawn, a #search= link colors the matches
// purple (the script ran), and a #zoom= link widens the zoomed frame to
// the whole width.
func TestSVGInChromium(t *testing.T) {
	chromium := testutil.RequireTool(t, "chromium", "chromium")
	raw, doc := render(t, flamegraph.SVGOptions{Title: "ktrace flame graph test"})
	dir := t.TempDir()
	svg := filepath.Join(dir, "fg.svg")
	os.WriteFile(svg, raw, 0o644)
	frame := map[string]svgFrame{}
	for _, f := range doc.Frames.G {
		frame[f.Title[:strings.LastIndex(f.Title, " (")]] = f
	}
	center := func(f svgFrame) (int, int) { return int(f.Rect.X + f.Rect.Width/2), int(f.Rect.Y + 7) }

	shoot := func(name, fragment string) image.Image {
		png := filepath.Join(dir, name+".png")
		cmd := exec.Command(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
			"--disable-component-update", "--disable-sync", "--no-first-run", "--user-data-dir="+t.TempDir(),
			"--screenshot="+png, "--window-size=1200,800", "file://"+svg+fragment)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("chromium: %v\n%s", err, out)
		}
		img := decodePNG(t, png)
		if keep := os.Getenv("KTRACE_SCREENSHOTS"); keep != "" {
			data, _ := os.ReadFile(png)
			os.WriteFile(filepath.Join(keep, "flamegraph-"+name+".png"), data, 0o644)
		}
		return img
	}

	plain := shoot("plain", "")
	for _, name := range []string{"all", "work", "compress", "parse"} {
		x, y := center(frame[name])
		if got, want := rgb(plain.At(x, y)), frame[name].Rect.Fill; got != want {
			t.Errorf("plain: the pixel at %s's center (%d,%d) is %s, want its fill %s", name, x, y, got, want)
		}
	}

	// Zoomed into serve, with parse searched: serve spans the whole
	// width, its children widen with it, parse turns purple, and read
	// (not under serve) is hidden.
	zs := shoot("zoom-search", "#zoom=serve&search=pars")
	serve := frame["serve"]
	for _, x := range []int{11, 600, 1185} {
		if got := rgb(zs.At(x, int(serve.Rect.Y+7))); got != serve.Rect.Fill {
			t.Errorf("zoomed: at x=%d on serve's row the pixel is %s, want %s", x, got, serve.Rect.Fill)
		}
	}
	full := 1180.0
	parseX := 10 + 60.0/95*full + 35.0/95*full/2
	if got := rgb(zs.At(int(parseX), int(frame["parse"].Rect.Y+7))); got != "rgb(230,0,230)" {
		t.Errorf("searched: parse at x=%d is %s, want purple", int(parseX), got)
	}
	if got := rgb(zs.At(300, int(frame["compress"].Rect.Y+7))); got != frame["compress"].Rect.Fill {
		t.Errorf("zoomed: compress at x=300 is %s, want its fill %s", got, frame["compress"].Rect.Fill)
	}
	if x, y := center(frame["read"]); rgb(zs.At(x, y)) == frame["read"].Rect.Fill {
		t.Error("zoomed: read, outside the zoomed frame, is still drawn")
	}
}

func decodePNG(t *testing.T, path string) image.Image {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func rgb(c interface{ RGBA() (r, g, b, a uint32) }) string {
	r, g, b, _ := c.RGBA()
	return fmt.Sprintf("rgb(%s,%s,%s)", strconv.Itoa(int(r>>8)), strconv.Itoa(int(g>>8)), strconv.Itoa(int(b>>8)))
}
