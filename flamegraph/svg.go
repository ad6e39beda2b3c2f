package flamegraph

import (
	"bufio"
	"fmt"
	"hash/fnv"
	"html"
	"io"
	"strconv"
	"strings"
)

// SVGOptions tune WriteSVG.
type SVGOptions struct {
	// Title is the heading; "" means "Flame Graph".
	Title string
	// Subtitle is a second line under the title, e.g. how it was sampled.
	Subtitle string
	// Width is the image width in pixels; zero means 1200.
	Width int
	// FrameHeight is the height of a frame in pixels; zero means 16.
	FrameHeight int
	// FontSize in pixels; zero means 12.
	FontSize float64
	// MinWidth hides frames narrower than this many pixels; zero means
	// 0.1.
	MinWidth float64
	// CountName names what was counted; "" means "samples".
	CountName string
}

// Layout constants, in pixels.
const (
	xPad = 10
	// charWidth is the average width of a character of the font, as a
	// fraction of the font size: what cutting names to fit assumes.
	charWidth = 0.59
)

// KernelSuffix marks kernel frames in folded stacks, as perf's
// stackcollapse does; they are drawn in another color.
const KernelSuffix = "_[k]"

// WriteSVG draws samples as an interactive flame graph: the root at the
// bottom, each frame above its caller, as wide as its share of the
// samples. The SVG is self-contained.
func WriteSVG(w io.Writer, samples []Sample, opts SVGOptions) error {
	if opts.Title == "" {
		opts.Title = "Flame Graph"
	}
	if opts.Width <= 0 {
		opts.Width = 1200
	}
	if opts.FrameHeight <= 0 {
		opts.FrameHeight = 16
	}
	if opts.FontSize <= 0 {
		opts.FontSize = 12
	}
	if opts.MinWidth <= 0 {
		opts.MinWidth = 0.1
	}
	if opts.CountName == "" {
		opts.CountName = "samples"
	}
	root, depth := tree(samples)
	fh, fs := float64(opts.FrameHeight), opts.FontSize
	top := fs * 3
	bottom := fs*2 + 6
	height := top + float64(depth+1)*fh + bottom
	width := float64(opts.Width)
	full := width - 2*xPad

	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	p(`<?xml version="1.0" standalone="no"?>
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">
<svg version="1.1" width="%d" height="%s" viewBox="0 0 %d %s" xmlns="http://www.w3.org/2000/svg" onload="init(evt)">
`, opts.Width, num(height), opts.Width, num(height))
	p(`<defs><linearGradient id="background" y1="0" y2="1" x1="0" x2="0"><stop stop-color="#eeeeee" offset="5%%"/><stop stop-color="#eeeeb0" offset="95%%"/></linearGradient></defs>
<style type="text/css">
text { font-family: Verdana, "DejaVu Sans", sans-serif; font-size: %spx; fill: #000000; }
#title { text-anchor: middle; font-size: %spx; }
#subtitle { text-anchor: middle; fill: #555555; }
#search, #matched, #unzoom { cursor: pointer; }
#search, #matched { text-anchor: end; }
#frames > g { cursor: pointer; }
#frames > g:hover > rect { stroke: #000000; stroke-width: 0.5; }
#frames > g > text { pointer-events: none; }
.hide { display: none; }
.parent { opacity: 0.5; }
</style>
`, num(fs), num(fs+5))
	p("<script type=\"text/ecmascript\"><![CDATA[\n%s\nvar fontSize = %s, fontWidth = %s, xPad = %d, fullWidth = %s, minWidth = %s, total = %d, countName = %q;\n]]></script>\n",
		script, num(fs), num(charWidth), xPad, num(full), num(opts.MinWidth), root.count, opts.CountName)
	p(`<rect x="0" y="0" width="%d" height="%s" fill="url(#background)"/>
<text id="title" x="%s" y="%s">%s</text>
`, opts.Width, num(height), num(width/2), num(fs*1.7), esc(opts.Title))
	if opts.Subtitle != "" {
		p("<text id=\"subtitle\" x=\"%s\" y=\"%s\">%s</text>\n", num(width/2), num(fs*2.8), esc(opts.Subtitle))
	}
	p(`<text id="unzoom" class="hide" x="%d" y="%s">Reset Zoom</text>
<text id="search" x="%s" y="%s">Search</text>
<text id="details" x="%d" y="%s"> </text>
<text id="matched" x="%s" y="%s"> </text>
<g id="frames">
`, xPad, num(fs*1.7), num(width-xPad), num(fs*1.7), xPad, num(height-6), num(width-xPad), num(height-6))

	var draw func(n *node, start uint64, d int)
	draw = func(n *node, start uint64, d int) {
		x := xPad + float64(start)/float64(max(root.count, 1))*full
		fw := float64(n.count) / float64(max(root.count, 1)) * full
		if fw < opts.MinWidth {
			return
		}
		y := height - bottom - float64(d+1)*fh
		pct := 100 * float64(n.count) / float64(max(root.count, 1))
		p(`<g data-s="%d" data-c="%d" data-d="%d"><title>%s (%s %s, %s%%)</title><rect x="%s" y="%s" width="%s" height="%s" fill="%s" rx="2" ry="2"/><text x="%s" y="%s">%s</text></g>
`, start, n.count, d, esc(n.name), commas(n.count), esc(opts.CountName), strconv.FormatFloat(pct, 'f', 2, 64),
			num(x), num(y), num(fw), num(fh-1), color(n.name, d), num(x+3), num(y+fh/2+fs*0.35), esc(fitText(n.name, fw, fs)))
		for _, c := range n.children {
			draw(c, start, d+1)
			start += c.count
		}
	}
	draw(root, 0, 0)
	p("</g>\n</svg>\n")
	return bw.Flush()
}

