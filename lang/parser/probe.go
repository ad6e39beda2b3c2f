package parser

import (
	"github.com/ktrace/ktrace/lang"
	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/scanner"
)

// probe := attach {',' attach} ['/' expr '/'] block
func (p *parser) probe() *ast.Probe {
	start := p.tok.Pos
	pr := &ast.Probe{AttachPoints: p.attachPoints()}
	if p.is("/") {
		pr.Predicate = p.predicate()
	}
	if !p.is("{") {
		p.errorf(p.tok.Pos, p.tok.End, "expected '{' to start the probe's action block, found %s", p.tok.Describe())
		p.syncTopLevel()
		pr.Body = &ast.Block{Sp: lang.Span{Pos: p.tok.Pos, End: p.tok.Pos}}
		pr.Sp = p.span(start)
		return pr
	}
	pr.Body = p.block()
	pr.Sp = p.span(start)
	return pr
}

// attachPoints := attach {',' attach}
//
// Attach points have a lexical syntax of their own (kprobe:vfs_*,
// uprobe:/bin/sh:main), so the scanner rescans each one's text.
func (p *parser) attachPoints() []*ast.AttachPoint {
	var aps []*ast.AttachPoint
	// The current token was scanned as an ordinary token; rescan its
	// text as an attach point.
	p.sc.Reset(p.file.Offset(p.tok.Pos))
	for {
		ap := p.sc.AttachPoint()
		if ap.Kind != scanner.Attach {
			p.next()
			p.errorf(p.tok.Pos, p.tok.End, "expected an attach point, found %s", p.tok.Describe())
			break
		}
		raw := ap.Text
		// bpftrace accepts an optional `name=` label before the provider.
		aps = append(aps, &ast.AttachPoint{Sp: lang.Span{Pos: ap.Pos, End: ap.End}, Raw: raw})
		p.next()
		if !p.is(",") {
			break
		}
		// The comma was scanned as an ordinary token; the next attach
		// point starts right after it.
		p.sc.Reset(p.file.Offset(p.tok.End))
	}
	return aps
}

// predicate := '/' expr '/'
func (p *parser) predicate() ast.Expr {
	p.next()
	p.inPredicate = true
	x := p.expr()
	p.inPredicate = false
	if !p.is("/") {
		p.errorf(p.tok.Pos, p.tok.End, "expected '/' to end the predicate, found %s", p.tok.Describe())
	} else {
		p.next()
	}
	return x
}

// syncTopLevel skips to the end of the current probe after a header error.
func (p *parser) syncTopLevel() {
	for p.tok.Kind != scanner.EOF && !p.is("{") {
		p.next()
	}
	if p.is("{") {
		p.block()
	}
}
