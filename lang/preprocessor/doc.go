// Package preprocessor runs the C preprocessor's part of a bpftrace script
// without a C compiler: conditional inclusion (#if, #ifdef, #ifndef, #elif,
// #else, #endif with defined() and integer expressions), #define and #undef
// of object-like and simple function-like macros, #include and #error.
//
// It sits between lang/scanner and lang/parser. Process reads the file
// once, line by line, and returns the text the scanner should read: the
// file with its comments, directive lines and skipped branches replaced by
// spaces. Nothing moves, so every token keeps the line and column it has in
// the file the user wrote, and errors point into that file. Macros are
// expanded later, token by token, by an Expander that the parser reads from
// instead of the bare scanner.
//
// No header is read. Types come from kernel BTF or from C definitions in
// the script; a header only contributes the few ABI constants that scripts
// take from it and that BTF does not carry, such as AF_INET from
// <sys/socket.h> (headers.go). That is the one place where ktrace differs
// from bpftrace, which runs clang over the script.
package preprocessor