// fitText cuts a name to the characters that fit a frame of width w,
// ending a cut name with "..", or returns "" when fewer than 3 fit.
func fitText(name string, w, fontSize float64) string {
	chars := int((w - 6) / (fontSize * charWidth))
	if chars < 3 {
		return ""
	}
	r := []rune(name)
	if len(r) <= chars {
		return name
	}
	return string(r[:chars-2]) + ".."
}

// color picks a frame's fill from its name: warm colors for user code,
// orange for kernel frames, green for the command (depth 1), grey for
// the root and unknown frames. The same name always gets the same color.
func color(name string, depth int) string {
	h := fnv.New32a()
	h.Write([]byte(name))
	v := h.Sum32()
	v1, v2, v3 := float64(v&0xff)/255, float64(v>>8&0xff)/255, float64(v>>16&0xff)/255
	var r, g, b float64
	switch {
	case depth == 0:
		r, g, b = 200, 200, 200
	case strings.HasPrefix(name, "[") || strings.HasPrefix(name, "0x"):
		r, g, b = 180+40*v1, 180+40*v1, 180+40*v1
	case strings.HasSuffix(name, KernelSuffix):
		r, g, b = 225+30*v1, 130+60*v2, 30+30*v3
	case depth == 1:
		r, g, b = 90+60*v1, 200+40*v2, 90+60*v3
	default:
		r, g, b = 205+50*v3, 230*v1, 55*v2
	}
	return fmt.Sprintf("rgb(%d,%d,%d)", int(r), int(g), int(b))
}

func esc(s string) string { return html.EscapeString(s) }

// num formats a coordinate with at most two decimals.
func num(f float64) string {
	s := strconv.FormatFloat(f, 'f', 2, 64)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// commas writes a count with thousands separators.
func commas(n uint64) string {
	s := strconv.FormatUint(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// script is the SVG's behavior: hover details, click to zoom into a
// frame (its callers stay visible, dimmed, across the top of the zoomed
// view's width), "Reset Zoom", and "Search" for a regular expression,
// which colors matching frames purple and shows the share of samples in
// them. Ctrl-F searches, Escape clears the search. A URL fragment
// (#zoom=NAME&search=REGEXP) opens the graph zoomed and searched.
const script = `
var details, searchButton, matchedText, unzoomButton, frames, searching = null;
function init(evt) {
	details = document.getElementById("details").firstChild;
	searchButton = document.getElementById("search");
	matchedText = document.getElementById("matched");
	unzoomButton = document.getElementById("unzoom");
	frames = document.getElementById("frames");
	frames.addEventListener("click", function (e) {
		var g = frameOf(e.target);
		if (g) { zoom(g); }
	});
	frames.addEventListener("mouseover", function (e) {
		var g = frameOf(e.target);
		if (g) { details.nodeValue = "Function: " + g.querySelector("title").textContent; }
	});
	frames.addEventListener("mouseout", function () { details.nodeValue = " "; });
	unzoomButton.addEventListener("click", unzoom);
	searchButton.addEventListener("click", function () { if (searching) { resetSearch(); } else { searchPrompt(); } });
	window.addEventListener("keydown", function (e) {
		if (e.keyCode === 114 || (e.ctrlKey && e.keyCode === 70)) { e.preventDefault(); searchPrompt(); }
		else if (e.keyCode === 27) { resetSearch(); }
	});
	// A link can open the graph zoomed and searched: graph.svg#zoom=NAME&search=REGEXP.
	var params = location.hash.substring(1).split("&");
	for (var i = 0; i < params.length; i++) {
		var kv = params[i].split("="), v = decodeURIComponent(kv[1] || "");
		if (kv[0] === "zoom") {
			var all = frames.children;
			for (var j = 0; j < all.length; j++) {
				if (nameOf(all[j]) === v) { zoom(all[j]); break; }
			}
		} else if (kv[0] === "search" && v) {
			search(v);
		}
	}
}
function frameOf(el) {
	while (el && el !== frames) {
		if (el.parentNode === frames) { return el; }
		el = el.parentNode;
	}
	return null;
}
function num(g, a) { return parseFloat(g.getAttribute("data-" + a)); }
function nameOf(g) {
	var t = g.querySelector("title").textContent;
	return t.substring(0, t.lastIndexOf(" ("));
}
function place(g, x, w) {
	var rect = g.querySelector("rect"), text = g.querySelector("text");
	rect.setAttribute("x", x);
	rect.setAttribute("width", w);
	text.setAttribute("x", x + 3);
	var name = nameOf(g), chars = Math.floor((w - 6) / (fontSize * fontWidth));
	text.textContent = chars < 3 ? "" : (name.length <= chars ? name : name.substring(0, chars - 2) + "..");
}
function zoom(target) {
	var s = num(target, "s"), c = num(target, "c"), d = num(target, "d");
	var all = frames.children;
	for (var i = 0; i < all.length; i++) {
		var g = all[i], gs = num(g, "s"), gc = num(g, "c"), gd = num(g, "d");
		g.classList.remove("parent");
		if (gd < d && gs <= s && gs + gc >= s + c) {
			g.classList.remove("hide");
			g.classList.add("parent");
			place(g, xPad, fullWidth);
		} else if (gd >= d && gs >= s && gs + gc <= s + c) {
			var w = gc / c * fullWidth;
			if (w < minWidth) { g.classList.add("hide"); continue; }
			g.classList.remove("hide");
			place(g, xPad + (gs - s) / c * fullWidth, w);
		} else {
			g.classList.add("hide");
		}
	}
	unzoomButton.classList.toggle("hide", d === 0);
}
function unzoom() {
	zoom(frames.querySelector("g[data-d='0']"));
}
function searchPrompt() {
	var term = prompt("Search for frames matching this regular expression", searching || "");
	if (term) { search(term); }
}
function search(term) {
	var re;
	try { re = new RegExp(term); } catch (err) { alert(err); return; }
	var all = frames.children, spans = [];
	for (var i = 0; i < all.length; i++) {
		var g = all[i], rect = g.querySelector("rect");
		if (!rect.hasAttribute("data-fill")) { rect.setAttribute("data-fill", rect.getAttribute("fill")); }
		if (re.test(nameOf(g))) {
			rect.setAttribute("fill", "rgb(230,0,230)");
			spans.push([num(g, "s"), num(g, "s") + num(g, "c")]);
		} else {
			rect.setAttribute("fill", rect.getAttribute("data-fill"));
		}
	}
	// Matching frames may nest: count every sample once.
	spans.sort(function (a, b) { return a[0] - b[0]; });
	var matched = 0, end = -1;
	for (var j = 0; j < spans.length; j++) {
		var lo = Math.max(spans[j][0], end), hi = spans[j][1];
		if (hi > lo) { matched += hi - lo; }
		end = Math.max(end, hi);
	}
	searching = term;
	searchButton.textContent = "Reset Search";
	matchedText.textContent = "Matched: " + (100 * matched / total).toFixed(1) + "%";
}
function resetSearch() {
	var all = frames.querySelectorAll("rect[data-fill]");
	for (var i = 0; i < all.length; i++) { all[i].setAttribute("fill", all[i].getAttribute("data-fill")); }
	searching = null;
	searchButton.textContent = "Search";
	matchedText.textContent = " ";
}
`
